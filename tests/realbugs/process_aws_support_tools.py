# awslabs/aws-support-tools: "Changed ThreadPoolExecutor to use a with statement as per
# python docs" https://github.com/awslabs/aws-support-tools/pull/69 (issue #68,
# commit 5016cce)
# Family: process (LKL5, an executor). The SES mailer Lambda created a
# ThreadPoolExecutor, submitted one send per CSV row (building each message could
# raise) and called e.shutdown() after the loop, inside a try whose except re-raised:
# any exception skipped the shutdown, and the warm Lambda kept accumulating threads
# until it hit its limit. The fix uses the executor as a context manager. (The real
# handler also reuses the name `e` for the exception.)
import concurrent.futures
import csv
import io


def mime_email(subject, from_address, to_address, text, html):
    if not to_address:
        raise ValueError("no recipient")
    return f"{subject}\n{from_address}\n{to_address}\n{text or html}"


def send_mail(from_address, to_address, message):
    return from_address, to_address, message


# Before the fix.
def lambda_handler(event, context):
    max_threads = int(event.get("max_threads", 10))
    try:
        reader = csv.DictReader(io.StringIO(event["csv"]))
        text, html = event.get("text"), event.get("html")
        if not text and not html:
            raise ValueError("Cannot continue without a text or html message file.")

        # Send in parallel using several threads
        e = concurrent.futures.ThreadPoolExecutor(max_workers=max_threads)  # expect: process@aws
        for row in reader:
            from_address = row["from_address"].strip()
            to_address = row["to_address"].strip()
            subject = row["subject"].strip()
            message = mime_email(subject, from_address, to_address, text, html)
            e.submit(send_mail, from_address, to_address, message)
        e.shutdown()
    except Exception as e:
        print(str(e) + " Aborting...")
        raise e


# After the fix.
def lambda_handler_fixed(event, context):
    max_threads = int(event.get("max_threads", 10))
    try:
        reader = csv.DictReader(io.StringIO(event["csv"]))
        text, html = event.get("text"), event.get("html")
        if not text and not html:
            raise ValueError("Cannot continue without a text or html message file.")

        # Send in parallel using several threads
        with concurrent.futures.ThreadPoolExecutor(max_workers=max_threads) as e:
            for row in reader:
                from_address = row["from_address"].strip()
                to_address = row["to_address"].strip()
                subject = row["subject"].strip()
                message = mime_email(subject, from_address, to_address, text, html)
                e.submit(send_mail, from_address, to_address, message)
    except Exception as e:
        print(str(e) + " Aborting...")
        raise e

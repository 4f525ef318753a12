# apache/airflow: "SMTP connection in email utils has no default timeout which causes
# the connection to hang indefinitely if it can't reach the SMTP server."
# https://github.com/apache/airflow/issues/10122 (fixed by
# https://github.com/apache/airflow/pull/12801)
# Family: timeout (LKL4). send_mime_email built the client with a conditional
# expression, smtplib.SMTP_SSL(host, port) if ssl else smtplib.SMTP(host, port), neither
# with a timeout: an unreachable server hung the task's failure e-mail for 40+ minutes.
# The fix reads a timeout from the configuration and passes it to both constructors.
import smtplib


class SmtpConf:
    def __init__(self, values):
        self.values = values

    def get(self, key, fallback=None):
        return self.values.get(key, fallback)


# Before the fix.
def send_mime_email(e_from, e_to, mime_msg, conf, dryrun=False):
    smtp_host = conf.get("SMTP_HOST")
    smtp_port = int(conf.get("SMTP_PORT", 25))
    smtp_starttls = conf.get("SMTP_STARTTLS", False)
    smtp_ssl = conf.get("SMTP_SSL", False)
    smtp_user = conf.get("SMTP_USER")
    smtp_password = conf.get("SMTP_PASSWORD")

    if not dryrun:
        s = smtplib.SMTP_SSL(smtp_host, smtp_port) if smtp_ssl else smtplib.SMTP(smtp_host, smtp_port)  # expect: timeout@airflow
        if smtp_starttls:
            s.starttls()
        if smtp_user and smtp_password:
            s.login(smtp_user, smtp_password)
        s.sendmail(e_from, e_to, mime_msg.as_string())
        s.quit()


# After the fix.
def send_mime_email_fixed(e_from, e_to, mime_msg, conf, dryrun=False):
    smtp_host = conf.get("SMTP_HOST")
    smtp_port = int(conf.get("SMTP_PORT", 25))
    smtp_starttls = conf.get("SMTP_STARTTLS", False)
    smtp_ssl = conf.get("SMTP_SSL", False)
    smtp_user = conf.get("SMTP_USER")
    smtp_password = conf.get("SMTP_PASSWORD")
    smtp_timeout = int(conf.get("SMTP_TIMEOUT", 30))

    if not dryrun:
        s = (
            smtplib.SMTP_SSL(smtp_host, smtp_port, timeout=smtp_timeout)
            if smtp_ssl
            else smtplib.SMTP(smtp_host, smtp_port, timeout=smtp_timeout)
        )
        if smtp_starttls:
            s.starttls()
        if smtp_user and smtp_password:
            s.login(smtp_user, smtp_password)
        s.sendmail(e_from, e_to, mime_msg.as_string())
        s.quit()

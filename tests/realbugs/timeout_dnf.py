# rpm-software-management/dnf: "automatic: set a timeout for EmailEmitter SMTP connections"
# https://github.com/rpm-software-management/dnf/pull/1229 (commit aa71348c8;
# https://bugzilla.redhat.com/show_bug.cgi?id=1627909)
# Family: timeout (LKL4). dnf-automatic's e-mail emitter opened smtplib.SMTP(host) from
# its configuration inside a try that only caught SMTPException: a server that accepted
# the connection and never answered left dnf-automatic processes stuck on Fedora infra.
# The fix passes timeout=300.
import email.utils
import logging
import smtplib
from email.mime.text import MIMEText

logger = logging.getLogger("dnf.automatic")


class EmailConf:
    email_host = "localhost"
    email_from = "root"
    email_to = ["root"]


# Before the fix.
class EmailEmitter:
    def __init__(self, conf):
        self._conf = conf

    def commit(self, subj, body):
        message = MIMEText(body)
        email_from = self._conf.email_from
        email_to = self._conf.email_to
        message["Date"] = email.utils.formatdate()
        message["From"] = email_from
        message["Subject"] = subj
        message["To"] = ",".join(email_to)

        try:
            smtp = smtplib.SMTP(self._conf.email_host)  # expect: timeout@dnf
            smtp.sendmail(email_from, email_to, message.as_string())
            smtp.close()
        except smtplib.SMTPException as exc:
            logger.error("Failed to send an email via '%s': %s", self._conf.email_host, exc)


# After the fix.
class EmailEmitterFixed:
    def __init__(self, conf):
        self._conf = conf

    def commit(self, subj, body):
        message = MIMEText(body)
        email_from = self._conf.email_from
        email_to = self._conf.email_to
        message["Date"] = email.utils.formatdate()
        message["From"] = email_from
        message["Subject"] = subj
        message["To"] = ",".join(email_to)

        try:
            smtp = smtplib.SMTP(self._conf.email_host, timeout=300)
            smtp.sendmail(email_from, email_to, message.as_string())
            smtp.close()
        except smtplib.SMTPException as exc:
            logger.error("Failed to send an email via '%s': %s", self._conf.email_host, exc)

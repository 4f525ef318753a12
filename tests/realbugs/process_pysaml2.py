# IdentityPython/pysaml2: "Wait until xmlsec program completes to avoid zombies"
# https://github.com/IdentityPython/pysaml2/pull/318 (commit dc996f87)
# Family: process (LKL5). The xmlsec1 backend ran Popen(com_list, stderr=PIPE,
# stdout=PIPE), read the pipes and returned (or checked pof.returncode, which stays None
# until someone waits) without ever waiting: each call left a zombie until the Popen
# object was collected. The fix calls pof.wait() after reading.
from subprocess import PIPE, Popen
from tempfile import NamedTemporaryFile


class XmlsecError(Exception):
    pass


def parse_xmlsec_output(output):
    if "FAIL" in output:
        raise XmlsecError(output)
    return True


# Before the fix.
class CryptoBackendXmlSec1:
    def __init__(self, xmlsec_binary, delete_tmpfiles=True):
        self.xmlsec = xmlsec_binary
        self._xmlsec_delete_tmpfiles = delete_tmpfiles

    def version(self):
        com_list = [self.xmlsec, "--version"]
        pof = Popen(com_list, stderr=PIPE, stdout=PIPE)  # expect: process@pysaml2
        content = pof.stdout.read().decode("ascii")
        try:
            return content.split(" ")[1]
        except IndexError:
            return ""

    def _run_xmlsec(self, com_list, extra_args, validate_output=True, exception=XmlsecError):
        ntf = NamedTemporaryFile(suffix=".xml", delete=self._xmlsec_delete_tmpfiles)
        com_list.extend(["--output", ntf.name])
        com_list += extra_args

        pof = Popen(com_list, stderr=PIPE, stdout=PIPE)  # expect: process@pysaml2

        p_out = pof.stdout.read().decode("utf-8")
        p_err = pof.stderr.read().decode("utf-8")

        if pof.returncode is not None and pof.returncode < 0:
            raise exception("%d:%s" % (pof.returncode, p_err))

        if validate_output:
            parse_xmlsec_output(p_err)

        ntf.seek(0)
        return p_out, p_err, ntf.read()


# After the fix.
class CryptoBackendXmlSec1Fixed:
    def __init__(self, xmlsec_binary, delete_tmpfiles=True):
        self.xmlsec = xmlsec_binary
        self._xmlsec_delete_tmpfiles = delete_tmpfiles

    def version(self):
        com_list = [self.xmlsec, "--version"]
        pof = Popen(com_list, stderr=PIPE, stdout=PIPE)
        content = pof.stdout.read().decode("ascii")
        pof.wait()
        try:
            return content.split(" ")[1]
        except IndexError:
            return ""

    def _run_xmlsec(self, com_list, extra_args, validate_output=True, exception=XmlsecError):
        ntf = NamedTemporaryFile(suffix=".xml", delete=self._xmlsec_delete_tmpfiles)
        com_list.extend(["--output", ntf.name])
        com_list += extra_args

        pof = Popen(com_list, stderr=PIPE, stdout=PIPE)

        p_out = pof.stdout.read().decode("utf-8")
        p_err = pof.stderr.read().decode("utf-8")
        pof.wait()

        if pof.returncode is not None and pof.returncode < 0:
            raise exception("%d:%s" % (pof.returncode, p_err))

        if validate_output:
            parse_xmlsec_output(p_err)

        ntf.seek(0)
        return p_out, p_err, ntf.read()

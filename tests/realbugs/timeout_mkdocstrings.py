# mkdocstrings/mkdocstrings: "fix: add timeout to urlopen"
# https://github.com/mkdocstrings/mkdocstrings/pull/820 (issue #819, commit 1729104)
# Family: timeout (LKL4). The inventory downloader opened `with
# urllib.request.urlopen(req) as resp:` without a timeout, so a blackholed URL left the
# docs build apparently hanging for the OS's connect timeout or longer. The fix passes a
# module constant, _TIMEOUT = 10.
import gzip
import urllib.request

_TIMEOUT = 10


def _extract_auth_from_url(url):
    return url, {}


# Before the fix.
def _download_url_with_gz(url):
    url, auth_header = _extract_auth_from_url(url)
    req = urllib.request.Request(
        url,
        headers={"Accept-Encoding": "gzip", "User-Agent": "mkdocstrings", **auth_header},
    )
    with urllib.request.urlopen(req) as resp:  # expect: timeout@mkdocstrings
        content = resp
        if "gzip" in resp.headers.get("content-encoding", ""):
            content = gzip.GzipFile(fileobj=resp)
        return content.read()


# After the fix.
def _download_url_with_gz_fixed(url):
    url, auth_header = _extract_auth_from_url(url)
    req = urllib.request.Request(
        url,
        headers={"Accept-Encoding": "gzip", "User-Agent": "mkdocstrings", **auth_header},
    )
    with urllib.request.urlopen(req, timeout=_TIMEOUT) as resp:
        content = resp
        if "gzip" in resp.headers.get("content-encoding", ""):
            content = gzip.GzipFile(fileobj=resp)
        return content.read()

# python-twitter-tools/twitter: "--follow-redirects hangs indefinitely on certain urls"
# https://github.com/python-twitter-tools/twitter/pull/216 (commit e107d20)
# Family: timeout (LKL4). follow_redirects() imported urllib.request *as urllib2* (with
# a Python 2 fallback), built an opener with urllib2.build_opener(handler) and called
# opener.open(req) inside contextlib.closing(...) with no timeout: hosts that never
# answered hung the command. The fix passes timeout=1 and catches socket.timeout.
import contextlib
import socket

try:
    import urllib.parse as urlparse
    import urllib.request as urllib2
except ImportError:
    import urllib2
    import urlparse


def _redirect_handler(follow):
    class RedirectHandler(urllib2.HTTPRedirectHandler):
        def __init__(self):
            self.last_url = None

        def redirect_request(self, req, fp, code, msg, hdrs, newurl):
            self.last_url = newurl
            if not follow(newurl):
                return None
            r = urllib2.HTTPRedirectHandler.redirect_request(self, req, fp, code, msg, hdrs, newurl)
            r.get_method = lambda: "HEAD"
            return r
    return RedirectHandler()


# Before the fix.
def follow_redirects(link, sites=None):
    def follow(url):
        return sites is None or urlparse.urlparse(url).hostname in sites

    if not follow(link):
        return link
    redirect_handler = _redirect_handler(follow)
    opener = urllib2.build_opener(redirect_handler)
    req = urllib2.Request(link)
    req.get_method = lambda: "HEAD"
    try:
        with contextlib.closing(opener.open(req)) as site:  # expect: timeout@twitter
            return site.url
    except (urllib2.HTTPError, urllib2.URLError):
        return redirect_handler.last_url if redirect_handler.last_url else link


# After the fix.
def follow_redirects_fixed(link, sites=None):
    def follow(url):
        return sites is None or urlparse.urlparse(url).hostname in sites

    if not follow(link):
        return link
    redirect_handler = _redirect_handler(follow)
    opener = urllib2.build_opener(redirect_handler)
    req = urllib2.Request(link)
    req.get_method = lambda: "HEAD"
    try:
        with contextlib.closing(opener.open(req, timeout=1)) as site:
            return site.url
    except (urllib2.HTTPError, urllib2.URLError, socket.timeout):
        return redirect_handler.last_url if redirect_handler.last_url else link

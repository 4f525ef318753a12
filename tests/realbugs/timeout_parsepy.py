# milesrichardson/ParsePy: "Add timeout to urlopen"
# https://github.com/milesrichardson/ParsePy/pull/51 (commit 8268c9f)
# Family: timeout (LKL4). The REST client imported urlopen through six.moves, built a
# Request in a classmethod and called urlopen(request) in a try that only caught
# HTTPError: the connection sometimes hung forever in the SSL handshake. The fix passes
# timeout=CONNECTION_TIMEOUT (60).
import json

from six.moves.urllib.error import HTTPError
from six.moves.urllib.parse import urlencode
from six.moves.urllib.request import Request, urlopen

API_ROOT = "https://api.parse.com/1"
ACCESS_KEYS = {}
CONNECTION_TIMEOUT = 60


class ParseError(Exception):
    pass


def build_request(cls, uri, http_verb, extra_headers, kw):
    headers = extra_headers or {}
    url = uri if uri.startswith(API_ROOT) else cls.ENDPOINT_ROOT + uri
    data = kw and json.dumps(kw) or "{}"
    if http_verb == "GET" and data:
        url += "?%s" % urlencode(kw)
        data = None
    else:
        data = data.encode("utf-8")
    request = Request(url, data, headers)
    request.add_header("Content-type", "application/json")
    request.add_header("X-Parse-Application-Id", ACCESS_KEYS.get("app_id"))
    request.get_method = lambda: http_verb
    return request


# Before the fix.
class ParseBase:
    ENDPOINT_ROOT = API_ROOT

    @classmethod
    def execute(cls, uri, http_verb, extra_headers=None, **kw):
        request = build_request(cls, uri, http_verb, extra_headers, kw)
        try:
            response = urlopen(request)  # expect: timeout@parsepy
        except HTTPError as e:
            raise ParseError(e.read())
        return json.loads(response.read().decode("utf-8"))


# After the fix.
class ParseBaseFixed:
    ENDPOINT_ROOT = API_ROOT

    @classmethod
    def execute(cls, uri, http_verb, extra_headers=None, **kw):
        request = build_request(cls, uri, http_verb, extra_headers, kw)
        try:
            response = urlopen(request, timeout=CONNECTION_TIMEOUT)
        except HTTPError as e:
            raise ParseError(e.read())
        return json.loads(response.read().decode("utf-8"))

# geopython/OWSLib: "Add timeout to urlopen calls"
# https://github.com/geopython/OWSLib/pull/136 (merge 4a03fa4a)
# Family: timeout (LKL4). The WFS client's capabilities reader and service called
# urlopen(...) on a URL built by a helper method, with no timeout; an unresponsive
# server (the PR names one) hung the caller. The fix adds a timeout=30 parameter and
# passes it down. (The real module imported urlopen from Python 2's urllib2.)
from urllib.parse import urlencode
from urllib.request import urlopen
from xml.etree import ElementTree as etree


class WFSCapabilitiesReader:
    def __init__(self, version="1.0"):
        self.version = version

    def capabilities_url(self, service_url):
        qs = [("service", "WFS"), ("request", "GetCapabilities"), ("version", self.version)]
        return service_url.split("?")[0] + "?" + urlencode(tuple(qs))


# Before the fix.
class CapabilitiesReader(WFSCapabilitiesReader):
    def read(self, url):
        """Get and parse a WFS capabilities document."""
        request = self.capabilities_url(url)
        u = urlopen(request)  # expect: timeout@owslib
        return etree.fromstring(u.read())


class WebFeatureService:
    def __init__(self, url, version="1.0"):
        self.url = url
        self.version = version

    def getcapabilities(self):
        """Request and return the capabilities document as a file-like object."""
        reader = WFSCapabilitiesReader(self.version)
        return urlopen(reader.capabilities_url(self.url))  # expect: timeout@owslib


# After the fix.
class CapabilitiesReaderFixed(WFSCapabilitiesReader):
    def read(self, url, timeout=30):
        """Get and parse a WFS capabilities document."""
        request = self.capabilities_url(url)
        u = urlopen(request, timeout=timeout)
        return etree.fromstring(u.read())


class WebFeatureServiceFixed:
    def __init__(self, url, version="1.0"):
        self.url = url
        self.version = version

    def getcapabilities(self, timeout=30):
        """Request and return the capabilities document as a file-like object."""
        reader = WFSCapabilitiesReader(self.version)
        return urlopen(reader.capabilities_url(self.url), timeout=timeout)

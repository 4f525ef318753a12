"""leaklint: find leak-prone concurrency in Python before it ships."""

__version__ = "0.1.0"

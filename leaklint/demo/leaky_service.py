"""A small service with the leaks leaklint exists to catch. `leaklint leaklint/demo`."""
import asyncio
import queue
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import requests


def download(url):
    return requests.get(url).text  # no timeout: can hang forever


def fetch_all(urls):
    for url in urls:
        threading.Thread(target=download, args=(url,)).start()  # never joined


MIRRORS = ("https://a.example", "https://b.example", "https://c.example")


def first_answer(path):
    """Go's fetchAll: ask every mirror, keep the first answer."""
    results = queue.Queue(maxsize=1)

    def fetch(mirror):
        results.put(download(mirror + path))  # the third producer blocks forever

    for mirror in MIRRORS:
        threading.Thread(target=fetch, args=(mirror,), daemon=True).start()
    return results.get()


def convert(paths):
    pool = ThreadPoolExecutor(max_workers=4)  # never shut down
    return list(pool.map(str.upper, paths))


def play(path):
    subprocess.Popen(["aplay", path])  # never waited: a zombie when it exits


async def audit(event):
    await asyncio.sleep(0)


async def handle(event):
    asyncio.create_task(audit(event))  # dropped: may be garbage-collected mid-flight


class Heartbeat:
    def start(self):
        self._thread = threading.Thread(target=self.beat)
        self._thread.start()  # no method of the class ever joins it

    def beat(self):
        pass


class CleanHeartbeat:
    """The same, done right: joined in stop()."""

    def start(self):
        self._thread = threading.Thread(target=self.beat)
        self._thread.start()

    def beat(self):
        pass

    def stop(self):
        self._thread.join()

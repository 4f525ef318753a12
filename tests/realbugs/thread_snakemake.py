# snakemake/snakemake: "fix: leak of benchmark monitor threads"
# https://github.com/snakemake/snakemake/pull/4259 (commit d37852e01)
# Family: thread (LKL1). The benchmarked() context manager started a periodic monitor
# (a class that re-arms a timer thread on every tick), yielded to the job body and
# cancelled the monitor after the yield, with no try/finally: a job body that raised
# skipped the cancel and the monitor lived for the rest of the process. The fix cancels
# in a finally. (The real monitor's timer is a daemon Thread subclass; here a plain
# threading.Timer, so the leak is not excused as a daemon.)
import contextlib
import os
import threading
import time


class UsageRecord:
    running_time = None


def sample_usage(pid, record):
    return pid, record


class PeriodicSampler:
    """Samples a process every `interval` seconds on a timer thread it re-arms."""

    def __init__(self, pid, record, interval):
        self.pid = pid
        self.record = record
        self.interval = interval
        self._timer = None

    def start(self):
        self._arm()

    def _arm(self):
        self._timer = threading.Timer(self.interval, self._tick)
        self._timer.start()

    def _tick(self):
        sample_usage(self.pid, self.record)
        self._arm()

    def cancel(self):
        if self._timer is not None:
            self._timer.cancel()


# Before the fix.
@contextlib.contextmanager
def measured(pid=None, record=None, interval=30):
    record = record or UsageRecord()
    if pid is False:
        yield record
    else:
        started = time.time()
        sampler = PeriodicSampler(int(pid or os.getpid()), record, interval)  # expect: thread@snakemake
        sampler.start()  # expect: thread@snakemake
        yield record
        sampler.cancel()  # expect: thread@snakemake
        record.running_time = time.time() - started


# After the fix.
@contextlib.contextmanager
def measured_fixed(pid=None, record=None, interval=30):
    record = record or UsageRecord()
    if pid is False:
        yield record
    else:
        started = time.time()
        sampler = PeriodicSampler(int(pid or os.getpid()), record, interval)
        sampler.start()
        try:
            yield record
        finally:
            sampler.cancel()
            record.running_time = time.time() - started

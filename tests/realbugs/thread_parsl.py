# Parsl/parsl: "Ensure timer.cancel() is always called"
# https://github.com/Parsl/parsl/pull/2775 (issue #2774, commit 9912399ad)
# Family: thread (LKL1). A timeout decorator's wrapper started a threading.Timer, called
# the wrapped function and cancelled the timer afterwards: when the function raised, the
# cancel was skipped and the timer fired later into whatever the thread ran next. The fix
# is a Timer subclass used as a context manager that cancels on exit.
import functools
import threading


def raise_in_thread(thread_id):
    return thread_id


# Before the fix.
def timeout(f, seconds):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        thread = threading.current_thread().ident
        timer = threading.Timer(seconds, raise_in_thread, args=[thread])  # expect: thread@parsl
        timer.start()  # expect: thread@parsl
        result = f(*args, **kwargs)
        timer.cancel()  # expect: thread@parsl
        return result
    return wrapper


# After the fix.
class AutoCancelTimer(threading.Timer):
    """A Timer that starts on entering a with block and is cancelled on leaving it."""

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.cancel()


def timeout_fixed(f, seconds):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        thread = threading.current_thread().ident
        with AutoCancelTimer(seconds, raise_in_thread, args=[thread]):
            return f(*args, **kwargs)
    return wrapper

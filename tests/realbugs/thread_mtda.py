# siemens/mtda: "mtda/main: Stop self._session_timer thread before exiting"
# https://github.com/siemens/mtda/pull/94 (commit d32725a)
# Family: thread (LKL1). The server's start() kept a repeating timer (a threading.Timer
# subclass that re-runs until cancelled) on self and never cancelled it: Ctrl+C left the
# interpreter waiting on the non-daemon timer thread at shutdown. The fix cancels it from
# a SIGINT handler defined in start().
import signal
import threading


class RepeatTimer(threading.Timer):
    def run(self):
        while not self.finished.wait(self.interval):
            self.function(*self.args, **self.kwargs)


# Before the fix.
class DeviceAccess:
    def __init__(self):
        self._session_timer = None
        self._sessions = {}

    def start(self):
        self._sessions.clear()
        self._session_timer = RepeatTimer(60, self._session_check)  # expect: thread@mtda
        self._session_timer.start()  # expect: thread@mtda
        return True

    def _session_check(self, session=None):
        return session in self._sessions


# After the fix.
class DeviceAccessFixed:
    def __init__(self):
        self._session_timer = None
        self._sessions = {}

    def start(self):
        self._sessions.clear()
        self._session_timer = RepeatTimer(60, self._session_check)
        self._session_timer.start()

        # Stop the timer thread on Ctrl+C.
        def signal_handler(signum, frame):
            print("Exiting ...")
            self._session_timer.cancel()

        signal.signal(signal.SIGINT, signal_handler)
        return True

    def _session_check(self, session=None):
        return session in self._sessions

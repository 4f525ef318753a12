# PrefectHQ/prefect: "Stop leaking watcher-thread timeout enforcers"
# https://github.com/PrefectHQ/prefect/pull/22817 (commit d4bce246c8)
# Family: thread (LKL1). A cancel scope started a timeout-enforcer thread in __enter__
# (kept on self) and joined it in __exit__ only after the base class's __exit__, which
# can raise (the enforcer injects an exception at an arbitrary instruction): the join
# was skipped and the enforcer leaked. The fix moves the join into a finally.
import threading


class CancelScope:
    def __init__(self, name=None, timeout=None):
        self.name = name
        self.timeout = timeout

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if exc_info[0] is not None and self.timeout is None:
            raise RuntimeError("scope failed")
        return False


# Before the fix.
class WatcherThreadScope(CancelScope):
    def __enter__(self):
        super().__enter__()
        self._event = threading.Event()
        self._enforcer_thread = None
        if self.timeout is not None:
            name = self.name or f"for scope {hex(id(self))}"
            self._enforcer_thread = threading.Thread(  # expect: thread@prefect
                target=self._timeout_enforcer,  # expect: thread@prefect
                name=f"timeout-watcher {name} {self.timeout:.2f}",  # expect: thread@prefect
            )  # expect: thread@prefect
            self._enforcer_thread.start()  # expect: thread@prefect
        return self

    def __exit__(self, *exc_info):
        retval = super().__exit__(*exc_info)
        self._event.set()
        if self._enforcer_thread:
            self._enforcer_thread.join()  # expect: thread@prefect
        return retval

    def _timeout_enforcer(self):
        self._event.wait(self.timeout)


# After the fix.
class WatcherThreadScopeFixed(CancelScope):
    def __enter__(self):
        super().__enter__()
        self._event = threading.Event()
        self._enforcer_thread = None
        if self.timeout is not None:
            name = self.name or f"for scope {hex(id(self))}"
            self._enforcer_thread = threading.Thread(
                target=self._timeout_enforcer,
                name=f"timeout-watcher {name} {self.timeout:.2f}",
            )
            self._enforcer_thread.start()
        return self

    def __exit__(self, *exc_info):
        try:
            retval = super().__exit__(*exc_info)
        finally:
            self._event.set()
            if self._enforcer_thread:
                self._enforcer_thread.join()
        return retval

    def _timeout_enforcer(self):
        self._event.wait(self.timeout)

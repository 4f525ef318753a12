"""LKL102 (a daemon thread told to stop in close() but never joined): opt-in, and what
its message says."""
from leaklint.engine import Linter
from leaklint.registry import rule_by_code, selected_codes

POLLER = (
    "import threading\n\n"
    "class Poller:\n"
    "    def start(self):\n"
    "        self._thread = threading.Thread(target=self._poll, daemon=True)\n"
    "        self._thread.start()\n\n"
    "    def _poll(self):\n"
    "        while not self._stopped.is_set():\n"
    "            pass\n\n"
    "    def close(self):\n"
    "        self._stopped.set()\n")


def test_off_by_default_and_selected_explicitly():
    # The corpus holds no instance of the shape: its precision is unmeasured
    # (notes/daemon-owner-corpus.md), so nobody gets it without asking.
    assert "LKL102" not in selected_codes()
    assert "LKL102" not in selected_codes(select=["LKL"])
    assert "LKL102" in selected_codes(extend_select=["LKL102"])
    assert "LKL102" in selected_codes(extend_select=["LKL1"])
    assert "LKL101" in selected_codes()


def test_message_names_the_thread_its_target_and_the_closing_method():
    rule = rule_by_code("LKL102")
    findings = Linter([rule()]).lint_text(POLLER, "poller.py")
    assert [(f.line, f.code) for f in findings] == [(5, "LKL102")]
    assert findings[0].message == (
        "daemon thread `self._thread` running `self._poll()` is told to stop in `close()` "
        "but never joined: it outlives `close()`")
    assert findings[0].fix.startswith("join it in `close()`")

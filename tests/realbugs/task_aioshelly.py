# home-assistant-libs/aioshelly: "Save a strong reference to the cleanup task in WsServer"
# https://github.com/home-assistant-libs/aioshelly/pull/623 (commit 9158b2c)
# Family: task (LKL2). The synchronous close() of the websocket server fetched the
# running loop into a local and called loop.create_task(self._runner.cleanup()),
# dropping the task. The fix moves the task-tracking helper into a base class that both
# websocket classes share and uses it in close().
import asyncio


# Before the fix.
class WsServer:
    def __init__(self):
        self._runner = None
        self.subscriptions = {}

    def close(self):
        """Stop the websocket server."""
        if self._runner is not None:
            loop = asyncio.get_running_loop()
            loop.create_task(self._runner.cleanup())  # expect: task@aioshelly


# After the fix.
class WsBase:
    """Base class for WebSocket handlers."""

    def __init__(self):
        self._background_tasks = set()

    def _create_and_track_task(self, func):
        """Create the task and hold a strong reference to it."""
        task = asyncio.create_task(func)
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)


class WsServerFixed(WsBase):
    def __init__(self):
        super().__init__()
        self._runner = None
        self.subscriptions = {}

    def close(self):
        """Stop the websocket server."""
        if self._runner is not None:
            self._create_and_track_task(self._runner.cleanup())

# NERSC/interactEM: "Use strong task references in agent"
# https://github.com/NERSC/interactEM/pull/61 (commit 0032292)
# Family: task (LKL2). The agent's server loop acknowledged each fetched message with
# `[asyncio.create_task(msg.ack()) for msg in msgs]`: a list comprehension evaluated as
# a statement, so every task was dropped at once ("Task was destroyed but it is
# pending!"). The fix routes every create_task through a helper that keeps the task in a
# set until it is done.
import asyncio


class FetchTimeout(Exception):
    pass


def create_task_with_ref(task_refs, coro):
    task = asyncio.create_task(coro)
    task_refs.add(task)
    task.add_done_callback(task_refs.discard)  # clean up after completion
    return task


# Before the fix.
class Agent:
    def __init__(self, consumer):
        self.consumer = consumer
        self._shutdown_event = asyncio.Event()

    async def server_loop(self):
        psub = await self.consumer.subscribe()
        while not self._shutdown_event.is_set():
            try:
                msgs = await psub.fetch(1)
                [asyncio.create_task(msg.ack()) for msg in msgs]  # expect: task@interactem
            except FetchTimeout:
                continue
            for msg in msgs:
                self.handle(msg)

    def handle(self, msg):
        return msg


# After the fix.
class AgentFixed:
    def __init__(self, consumer):
        self.consumer = consumer
        self._shutdown_event = asyncio.Event()
        self.task_refs = set()

    async def server_loop(self):
        psub = await self.consumer.subscribe()
        while not self._shutdown_event.is_set():
            try:
                msgs = await psub.fetch(1)
                [self.create_task(msg.ack()) for msg in msgs]
            except FetchTimeout:
                continue
            for msg in msgs:
                self.handle(msg)

    def handle(self, msg):
        return msg

    def create_task(self, coro):
        return create_task_with_ref(self.task_refs, coro)

# ikalchev/HAP-python: "Ensure tasks are not garbage collected before they finish"
# https://github.com/ikalchev/HAP-python/pull/460 (commit 91af8a2)
# Family: task (LKL2). The accessory driver scheduled work with bare
# asyncio.ensure_future(...) statements (an mDNS update coroutine, a run_in_executor
# future) and kept no reference: the event loop holds tasks weakly. The fix sends them
# through a helper that keeps each task in a module-level set until it is done.
import asyncio

_BACKGROUND_TASKS = set()


def async_create_background_task(func):
    """Create a background task and keep it in the set of background tasks."""
    task = asyncio.ensure_future(func)
    _BACKGROUND_TASKS.add(task)
    task.add_done_callback(_BACKGROUND_TASKS.discard)
    return task


class ServiceInfo:
    def __init__(self, accessory, state):
        self.accessory = accessory
        self.state = state


# Before the fix.
class AccessoryDriver:
    def __init__(self, accessory, state, advertiser):
        self.accessory = accessory
        self.state = state
        self.advertiser = advertiser
        self.mdns_service_info = None

    def update_advertisement(self):
        self.mdns_service_info = ServiceInfo(self.accessory, self.state)
        asyncio.ensure_future(  # expect: task@hap
            self.advertiser.async_update_service(self.mdns_service_info)  # expect: task@hap
        )  # expect: task@hap

    def async_persist(self):
        loop = asyncio.get_event_loop()
        asyncio.ensure_future(loop.run_in_executor(None, self.persist))  # expect: task@hap

    def persist(self):
        return self.state


# After the fix.
class AccessoryDriverFixed:
    def __init__(self, accessory, state, advertiser):
        self.accessory = accessory
        self.state = state
        self.advertiser = advertiser
        self.mdns_service_info = None

    def update_advertisement(self):
        self.mdns_service_info = ServiceInfo(self.accessory, self.state)
        async_create_background_task(
            self.advertiser.async_update_service(self.mdns_service_info)
        )

    def async_persist(self):
        loop = asyncio.get_event_loop()
        async_create_background_task(loop.run_in_executor(None, self.persist))

    def persist(self):
        return self.state

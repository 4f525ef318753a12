# Rikorose/DeepFilterNet: "Call data_queue.task_done() after data_queue.get() to prevent
# blocking during pin memory clean-up"
# https://github.com/Rikorose/DeepFilterNet/pull/245 (issue #236, commit 8d1e002)
# Family: queue (LKL3). The data loader kept a queue.Queue on self, handed it to a
# pin-memory thread (the producer is torch's loop, in another package), took batches
# with self.data_queue.get() and never called task_done(); its cleanup drained the queue
# and then called self.data_queue.join(), which blocked forever. The fix calls
# task_done() after each get.
import queue
import threading

import torch
from torch.utils.data._utils.pin_memory import _pin_memory_loop


# Before the fix.
class PytorchDataLoader:
    def __init__(self, worker_out_queue, prefetch=4, pin_memory=True):
        self.worker_out_queue = worker_out_queue
        self.prefetch = prefetch
        self.pin_memory = pin_memory
        self.pin_memory_thread_done_event = None
        self.pin_memory_thread = None
        self.data_queue = None

    def cleanup_pin_memory_thread(self):
        """When using cuda, stop and join the pin memory thread."""
        if self.pin_memory:
            if self.pin_memory_thread is not None and self.pin_memory_thread.is_alive():
                self.pin_memory_thread_done_event.set()
                while True:
                    try:
                        _ = self.data_queue.get(timeout=2)  # expect: queue@dfn
                    except queue.Empty:
                        break
                self.pin_memory_thread.join()
                self.data_queue.join()  # expect: queue@dfn

    def setup_data_queue(self):
        if self.pin_memory:
            self.cleanup_pin_memory_thread()
            self.pin_memory_thread_done_event = threading.Event()
            self.data_queue = queue.Queue(maxsize=self.prefetch)  # expect: queue@dfn
            args = (
                self.worker_out_queue,
                self.data_queue,
                torch.cuda.current_device(),
                self.pin_memory_thread_done_event,
            )
            pin_memory_thread = threading.Thread(
                target=_pin_memory_loop, args=args, name="PinMemoryLoop"
            )
            pin_memory_thread.daemon = True
            pin_memory_thread.start()
            self.pin_memory_thread = pin_memory_thread
        else:
            self.data_queue = self.worker_out_queue

    def get_batch(self):
        _, batch = self.data_queue.get()  # expect: queue@dfn
        return batch


# After the fix.
class PytorchDataLoaderFixed:
    def __init__(self, worker_out_queue, prefetch=4, pin_memory=True):
        self.worker_out_queue = worker_out_queue
        self.prefetch = prefetch
        self.pin_memory = pin_memory
        self.pin_memory_thread_done_event = None
        self.pin_memory_thread = None
        self.data_queue = None

    def cleanup_pin_memory_thread(self):
        """When using cuda, stop and join the pin memory thread."""
        if self.pin_memory:
            if self.pin_memory_thread is not None and self.pin_memory_thread.is_alive():
                self.pin_memory_thread_done_event.set()
                while True:
                    try:
                        _ = self.data_queue.get(timeout=2)
                        if hasattr(self.data_queue, "task_done"):
                            # a get() without task_done() makes join() wait forever
                            self.data_queue.task_done()
                    except queue.Empty:
                        break
                self.pin_memory_thread.join()
                self.data_queue.join()

    def setup_data_queue(self):
        if self.pin_memory:
            self.cleanup_pin_memory_thread()
            self.pin_memory_thread_done_event = threading.Event()
            self.data_queue = queue.Queue(maxsize=self.prefetch)
            args = (
                self.worker_out_queue,
                self.data_queue,
                torch.cuda.current_device(),
                self.pin_memory_thread_done_event,
            )
            pin_memory_thread = threading.Thread(
                target=_pin_memory_loop, args=args, name="PinMemoryLoop"
            )
            pin_memory_thread.daemon = True
            pin_memory_thread.start()
            self.pin_memory_thread = pin_memory_thread
        else:
            self.data_queue = self.worker_out_queue

    def get_batch(self):
        _, batch = self.data_queue.get()
        if hasattr(self.data_queue, "task_done"):
            self.data_queue.task_done()
        return batch

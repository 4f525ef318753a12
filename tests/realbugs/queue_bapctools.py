# RagnarGrootKoerkamp/BAPCtools: "reimplemented parallel"
# https://github.com/RagnarGrootKoerkamp/BAPCtools/pull/268 (commit 27daebad)
# Family: queue (LKL3). A worker pool's queue.Queue lived on self; workers called
# q.get() but q.task_done() only after the task succeeded: the task raising, the `None`
# stop marker (break) and stop()'s draining get(block=False) loop all skipped task_done,
# so Parallel.join() -> q.join() could wait forever. The PR listed those three gets and
# then rewrote the class around a lock; the fixed shape below is the three task_done
# calls it named.
import queue
import threading


def default_jobs():
    return 4


# Before the fix.
class Parallel:
    def __init__(self, f, num_threads=True):
        self.q = queue.Queue()  # expect: queue@bapc
        self.error = None
        self.f = f
        self.stopping = False
        self.num_threads = default_jobs() if num_threads is True else num_threads
        if self.num_threads:
            self.threads = []
            for _ in range(self.num_threads):
                t = threading.Thread(target=self._worker, daemon=True)
                t.start()
                self.threads.append(t)

    def _worker(self):
        try:
            while not self.stopping:
                task = self.q.get()  # expect: queue@bapc
                if task is None:
                    break
                self.f(task)
                self.q.task_done()
        except Exception as e:
            self.stop()
            if not self.error:
                self.error = e

    def put(self, task):
        if self.stopping:
            return
        if self.num_threads:
            self.q.put(task)
        else:
            self.f(task)

    def join(self):
        if self.error:
            raise self.error
        self.q.join()  # expect: queue@bapc
        if self.error:
            raise self.error

    def done(self):
        if not self.num_threads:
            return
        for _ in range(self.num_threads):
            self.q.put(None)
        for t in self.threads:
            t.join()
        if self.error is not None:
            raise self.error

    def stop(self):
        if self.stopping:
            return
        self.stopping = True
        if not self.num_threads:
            return
        try:
            while True:
                self.q.get(block=False)  # expect: queue@bapc
        except queue.Empty:
            pass
        for _ in range(self.num_threads):
            self.q.put(None)


# After the fix.
class ParallelFixed:
    def __init__(self, f, num_threads=True):
        self.q = queue.Queue()
        self.error = None
        self.f = f
        self.stopping = False
        self.num_threads = default_jobs() if num_threads is True else num_threads
        if self.num_threads:
            self.threads = []
            for _ in range(self.num_threads):
                t = threading.Thread(target=self._worker, daemon=True)
                t.start()
                self.threads.append(t)

    def _worker(self):
        while not self.stopping:
            task = self.q.get()
            try:
                if task is None:
                    break
                self.f(task)
            except Exception as e:
                self.stop()
                if not self.error:
                    self.error = e
            finally:
                self.q.task_done()

    def put(self, task):
        if self.stopping:
            return
        if self.num_threads:
            self.q.put(task)
        else:
            self.f(task)

    def join(self):
        if self.error:
            raise self.error
        self.q.join()
        if self.error:
            raise self.error

    def done(self):
        if not self.num_threads:
            return
        for _ in range(self.num_threads):
            self.q.put(None)
        for t in self.threads:
            t.join()
        if self.error is not None:
            raise self.error

    def stop(self):
        if self.stopping:
            return
        self.stopping = True
        if not self.num_threads:
            return
        try:
            while True:
                self.q.get(block=False)
                self.q.task_done()
        except queue.Empty:
            pass
        for _ in range(self.num_threads):
            self.q.put(None)

# jansel/opentuner: "close thread pool after parallel compilation"
# https://github.com/jansel/opentuner/pull/88 (commit 665863df)
# Family: process (LKL5, a multiprocessing pool). The measurement driver created a
# multiprocessing.pool.ThreadPool per batch of results to compile, used
# map_async(...).get(...) in a try that re-raised, and never closed the pool: long
# tuning runs died with "can't start new thread". The fix calls thread_pool.close()
# after the results are used (the project's fix; the re-raise path still skips it).
from multiprocessing.pool import ThreadPool


def compile_result(args):
    interface, data, result_id = args
    return interface.compile(data, result_id)


# Before the fix.
class MeasurementDriver:
    def __init__(self, interface, pending):
        self.interface = interface
        self.pending = pending

    def claim_desired_result(self, dr):
        return dr is not None

    def run_desired_result(self, dr, compile_result=None, exec_id=None):
        return dr, compile_result, exec_id

    def process_all(self):
        desired_results = []
        thread_args = []
        for dr in self.pending:
            if self.claim_desired_result(dr):
                desired_results.append(dr)
                thread_args.append((self.interface, dr.configuration.data, dr.id))
        if len(desired_results) == 0:
            return
        thread_pool = ThreadPool(len(desired_results))  # expect: process@opentuner
        try:
            # map_async instead of map: keyboard interrupts are ignored by map
            compile_results = thread_pool.map_async(compile_result, thread_args).get(9999999)
        except Exception:
            # only one thread receives the exception: kill the others
            self.interface.kill_all()
            raise
        for dr, result in zip(desired_results, compile_results):
            self.run_desired_result(dr, result, dr.id)
            try:
                self.interface.cleanup(dr.id)
            except RuntimeError as e:
                print(e)


# After the fix.
class MeasurementDriverFixed:
    def __init__(self, interface, pending):
        self.interface = interface
        self.pending = pending

    def claim_desired_result(self, dr):
        return dr is not None

    def run_desired_result(self, dr, compile_result=None, exec_id=None):
        return dr, compile_result, exec_id

    def process_all(self):
        desired_results = []
        thread_args = []
        for dr in self.pending:
            if self.claim_desired_result(dr):
                desired_results.append(dr)
                thread_args.append((self.interface, dr.configuration.data, dr.id))
        if len(desired_results) == 0:
            return
        thread_pool = ThreadPool(len(desired_results))
        try:
            compile_results = thread_pool.map_async(compile_result, thread_args).get(9999999)
        except Exception:
            self.interface.kill_all()
            raise
        for dr, result in zip(desired_results, compile_results):
            self.run_desired_result(dr, result, dr.id)
            try:
                self.interface.cleanup(dr.id)
            except RuntimeError as e:
                print(e)
        thread_pool.close()

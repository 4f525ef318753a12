# PrefectHQ/prefect: "Improve multiprocess based timeout handler"
# https://github.com/PrefectHQ/prefect/pull/5213 (commit 17b885bbae)
# Family: queue (LKL3). The timeout helper gave a spawn-context Queue to a child
# process (the child puts the pickled result), then called process.join(timeout) and
# terminate() before reading the queue: a child with a result bigger than the pipe
# buffer cannot exit until the parent reads, so the join waits out the whole timeout and
# the result is lost. The fix reads the queue with a timeout first and joins in a finally.
import multiprocessing
from queue import Empty

import cloudpickle


class TaskTimeoutSignal(Exception):
    pass


def run_and_send(queue, payload):
    request = cloudpickle.loads(payload)
    try:
        result = request["fn"](*request["args"], **request["kwargs"])
    except Exception as exc:
        result = exc
    queue.put(cloudpickle.dumps(result))


# Before the fix.
def run_with_multiprocess_timeout(fn, args=(), kwargs=None, timeout=None, name=None):
    name = name or f"Function '{fn.__name__}'"
    kwargs = kwargs or {}
    if timeout is None:
        return fn(*args, **kwargs)

    spawn_mp = multiprocessing.get_context("spawn")
    queue = spawn_mp.Queue()  # expect: queue@prefect
    payload = cloudpickle.dumps({"fn": fn, "args": args, "kwargs": kwargs, "name": name})
    run_process = spawn_mp.Process(target=run_and_send, args=(queue, payload))
    run_process.start()
    run_process.join(timeout)  # expect: queue@prefect
    run_process.terminate()

    if not queue.empty():
        result = cloudpickle.loads(queue.get())
        if isinstance(result, Exception):
            raise result
        return result
    else:
        raise TaskTimeoutSignal(f"Execution timed out for {name}.")


# After the fix.
def run_with_multiprocess_timeout_fixed(fn, args=(), kwargs=None, timeout=None, name=None):
    name = name or f"Function '{fn.__name__}'"
    kwargs = kwargs or {}
    if timeout is None:
        return fn(*args, **kwargs)

    spawn_mp = multiprocessing.get_context("spawn")
    queue = spawn_mp.Queue()
    payload = cloudpickle.dumps({"fn": fn, "args": args, "kwargs": kwargs, "name": name})
    run_process = spawn_mp.Process(target=run_and_send, args=(queue, payload))
    run_process.start()
    try:
        pickled_result = queue.get(block=True, timeout=timeout)
        result = cloudpickle.loads(pickled_result)
        if isinstance(result, Exception):
            raise result
        return result
    except Empty:
        raise TaskTimeoutSignal(f"Execution timed out for {name}.")
    finally:
        # do not let the process dangle
        run_process.join(0.1)
        run_process.terminate()

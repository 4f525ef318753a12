# jonatanjacobsson/ifcpipeline: "Fix ifctester spawn-isolation deadlock and result-drain
# race" https://github.com/jonatanjacobsson/ifcpipeline/pull/24 (commit b84f075; the
# same shape in five more workers: PR #28)
# Family: queue (LKL3). The worker ran the job in a spawn-context child, passing the
# target function in as a parameter along with a maxsize=1 Queue the child puts its
# result on, then called proc.join() before reading the queue: a result over the pipe
# buffer (64 KB) deadlocked child and parent. The fix reads the queue before joining.
import time
from multiprocessing import get_context
from queue import Empty


def isolated_validate_worker(result_queue, payload):
    report = {"passed": payload.get("passed", 0), "report": "x" * 100_000}
    result_queue.put(("ok", report))


# Before the fix.
def run_in_spawn_isolation(worker_target, payload, label, operation="ifctester",
                           result_timeout=3600):
    ctx = get_context("spawn")
    q = ctx.Queue(maxsize=1)  # expect: queue@ifc
    proc = ctx.Process(target=worker_target, args=(q, payload))
    proc.start()
    proc.join()  # expect: queue@ifc
    if proc.exitcode == 0:
        try:
            status, data = q.get(timeout=result_timeout)
        except Empty as e:
            raise RuntimeError(f"{operation} child exited 0 but sent no result") from e
        if status == "ok":
            return data
        raise RuntimeError(f"{operation} isolated worker: {data}")
    child_err = None
    try:
        status, data = q.get_nowait()
        if status == "err":
            child_err = data
    except Empty:
        pass
    raise RuntimeError(f"{operation} crashed (label={label!r}, child={child_err!r})")


def validate(payload):
    return run_in_spawn_isolation(isolated_validate_worker, payload, "validate")


# After the fix.
def run_in_spawn_isolation_fixed(worker_target, payload, label, operation="ifctester",
                                 result_timeout=3600):
    ctx = get_context("spawn")
    q = ctx.Queue(maxsize=1)
    proc = ctx.Process(target=worker_target, args=(q, payload))
    proc.start()
    deadline = time.monotonic() + result_timeout
    status_data = None
    while status_data is None:
        try:
            status_data = q.get(timeout=2.0)
        except Empty:
            if not proc.is_alive():
                try:
                    status_data = q.get_nowait()
                except Empty:
                    status_data = None
                break
            if time.monotonic() >= deadline:
                proc.terminate()
                proc.join(timeout=15)
                raise RuntimeError(f"{operation} timed out (label={label!r})")
    proc.join(timeout=60)
    if status_data is None:
        raise RuntimeError(f"{operation} crashed (label={label!r}, exit={proc.exitcode})")
    status, data = status_data
    if status == "ok":
        return data
    raise RuntimeError(f"{operation} isolated worker: {data}")


def validate_fixed(payload):
    return run_in_spawn_isolation_fixed(isolated_validate_worker, payload, "validate")

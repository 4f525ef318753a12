# cognitedata/cognite-sdk-python: "Process leaking due to flawed process lifetime
# management" https://github.com/cognitedata/cognite-sdk-python/issues/86 (fixed by
# https://github.com/cognitedata/cognite-sdk-python/pull/87, commit 22cc0e1d)
# Family: process (LKL5). get_datapoints() returned early for a single step, else built
# Pool(steps), called p.map(...), then p.close(); p.join(): when map raised, close and
# join never ran and the worker processes leaked. The fix wraps it in `with Pool(steps)`.
from functools import partial
from multiprocessing import Pool


def _get_datapoints_helper(name, start, end):
    return [(name, start, end)]


def _get_datapoints_helper_wrapper(args, name):
    return _get_datapoints_helper(name, args["start"], args["end"])


def _split_window(start, end, steps):
    width = (end - start) // steps
    return [{"start": start + i * width, "end": start + (i + 1) * width} for i in range(steps)]


# Before the fix.
def get_datapoints(name, start, end, processes=4):
    steps = min(processes, max(1, (end - start) // 1000))
    if steps == 1:
        return _get_datapoints_helper(name, start, end)

    args = _split_window(start, end, steps)
    partial_get_dps = partial(_get_datapoints_helper_wrapper, name=name)

    p = Pool(steps)  # expect: process@cognite

    datapoints = p.map(partial_get_dps, args)
    p.close()
    p.join()
    concat_dps = []
    [concat_dps.extend(el) for el in datapoints]
    return concat_dps


# After the fix.
def get_datapoints_fixed(name, start, end, processes=4):
    steps = min(processes, max(1, (end - start) // 1000))
    if steps == 1:
        return _get_datapoints_helper(name, start, end)

    args = _split_window(start, end, steps)
    partial_get_dps = partial(_get_datapoints_helper_wrapper, name=name)

    with Pool(steps) as p:
        datapoints = p.map(partial_get_dps, args)
        p.close()
        p.join()
    concat_dps = []
    [concat_dps.extend(el) for el in datapoints]
    return concat_dps

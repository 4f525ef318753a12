# EleutherAI/lm-evaluation-harness: "Fix for hang due to mp.Pool in bootstrap_stderr"
# https://github.com/EleutherAI/lm-evaluation-harness/pull/3135 (commit cf631de09)
# Family: process (LKL5). bootstrap_stderr() imported multiprocessing inside a branch,
# created mp.Pool(mp.cpu_count()), iterated pool.imap(...) through tqdm and then only
# called pool.close(): never joined (and never closed if the loop raised), so the
# processes piled up until runs hung. The fix uses the pool as a context manager.
import os
import random


class _bootstrap_internal:
    def __init__(self, f, n):
        self.f = f
        self.n = n

    def __call__(self, v):
        i, xs = v
        rnd = random.Random(i)
        return [self.f(rnd.choices(xs, k=len(xs))) for _ in range(self.n)]


def _bootstrap_internal_no_mp(f, xs, iters):
    return _bootstrap_internal(f, iters)((0, xs))


# Before the fix.
def bootstrap_stderr(f, xs, iters):
    if not os.getenv("DISABLE_MULTIPROC"):
        import multiprocessing as mp

        pool = mp.Pool(mp.cpu_count())  # expect: process@lm_eval
        res = []
        chunk_size = min(1000, iters)
        from tqdm import tqdm

        for bootstrap in tqdm(
            pool.imap(
                _bootstrap_internal(f, chunk_size),
                [(i, xs) for i in range(iters // chunk_size)],
            ),
            total=iters // chunk_size,
        ):
            res.extend(bootstrap)

        pool.close()  # expect: process@lm_eval
    else:
        res = _bootstrap_internal_no_mp(f, xs, iters)
    return res


# After the fix.
def bootstrap_stderr_fixed(f, xs, iters):
    if not os.getenv("DISABLE_MULTIPROC"):
        import multiprocessing as mp

        res = []
        chunk_size = min(1000, iters)
        from tqdm import tqdm

        with mp.Pool(mp.cpu_count()) as pool:
            for bootstrap in tqdm(
                pool.imap(
                    _bootstrap_internal(f, chunk_size),
                    [(i, xs) for i in range(iters // chunk_size)],
                ),
                total=iters // chunk_size,
            ):
                res.extend(bootstrap)
    else:
        res = _bootstrap_internal_no_mp(f, xs, iters)
    return res

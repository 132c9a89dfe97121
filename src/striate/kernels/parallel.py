"""striate's own threads: BLAS serial for a block, work split over a small Python thread pool.

Why (see `striate.config` and `gemm.py` for the measurements): OpenBLAS's threads meet after
every block of a product and stall when a core is shared, so striate runs BLAS on one thread and
hands independent pieces of work to its own threads instead. NumPy's matmul, copies and the
Numba kernels (`nogil=True`) release the GIL, so the pieces really run at the same time.

    with serial_blas() as threads:                 # BLAS on one thread inside the block
        results = run_split(work, batch_parts(n, item_bytes, threads))

`batch_parts` cuts a batch of n items into one contiguous run per thread, each run into chunks
of about `CHUNK_BYTES` of scratch memory, so a chunk's im2col columns stay in cache between the
copy that writes them and the product that reads them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from striate import config

# Scratch memory per chunk. On the 2-core target (1 MiB L2 per core, 32 MiB L3) the CIFAR net's
# conv layers ran within 5% of each other with 512 KiB, 2 MiB and 8 MiB chunks; 2 MiB was best
# or tied on every layer (fwd and fwd+bwd, LeNet and CIFAR shapes).
CHUNK_BYTES = 2 << 20

_pool: dict = {"executor": None, "size": 0, "blas": None}
_lock = threading.Lock()
_THREAD_PREFIX = "striate-worker"


def _executor(threads: int) -> ThreadPoolExecutor:
    """A pool with at least threads - 1 workers (the caller's thread is the other one)."""
    if _pool["size"] < threads:
        with _lock:
            if _pool["size"] < threads:
                old = _pool["executor"]
                _pool["executor"] = ThreadPoolExecutor(threads - 1, thread_name_prefix=_THREAD_PREFIX)
                _pool["size"] = threads
                if old is not None:
                    old.shutdown(wait=False)
    return _pool["executor"]


def _blas_controllers() -> list:
    """threadpoolctl's handles on the loaded BLAS libraries (looked up once)."""
    if _pool["blas"] is None:
        from threadpoolctl import ThreadpoolController

        _pool["blas"] = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _pool["blas"]


@contextlib.contextmanager
def serial_blas() -> Iterator[int]:
    """Run the block with BLAS on one thread; yields the number of threads striate may use.

    That number is `config.set_num_threads`'s cap when set, else the BLAS pool's size (asking
    threadpoolctl for it costs ~1 ms; setting a count costs ~2 us each way).
    """
    controllers = _blas_controllers()
    previous = [c.num_threads for c in controllers]
    threads = _threads(previous)
    if max(previous, default=1) <= 1:
        yield threads
        return
    for c in controllers:
        c.set_num_threads(1)
    try:
        yield threads
    finally:
        for c, n in zip(controllers, previous):
            c.set_num_threads(n)


def num_threads() -> int:
    """Threads striate may use: `config.set_num_threads`'s cap when set, else the BLAS pool's size."""
    return _threads([c.num_threads for c in _blas_controllers()])


def _threads(blas_counts: list[int]) -> int:
    return config._state["threads"] or max(blas_counts, default=1)


def even_bounds(n: int, parts: int) -> list[tuple[int, int]]:
    """range(n) cut into at most `parts` contiguous [start, stop) runs of near-equal length."""
    if n <= 0:
        return []
    step = -(-n // max(1, min(parts, n)))
    return [(s, min(s + step, n)) for s in range(0, n, step)]


def batch_parts(n: int, item_bytes: int, threads: int, min_items: int = 1) -> list[list[tuple[int, int]]]:
    """[start, stop) chunks of range(n): one list per thread, each chunk ~CHUNK_BYTES of scratch
    (and at least min_items items)."""
    per_chunk = max(1, min_items, CHUNK_BYTES // max(item_bytes, 1))
    return [[(s, min(s + per_chunk, stop)) for s in range(start, stop, per_chunk)]
            for start, stop in even_bounds(n, threads)]


def run_split(work: Callable[[int, int], Any], parts: list[list[tuple[int, int]]]) -> list:
    """work(start, stop) for every chunk; each thread takes one part; results in chunk order."""

    def run_part(chunks: list[tuple[int, int]]) -> list:
        return [work(s, e) for s, e in chunks]

    if len(parts) <= 1 or threading.current_thread().name.startswith(_THREAD_PREFIX):
        # a pool thread never waits on the pool it belongs to (that could deadlock)
        return [r for p in parts for r in run_part(p)]
    executor = _executor(len(parts))
    futures = [executor.submit(run_part, p) for p in parts[1:]]
    results = run_part(parts[0])
    for f in futures:
        results.extend(f.result())
    return results


def submit(fn: Callable, *args: Any, threads: int) -> Any:
    """fn(*args) on the pool (a future), for callers that split work themselves."""
    return _executor(threads).submit(fn, *args)


# Below this many elements an elementwise op runs in one call: a thread hand-off costs ~20 us.
MIN_SPLIT_ELEMENTS = 1 << 16


def elementwise(ufunc: Any, *arrays: np.ndarray) -> np.ndarray:
    """ufunc(*arrays) for same-shape arrays, large C-contiguous ones split over striate's threads.

    NumPy's ufuncs release the GIL, so each thread computes its slice of the flat result.
    """
    first = arrays[0]
    if first.size < MIN_SPLIT_ELEMENTS or not all(a.flags.c_contiguous and a.shape == first.shape
                                                  for a in arrays):
        return ufunc(*arrays)
    flat = [a.reshape(-1) for a in arrays]
    out = np.empty(first.shape, np.result_type(*arrays))
    flat_out = out.reshape(-1)

    def work(start: int, stop: int) -> None:
        ufunc(*(a[start:stop] for a in flat), out=flat_out[start:stop])

    run_split(work, [[b] for b in even_bounds(first.size, num_threads())])
    return out

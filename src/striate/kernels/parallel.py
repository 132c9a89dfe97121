"""striate's own threads: work split over a small Python thread pool, products on a serial BLAS.

Why (see `striate.config` and `gemm.py` for the measurements): OpenBLAS's threads meet after
every block of a product and stall when a core is shared, so striate hands independent pieces of
work to its own threads (as many as `st.config.get_num_threads()`: every core by default), and
each piece multiplies on striate's private one-thread BLAS (`matmul`, `gemm_serial`). NumPy's
copies and ufuncs, the Numba kernels (`nogil=True`) and the BLAS calls release the GIL, so the
pieces really run at the same time.

    with serial_blas() as threads:                 # striate's thread count for the block
        results = run_split(work, batch_parts(n, item_bytes, threads))
    matmul(a, b, out=None)                         # np.matmul on the serial BLAS (in any piece)

`batch_parts` cuts a batch of n items into one contiguous run per thread, each run into chunks
of about `tuning.CHUNK_BYTES` of scratch memory, so a chunk's im2col columns stay in cache between the
copy that writes them and the product that reads them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from striate import config, tuning
from striate.kernels import gemm_serial

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

_pool: dict = {"executor": None, "size": 0, "pid": None}
_lock = threading.Lock()
_THREAD_PREFIX = "striate-worker"


def _executor(threads: int) -> ThreadPoolExecutor:
    """A pool with at least threads - 1 workers (the caller's thread is the other one).

    A forked child (a DataLoader worker) inherits the pool without its threads: it makes its own."""
    if _pool["size"] < threads or _pool["pid"] != os.getpid():
        from concurrent.futures import ThreadPoolExecutor  # (and logging): only when threads run

        with _lock:
            if _pool["size"] < threads or _pool["pid"] != os.getpid():
                old = _pool["executor"] if _pool["pid"] == os.getpid() else None
                _pool["executor"] = ThreadPoolExecutor(threads - 1, thread_name_prefix=_THREAD_PREFIX)
                _pool["size"], _pool["pid"] = threads, os.getpid()
                if old is not None:
                    old.shutdown(wait=False)
    return _pool["executor"]


@contextlib.contextmanager
def serial_blas() -> Iterator[int]:
    """The block's thread count (`num_threads`).

    Touches no process-wide setting: the products in the block go to striate's private serial
    BLAS (`matmul`). (Until issue 13 this context flipped BLAS's thread count around every
    operation; the name stays for the callers.)
    """
    yield num_threads()


def num_threads() -> int:
    """Threads striate may use: `config.get_num_threads()` (1 on the reference path)."""
    state = config._state
    return 1 if state["reference"] else (state["threads"] or config.default_num_threads())


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """np.matmul(a, b, out=out) for striate's own products: serial, on the private BLAS
    (`gemm_serial`), so that products in striate's threads neither wait on each other nor start
    NumPy's BLAS pool; on the reference path NumPy's matmul itself."""
    if config._state["reference"]:
        return np.matmul(a, b, out=out)
    return gemm_serial.matmul(a, b, out)


def even_bounds(n: int, parts: int) -> list[tuple[int, int]]:
    """range(n) cut into at most `parts` contiguous [start, stop) runs of near-equal length."""
    if n <= 0:
        return []
    step = -(-n // max(1, min(parts, n)))
    return [(s, min(s + step, n)) for s in range(0, n, step)]


def batch_parts(n: int, item_bytes: int, threads: int, min_items: int = 1) -> list[list[tuple[int, int]]]:
    """[start, stop) chunks of range(n): one list per thread, each chunk ~tuning.CHUNK_BYTES of scratch
    (and at least min_items items)."""
    per_chunk = max(1, min_items, tuning.CHUNK_BYTES // max(item_bytes, 1))
    return [[(s, min(s + per_chunk, stop)) for s in range(start, stop, per_chunk)]
            for start, stop in even_bounds(n, threads)]


def run_split(work: Callable[[int, int], Any], parts: list[list[tuple[int, int]]]) -> list:
    """work(start, stop) for every chunk of the parts (one part per thread); results in chunk order.

    The threads claim chunks one at a time, in order, and the caller returns as soon as every
    chunk is done: a worker that a busy machine has not scheduled yet leaves its chunks to the
    others instead of holding the caller at a barrier. Which thread runs a chunk never changes
    its result (the chunks, and the order their results are combined in, are fixed).
    """
    chunks = [c for p in parts for c in p]
    if len(parts) <= 1 or len(chunks) <= 1 or threading.current_thread().name.startswith(_THREAD_PREFIX):
        # a pool thread never waits on the pool it belongs to (that could deadlock)
        return [work(s, e) for s, e in chunks]
    results: list = [None] * len(chunks)
    claims = itertools.count()  # next() is atomic under the GIL
    left, errors, lock, done = [len(chunks)], [], threading.Lock(), threading.Event()

    def drain() -> None:
        while (i := next(claims)) < len(chunks):
            try:
                results[i] = work(*chunks[i])
            except BaseException as exc:  # handed to the caller below
                errors.append(exc)
            with lock:
                left[0] -= 1
                if not left[0]:
                    done.set()

    executor = _executor(len(parts))
    for _ in parts[1:]:
        executor.submit(drain)
    drain()
    done.wait()
    if errors:
        raise errors[0]
    return results


def submit(fn: Callable, *args: Any, threads: int) -> Any:
    """fn(*args) on the pool (a future), for callers that split work themselves."""
    return _executor(threads).submit(fn, *args)


def elementwise(ufunc: Any, *arrays: np.ndarray) -> np.ndarray:
    """ufunc(*arrays) for same-shape arrays, large C-contiguous ones split over striate's threads.

    NumPy's ufuncs release the GIL, so each thread computes its slice of the flat result.
    """
    first = arrays[0]
    if first.size < tuning.MIN_SPLIT_ELEMENTS or not all(a.flags.c_contiguous and a.shape == first.shape
                                                  for a in arrays):
        return ufunc(*arrays)
    flat = [a.reshape(-1) for a in arrays]
    out = np.empty(first.shape, np.result_type(*arrays))
    flat_out = out.reshape(-1)

    def work(start: int, stop: int) -> None:
        ufunc(*(a[start:stop] for a in flat), out=flat_out[start:stop])

    run_split(work, [[b] for b in even_bounds(first.size, num_threads())])
    return out


def __getattr__(name: str):
    """Old names of the thresholds now in `striate.tuning` (read-only: set them there)."""
    if name in ("CHUNK_BYTES", "MIN_SPLIT_ELEMENTS"):
        return getattr(tuning, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

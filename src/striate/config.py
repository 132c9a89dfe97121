"""Run-time switches: which kernel twin runs the hot loops, and how many threads they use.

Kernels
-------
Every hot loop that NumPy cannot vectorize well (col2im's overlapping adds, windowed max with
its argmax, and the max gate's gradient router) exists twice in `striate.kernels`: a readable
NumPy reference and a Numba-compiled fast path. They give the same answer; this switch picks
one (im2col is strided-slice NumPy under both settings: NumPy vectorizes it, and it measured
faster than a Numba loop):

    STRIATE_KERNELS=numpy python train.py        # environment variable, read at import
    st.config.set_kernels("numpy")               # for the rest of the process
    with st.config.use_kernels("numpy"): ...     # for one block

The default is "numba". Numba itself is imported only when a Numba kernel first runs, so
`import striate` stays fast; compiled code is cached on disk (`cache=True`), so a second
process does not compile again.

Threads
-------
The machine this library targets is a small CPU (two cores). BLAS (the matrix products inside
conv and linear) and Numba must never both spin up thread pools that fight for those cores.
The choice made here: **BLAS owns the threads, Numba kernels are serial.** The Numba kernels
are compiled without `parallel=True`, so they run on the calling thread only and never start a
pool; they are memory-bound loops (copies, windowed max) where a second thread buys little,
while a matrix product uses every core well. `set_num_threads(n)` caps the BLAS pool through
threadpoolctl (and also Numba's pool, in case user code runs parallel Numba functions);
`get_num_threads()` reports the cap, so a benchmark can give PyTorch the same count
(`torch.set_num_threads(st.config.get_num_threads())`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

KERNEL_CHOICES = ("numba", "numpy")


def _kernels_from_env() -> str:
    name = os.environ.get("STRIATE_KERNELS", "numba").strip().lower() or "numba"
    if name not in KERNEL_CHOICES:
        raise ValueError(
            f"STRIATE_KERNELS={name!r} is not a kernel set; use one of {', '.join(KERNEL_CHOICES)}"
        )
    return name


_state: dict = {"kernels": _kernels_from_env(), "threads": None, "limiter": None}


def get_kernels() -> str:
    """The active kernel twin: "numba" (compiled, default) or "numpy" (reference)."""
    return _state["kernels"]


def set_kernels(name: str) -> None:
    """Select the kernel twin for the rest of the process: "numba" or "numpy"."""
    if name not in KERNEL_CHOICES:
        raise ValueError(f"unknown kernel set {name!r}; use one of {', '.join(KERNEL_CHOICES)}")
    _state["kernels"] = name


@contextlib.contextmanager
def use_kernels(name: str) -> Iterator[None]:
    """`with st.config.use_kernels("numpy"):` runs the block on the NumPy reference kernels."""
    previous = get_kernels()
    set_kernels(name)
    try:
        yield
    finally:
        _state["kernels"] = previous


def set_num_threads(n: int) -> None:
    """Cap BLAS (and any parallel Numba code) at `n` threads for the rest of the process."""
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads needs n >= 1, got {n}")
    from threadpoolctl import threadpool_limits

    _state["limiter"] = threadpool_limits(limits=n, user_api="blas")
    _state["threads"] = n
    if "numba" in __import__("sys").modules:  # only touch Numba's pool if it is loaded anyway
        import numba

        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def get_num_threads() -> int:
    """Threads BLAS may use: the cap from `set_num_threads`, else what the BLAS pool reports."""
    if _state["threads"] is not None:
        return _state["threads"]
    from threadpoolctl import threadpool_info

    counts = [info["num_threads"] for info in threadpool_info() if info.get("user_api") == "blas"]
    return max(counts) if counts else (os.cpu_count() or 1)

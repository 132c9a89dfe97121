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
The machine this library targets is a small CPU (two cores), often shared. Two thread pools
must never fight for those cores. The choice made here: **striate owns the threads, BLAS and
Numba run serially.** A convolution cuts its batch into one run of cache-sized chunks per
thread (`striate.kernels.parallel`: im2col, product and col2im of a chunk on one thread); the
products of linear layers go through `striate.kernels.gemm`, which splits a large product into
`get_num_threads()` independent pieces. Both run OpenBLAS on one thread inside a small Python
thread pool (NumPy and the Numba kernels release the GIL). OpenBLAS's own threads meet after
every block of the reduction and stalled 10-50x whenever another process held a core
(measured: the CIFAR net's fc layer 128-184 ms with 2 BLAS threads vs 3.6 ms serial). The
Numba kernels are compiled without `parallel=True` (they run inside striate's threads).
`set_num_threads(n)` sets that count (and caps BLAS and any parallel Numba code for other
users of NumPy in the process); `get_num_threads()` reports it, so a benchmark can give
PyTorch the same count (`torch.set_num_threads(st.config.get_num_threads())`).

Memory allocator
----------------
A training step allocates and frees the same large arrays every step (activations, im2col
columns, gradients). glibc's malloc gives large blocks back to the kernel on free (mmap
threshold, heap trimming), so the next step page-faults all of them in again, zero-filled:
measured on the 2-core target, a LeNet-5 batch-64 step took 17.9 ms that way and 7.3 ms with
freed memory kept for reuse (MNIST ConvNet 55 -> 40 ms). `keep_freed_memory()` (called when the
conv/linear kernels load; glibc only; opt out with STRIATE_KEEP_FREED_MEMORY=0) raises the
mmap threshold to its 32 MiB maximum and the trim threshold to 1 GiB. Memory freed by a step
stays mapped to this process for the next step; it does not grow over steps
(benchmarks/bench_memory.py checks RSS at step 100 and 1000).
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


def keep_freed_memory(enabled: bool = True) -> bool:
    """Ask glibc's malloc to keep freed large blocks for reuse (see the module docstring).

    Returns True when the allocator accepted the settings (False on other C libraries or when
    disabled by STRIATE_KEEP_FREED_MEMORY=0). `enabled=False` restores glibc's defaults.
    """
    if _state.get("malloc_tuned") == enabled:
        return True
    if os.environ.get("STRIATE_KEEP_FREED_MEMORY", "1").strip() == "0":
        return False
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    trim, mmap = (1 << 30, 32 << 20) if enabled else (128 << 10, 128 << 10)
    ok = bool(mallopt(M_TRIM_THRESHOLD, trim)) and bool(mallopt(M_MMAP_THRESHOLD, mmap))
    _state["malloc_tuned"] = enabled
    return ok

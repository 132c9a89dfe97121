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
striate uses every core by default, as PyTorch does, and changes no process-wide setting to do
so. The design (issue 14; measurements in docs/notes/i14-threads.md):

- Its operations cut a batch into one run of cache-sized chunks per thread and run the runs on
  a small pool of Python threads (`striate.kernels.parallel`); elementwise passes, pooling and
  batch norm split their arrays the same way. NumPy's copies and ufuncs, the Numba kernels
  (`nogil=True`) and the BLAS calls release the GIL, so the threads really run at once.
- The matrix products inside those chunks run on a *private serial BLAS*
  (`striate.kernels.gemm_serial`): a second instance of the OpenBLAS that NumPy ships, opened in
  its own link-map namespace and set to one thread. Products called from two threads through
  NumPy's OpenBLAS (whose pool has a thread per core) serialize on its global GEMM lock and stall
  its spinning workers; setting NumPy's pool to one thread would fix that but is the process's
  setting, which every NumPy/SciPy user in the application would see. The private instance is
  striate's alone: `import striate` and every operation leave NumPy's BLAS thread count (and its
  OpenBLAS) exactly as they found them. Products small enough that OpenBLAS never threads them
  still go to NumPy (cheaper to call).
- The default count is `default_num_threads()`: OMP_NUM_THREADS when set, else the cores this
  process may run on (`available_cores()`, `os.sched_getaffinity`). `get_num_threads()` returns
  it, so a benchmark gives PyTorch the same count (`torch.set_num_threads(st.config.get_num_threads())`).
- `set_num_threads(n)` (`st.set_num_threads`) chooses another count for the rest of the process;
  `set_num_threads(1)` runs everything on the caller's thread (products on the private serial
  BLAS); `set_num_threads(None)` goes back to the default; `with use_num_threads(n):` for one
  block. Where the private BLAS cannot be opened (not glibc; `gemm_serial.available()` is False)
  the default is one thread with NumPy's BLAS pool doing the products (the behaviour before
  issue 14), and an explicit `set_num_threads(n)` also sets that BLAS to one thread for the
  process (the old explicit mode, made only when asked; `None` restores it).

The Numba kernels are compiled without `parallel=True` (they run inside striate's threads), so
striate never touches Numba's thread pool either.

Memory allocator (opt-in)
-------------------------
A training step allocates and frees the same large arrays every step (activations, im2col
columns, gradients). glibc's malloc gives large blocks back to the kernel on free (mmap
threshold, heap trimming), so the next step page-faults all of them in again, zero-filled:
measured on the 2-core target, a LeNet-5 batch-64 step took 17.9 ms that way and 7.3 ms with
freed memory kept for reuse (MNIST ConvNet 55 -> 40 ms). `keep_freed_memory()` raises the mmap
threshold to its 32 MiB maximum and the trim threshold to 1 GiB (glibc only). That setting is
the process's, not striate's, so striate never makes it on its own: call it once in a training
program (the `striate` command line does). Memory freed by a step then stays mapped to this
process for the next step; it does not grow over steps (benchmarks/bench_memory.py checks RSS
at step 100 and 1000).

Reference path and forced paths
-------------------------------
`with use_reference():` (or `set_reference(True)`) runs convolution, pooling and batch norm as
the lecture's formulas in plain NumPy (no chunks, no threads, no Winograd): slow, readable, and
the tests' oracle next to PyTorch. `use_conv_path("im2col" | "winograd" | "reference")` forces
one convolution path whatever the thresholds in `striate.tuning` say ("auto" lets them decide).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

KERNEL_CHOICES = ("numba", "numpy")


def _kernels_from_env() -> str:
    name = os.environ.get("STRIATE_KERNELS", "numba").strip().lower() or "numba"
    if name not in KERNEL_CHOICES:
        raise ValueError(
            f"STRIATE_KERNELS={name!r} is not a kernel set; use one of {', '.join(KERNEL_CHOICES)}"
        )
    return name


_state: dict = {"kernels": _kernels_from_env(), "threads": None, "limiter": None, "reference": False,
                "conv_path": "auto"}


@contextlib.contextmanager
def _scoped(key: str, setter: Callable[[Any], None], value: Any) -> Iterator[None]:
    """setter(value) for the block, then setter(the previous value of _state[key])."""
    previous = _state[key]
    setter(value)
    try:
        yield
    finally:
        setter(previous)


def get_kernels() -> str:
    """The active kernel twin: "numba" (compiled, default) or "numpy" (reference)."""
    return _state["kernels"]


def set_kernels(name: str) -> None:
    """Select the kernel twin for the rest of the process: "numba" or "numpy"."""
    if name not in KERNEL_CHOICES:
        raise ValueError(f"unknown kernel set {name!r}; use one of {', '.join(KERNEL_CHOICES)}")
    _state["kernels"] = name


def use_kernels(name: str) -> contextlib.AbstractContextManager[None]:
    """`with st.config.use_kernels("numpy"):` runs the block on the NumPy reference kernels."""
    return _scoped("kernels", set_kernels, name)


def set_num_threads(n: int | None) -> None:
    """Run striate's operations on `n` threads for the rest of the process (`torch.set_num_threads`);
    `None` goes back to the default (every core this process may use). Touches no process-wide
    setting while striate's private serial BLAS is there (see the module docstring)."""
    if n is None:
        if _state["limiter"] is not None:
            _state["limiter"].restore_original_limits()
        _state["limiter"], _state["threads"] = None, None
        return
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads needs n >= 1, got {n}")
    from striate.kernels import gemm_serial

    if _state["limiter"] is None and not gemm_serial.available():
        # no private BLAS here (not glibc): the explicit call hands BLAS to striate, as before
        from threadpoolctl import threadpool_limits

        _state["limiter"] = threadpool_limits(limits=1, user_api="blas")
    _state["threads"] = n


def get_num_threads() -> int:
    """Threads striate's operations use: the count from `set_num_threads`, else
    `default_num_threads()` (the cores this process may run on)."""
    return _state["threads"] or default_num_threads()


def use_num_threads(n: int) -> contextlib.AbstractContextManager[None]:
    """`with st.config.use_num_threads(2):` striate uses 2 threads in the block, then as before."""
    return _scoped("threads", set_num_threads, n)


def available_cores() -> int:
    """The number of cores this process may run on (`os.sched_getaffinity`; `os.cpu_count` elsewhere)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def default_num_threads() -> int:
    """striate's thread count when no program chose one, read once: OMP_NUM_THREADS when set (the
    convention PyTorch and BLAS libraries follow, e.g. one thread per MPI rank), else every core
    this process may run on (`available_cores`). Where striate has no private serial BLAS (see the
    module docstring) the default stays 1 thread with NumPy's BLAS pool doing the products: more
    threads there would share that pool (measured 5x slower under load)."""
    if "default_threads" not in _state:
        from striate.kernels import gemm_serial

        omp = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
        if omp.isdigit() and int(omp) > 0:
            _state["default_threads"] = int(omp)
        else:
            _state["default_threads"] = available_cores() if gemm_serial.available() else 1
    return _state["default_threads"]


def keep_freed_memory(enabled: bool = True) -> bool:
    """Ask glibc's malloc to keep freed large blocks for reuse (see the module docstring).

    Opt-in: striate never calls it by itself (the command line does). Returns True when the
    allocator accepted the settings (False on other C libraries or when disabled by
    STRIATE_KEEP_FREED_MEMORY=0). `enabled=False` restores glibc's defaults.
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


def set_reference(enabled: bool) -> None:
    """Run convolution, pooling and batch norm as the lecture's plain NumPy math (True) or on
    the fast paths (False, the default)."""
    _state["reference"] = bool(enabled)


def get_reference() -> bool:
    """True while the reference path is on (`use_reference`)."""
    return _state["reference"]


def use_reference(enabled: bool = True) -> contextlib.AbstractContextManager[None]:
    """`with st.config.use_reference():` the block runs on the readable reference path."""
    return _scoped("reference", set_reference, enabled)


CONV_PATHS = ("auto", "im2col", "winograd", "depthwise", "reference")


def set_conv_path(path: str) -> None:
    """Force one convolution path: "im2col", "winograd" (3x3/5x5, stride 1, dilation 1, one
    group; other layers raise), "depthwise" (groups = in_channels; other layers raise),
    "reference", or "auto" (the thresholds in `striate.tuning`)."""
    if path not in CONV_PATHS:
        raise ValueError(f"unknown convolution path {path!r}; use one of {', '.join(CONV_PATHS)}")
    _state["conv_path"] = path


def get_conv_path() -> str:
    """The forced convolution path, or "auto"."""
    return _state["conv_path"]


def use_conv_path(path: str) -> contextlib.AbstractContextManager[None]:
    """`with st.config.use_conv_path("winograd"):` forces that path in the block."""
    return _scoped("conv_path", set_conv_path, path)

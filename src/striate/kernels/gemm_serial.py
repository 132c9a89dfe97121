"""A serial BLAS of striate's own: matrix products on the calling thread, without touching the
process's BLAS setting.

Why: striate runs its work on its own threads by default (`striate.config`). A product called
from two of them at once through NumPy's OpenBLAS, whose pool has as many threads as cores, makes
three or more threads share two cores: OpenBLAS takes a global lock around each threaded GEMM
(`level3_lock` in driver/level3/level3_thread.c) and its workers spin between jobs, so the
products serialize and stall (measured under load, 16x150x800: 14 ms of CPU through NumPy's
2-thread pool vs 0.24 ms serial). Setting that pool to one thread would fix it, but the pool is
the process's: every NumPy/SciPy user in the application would lose its threads. OpenBLAS's
`openblas_set_num_threads_local` does not help either: in a pthreads build (NumPy's) it sets the
count for the whole process (openblas_set_num_threads.c; checked with NumPy 2.4's OpenBLAS 0.3.31).

So striate opens a *second instance* of the very library NumPy ships, in a link-map namespace of
its own (glibc's `dlmopen(LM_ID_NEWLM)`), and sets that instance to one thread. NumPy's OpenBLAS,
its pool and its settings stay exactly as they were (threadpoolctl does not even list the copy).
The copy shares the file's code pages; it costs ~6 ms to open, once, on the first product.

    matmul(a, b, out=None)   == np.matmul(a, b) for float32/float64 arrays of 2+ dimensions
                                (batch dimensions broadcast: one BLAS call per matrix), serially;
                                small matrices go to np.matmul, which OpenBLAS runs serially too
    available()              False where the copy cannot be opened (not glibc, no OpenBLAS in
                                NumPy): then matmul is np.matmul itself

The BLAS calls release the GIL (ctypes), so striate's threads multiply at the same time.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from typing import Any

import numpy as np

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
# OpenBLAS runs a GEMM of at most this many multiply-adds on the calling thread, never on its pool
# (SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD in interface/gemm.c): NumPy's matmul is already
# serial there, and cheaper to call (~0.3 us per matrix against ~5-15 us through ctypes).
OPENBLAS_SERIAL_MACS = 65536 * 4
_state: dict[str, Any] = {"loaded": False, "fns": None}
_lock = threading.Lock()


def _numpy_openblas() -> tuple[str, str, str] | None:
    """(path, symbol prefix, symbol suffix) of NumPy's OpenBLAS, or None."""
    from threadpoolctl import threadpool_info

    for info in threadpool_info():
        if info.get("internal_api") == "openblas" and "numpy" in info.get("filepath", ""):
            path = os.path.realpath(info["filepath"])
            base = os.path.basename(path)
            if base.startswith("libscipy_openblas64_"):
                return path, "scipy_", "64_"
            if base.startswith("libscipy_openblas"):
                return path, "scipy_", ""
            return path, "", ""
    return None


def _open_private(path: str) -> ctypes.CDLL | None:
    """The library at `path` loaded a second time, in a new link-map namespace (glibc only)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        dlmopen = libc.dlmopen
    except (OSError, AttributeError):
        return None
    dlmopen.restype, dlmopen.argtypes = ctypes.c_void_p, [ctypes.c_long, ctypes.c_char_p, ctypes.c_int]
    LM_ID_NEWLM, RTLD_NOW = -1, 2
    handle = dlmopen(LM_ID_NEWLM, path.encode(), RTLD_NOW)
    return ctypes.CDLL(path, handle=handle) if handle else None


def _bind(lib: ctypes.CDLL, prefix: str, suffix: str) -> dict | None:
    """The instance's GEMMs (and its thread setter), typed for ctypes; None if absent.

    One `cblas_?gemm` call per matrix of a batch: OpenBLAS 0.3.31's `cblas_?gemm_batch` jumped to a
    null kernel in NumPy's multi-architecture build (tried: segmentation fault)."""
    index = ctypes.c_int64 if suffix.startswith("64") else ctypes.c_int32
    try:
        set_threads = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}")
        fns = {}
        for dtype, letter, scalar in ((np.float32, "s", ctypes.c_float), (np.float64, "d", ctypes.c_double)):
            fn = getattr(lib, f"{prefix}cblas_{letter}gemm{suffix}")
            fn.restype = None
            p = ctypes.c_void_p
            # Order, TransA, TransB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc  (cblas.h)
            fn.argtypes = [ctypes.c_int] * 3 + [index] * 3 + [scalar, p, index, p, index, scalar, p, index]
            fns[np.dtype(dtype)] = fn
    except AttributeError:
        return None
    set_threads.argtypes = [ctypes.c_int]
    set_threads(1)
    return fns


def _functions() -> dict | None:
    if not _state["loaded"]:
        with _lock:
            if not _state["loaded"]:
                found = _numpy_openblas()
                lib = _open_private(found[0]) if found else None
                _state["fns"] = _bind(lib, *found[1:]) if lib is not None else None
                _state["loaded"] = True
    return _state["fns"]


def available() -> bool:
    """True when striate's private serial BLAS could be opened (see the module docstring)."""
    return _functions() is not None


def _leading(m: np.ndarray) -> tuple[int, int] | None:
    """(transpose flag, leading dimension) of the 2-D matrices in m's last two axes, or None when
    neither axis has unit stride (BLAS needs one)."""
    rows, cols = m.shape[-2:]
    rs, cs = (st // m.itemsize if st % m.itemsize == 0 else 0 for st in m.strides[-2:])
    if (cols == 1 or cs == 1) and (rows == 1 or rs >= cols):
        return _NO_TRANS, (rs if rows > 1 else cols)
    if (rows == 1 or rs == 1) and (cols == 1 or cs >= rows):
        return _TRANS, (cs if cols > 1 else rows)
    return None


def _addresses(m: np.ndarray, batch: tuple[int, ...]) -> np.ndarray:
    """Start address of every matrix of m (broadcast to `batch` + its last two axes)."""
    m = np.broadcast_to(m, batch + m.shape[-2:])
    offsets = np.zeros(batch, np.int64)
    for axis, (size, stride) in enumerate(zip(batch, m.strides[:-2])):
        shape = [1] * len(batch)
        shape[axis] = size
        offsets = offsets + (np.arange(size, dtype=np.int64) * stride).reshape(shape)
    return (offsets + m.ctypes.data).reshape(-1)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """np.matmul(a, b, out=out) on the private one-thread BLAS (np.matmul where it cannot)."""
    fns = _functions()
    dtype = a.dtype
    if (fns is None or dtype not in fns or b.dtype != dtype or a.ndim < 2 or b.ndim < 2
            or (out is not None and out.dtype != dtype)):
        return np.matmul(a, b, out=out)
    M, K = a.shape[-2:]
    N = b.shape[-1]
    if b.shape[-2] != K:
        return np.matmul(a, b, out=out)  # NumPy's error message
    if M * N * K <= OPENBLAS_SERIAL_MACS:
        return np.matmul(a, b, out=out)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    count = int(np.prod(batch, dtype=np.int64))
    if (count == 0 or M == 0 or N == 0 or K == 0 or (out is not None and (
            out.shape != batch + (M, N) or np.may_share_memory(out, a) or np.may_share_memory(out, b)))):
        return np.matmul(a, b, out=out)  # NumPy's checks and its handling of overlapping output
    la, lb = _leading(a), _leading(b)
    if la is None:
        a, la = np.ascontiguousarray(a), (_NO_TRANS, K)
    if lb is None:
        b, lb = np.ascontiguousarray(b), (_NO_TRANS, N)
    target = out
    if out is None or out.strides[-1] != out.itemsize or (M > 1 and out.strides[-2] < N * out.itemsize):
        target = np.empty(batch + (M, N), dtype)
    fn = fns[dtype]
    ldc = target.strides[-2] // target.itemsize if M > 1 else N
    (ta, lda), (tb, ldb) = la, lb
    for pa, pb, pc in zip(*(_addresses(m, batch).tolist() for m in (a, b, target))):
        fn(_ROW_MAJOR, ta, tb, M, N, K, 1.0, pa, lda, pb, ldb, 0.0, pc, ldc)
    if target is not out:
        if out is None:
            return target
        out[...] = target
    return out

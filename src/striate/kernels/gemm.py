"""Matrix products that keep both cores busy without OpenBLAS's own threads.

Why: OpenBLAS splits one GEMM over its threads and makes them meet (spin-wait) after every
block of the reduction dimension. When the cores are shared with other processes, a partner
thread that is descheduled turns each meeting into a lost time slice: measured on the 2-core
target with two other jobs running, (64 x 4096) @ (4096 x 512) (the CIFAR net's fc layer) took
128-184 ms with 2 BLAS threads and 3.6 ms with 1, and a conv weight gradient (32 x 65536) @
(65536 x 288) stalled for 1.6 s instead of 20 ms. PyTorch degrades gracefully in the same
situation. So large products here run BLAS serially on `threads` independent pieces, one per
Python thread (NumPy releases the GIL inside matmul); the pieces never wait on each other.

    C = A @ B, A (M, R), B (R, N):
      R the largest: C = sum_t A[:, R_t] @ B[R_t, :]        (reduction split, partial sums added)
      M the largest: C[M_t] = A[M_t] @ B                    (row blocks, written in place)
      N the largest: C[:, N_t] = A @ B[:, N_t]              (column blocks)

Every piece (and a product too small to split, or any product with one striate thread) runs on
striate's private serial BLAS (`parallel.matmul`, `gemm_serial`), never on NumPy's pool, whose
thread count stays the process's. Small products stalled with 2 BLAS threads as well (LeNet-5's
7 ms per product with PyTorch's idle threads in the same process, < 1 ms serial).
"""

from __future__ import annotations

import numpy as np

from striate import tuning
from striate.kernels.parallel import even_bounds, matmul, serial_blas, submit


def gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for 2-D arrays: BLAS serial, large products split over striate's threads."""
    M, R = a.shape
    N = b.shape[1]
    with serial_blas() as threads:
        largest = max(M, N, R)
        if threads <= 1 or M * N * R < tuning.MIN_SPLIT_MACS or largest < 2 * threads:
            return matmul(a, b)
        return _split(a, b, threads, largest)


def _split(a: np.ndarray, b: np.ndarray, threads: int, largest: int) -> np.ndarray:
    M, R = a.shape
    N = b.shape[1]
    parts = even_bounds(largest, threads)
    if largest == R:
        futures = [submit(matmul, a[:, s:e], b[s:e], threads=threads) for s, e in parts[1:]]
        s, e = parts[0]
        out = matmul(a[:, s:e], b[s:e])
        for f in futures:
            out += f.result()
        return out
    out = np.empty((M, N), np.result_type(a, b))
    if largest == M:
        futures = [submit(matmul, a[s:e], b, out[s:e], threads=threads) for s, e in parts[1:]]
        s, e = parts[0]
        matmul(a[s:e], b, out[s:e])
        for f in futures:
            f.result()
        return out
    futures = [submit(matmul, a, b[:, s:e], threads=threads) for s, e in parts[1:]]
    s, e = parts[0]
    out[:, s:e] = matmul(a, b[:, s:e])
    for (s, e), f in zip(parts[1:], futures):
        out[:, s:e] = f.result()
    return out


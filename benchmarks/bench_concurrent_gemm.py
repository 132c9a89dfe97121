"""Products from one and from two threads at once: NumPy's OpenBLAS (its own pool, as the process
has it) against striate's private serial BLAS (`striate.kernels.gemm_serial`).

Why it matters (issue 14): striate's threads multiply at the same time. Through NumPy's OpenBLAS
with a pool of one thread per core, each threaded GEMM takes OpenBLAS's global lock and its pool
workers spin between jobs, so two callers serialize and, on a busy machine, stall; the private
one-thread instance lets each caller multiply on its own core.

    python benchmarks/bench_concurrent_gemm.py [--shape 64 576 1024] [--rounds 5] [--reps 20]

Printed: per product, wall ms and CPU ms (all threads; spinning counts) — medians over rounds —
with the BLAS kernel, NumPy's pool size and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

for _name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # this process only: OpenBLAS's own choice
    os.environ.pop(_name, None)

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402

from striate.kernels import gemm_serial  # noqa: E402


def per_product(fn, a: np.ndarray, b: np.ndarray, callers: int, reps: int) -> tuple[float, float]:
    """(wall ms, CPU ms) per product when `callers` threads each run `reps` products at once."""
    def loop() -> None:
        out = np.empty((a.shape[0], b.shape[1]), a.dtype)
        for _ in range(reps):
            fn(a, b, out)

    t, c = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=loop) for _ in range(callers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    n = reps * callers
    return (time.perf_counter() - t) / n * 1e3, (time.process_time() - c) / n * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=[64, 576, 1024], metavar=("M", "K", "N"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args(argv)
    M, K, N = args.shape
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in ((M, K), (K, N)))
    if not gemm_serial.available():
        print("no private serial BLAS here (needs glibc and NumPy's OpenBLAS)")
        return 1
    blas = [(i["internal_api"], i.get("architecture"), i["num_threads"]) for i in threadpool_info()
            if i["user_api"] == "blas"]
    ways = {"numpy": lambda x, y, o: np.matmul(x, y, out=o), "private": gemm_serial.matmul}
    rows: dict = {(w, c): [] for w in ways for c in (1, 2)}
    for _ in range(max(1, args.rounds)):
        for (way, callers), samples in rows.items():
            samples.append(per_product(ways[way], a, b, callers, args.reps))
    print(f"# ({M}x{K})@({K}x{N}) float32; NumPy's BLAS {blas}; load average "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    for (way, callers), samples in rows.items():
        wall, cpu = (statistics.median(s[i] for s in samples) for i in (0, 1))
        label = "NumPy's OpenBLAS pool" if way == "numpy" else "private serial BLAS"
        print(f"{label:22s} {callers} caller(s): {wall:8.3f} ms wall  {cpu:8.3f} ms CPU per product")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

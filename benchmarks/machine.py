"""What a benchmark must say about the machine and the libraries it ran on.

OpenBLAS reads OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) once, in its constructor, when NumPy's
extension module loads it: removing the variable after `import numpy` changes nothing. Some
machines of this project set it (older OpenBLAS builds crashed on their CPUs) and it can force a
slower kernel than the one OpenBLAS picks itself, which users do not have. So every benchmark
process is started by `clean_env()`'s environment, fresh, and reports the kernel threadpoolctl
sees *in that process* and a measured sgemm rate. PyTorch does not use OpenBLAS on x86 (MKL and
oneDNN), so removing these two variables does not change it; nothing else in its environment
is touched (no OMP_WAIT_POLICY, no thread policy).
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def clean_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) without the OpenBLAS kernel overrides."""
    env = dict(os.environ if base is None else base)
    for name in OPENBLAS_OVERRIDES:
        env.pop(name, None)
    return env


def environment_overrides() -> dict[str, str]:
    """The OpenBLAS overrides as the user's environment sets them (empty: none set)."""
    return {name: os.environ[name] for name in OPENBLAS_OVERRIDES if name in os.environ}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The vector extensions the CPU reports (what decides OpenBLAS's and oneDNN's kernels)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next(line for line in f if line.startswith("flags")).split(":", 1)[1].split()
    except (OSError, StopIteration):
        return []
    return sorted(f for f in flags if f in ("avx", "avx2", "fma") or f.startswith("avx512"))


def load_average() -> list[float] | None:
    return [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None


def blas_info() -> dict:
    """NumPy's BLAS as threadpoolctl reports it in this process (kernel = `architecture`), and any
    other BLAS loaded (Numba imports SciPy, which brings its own OpenBLAS; striate's products go
    through NumPy's)."""
    import numpy  # noqa: F401  (threadpoolctl only sees libraries already loaded)
    from threadpoolctl import threadpool_info

    libs = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    ours = next((lib for lib in libs if "numpy" in lib.get("filepath", "")), libs[0] if libs else None)
    if ours is None:
        return {"library": None}
    return {"library": ours.get("internal_api"), "version": ours.get("version"),
            "kernel": ours.get("architecture"), "threads": ours.get("num_threads"),
            "threading_layer": ours.get("threading_layer"), "file": Path(ours["filepath"]).name,
            "loaded_with": {name: os.environ.get(name) for name in OPENBLAS_OVERRIDES},
            "other_blas": [f"{Path(lib['filepath']).name} {lib.get('version')} kernel "
                           f"{lib.get('architecture')} threads {lib.get('num_threads')}"
                           for lib in libs if lib is not ours]}


def torch_info() -> dict:
    """PyTorch's BLAS/CPU lines from torch.__config__.show(), and its default thread counts."""
    import torch

    wanted = ("Math Kernel Library", "MKL-DNN", "OpenMP", "CPU capability", "OpenBLAS")
    lines = [line.strip(" -") for line in torch.__config__.show().splitlines()
             if any(w in line for w in wanted)]
    blas = next((part.split("=", 1)[1] for part in torch.__config__.show().replace(",", " ").split()
                 if part.startswith("BLAS_INFO=")), None)
    return {"version": torch.__version__, "blas": blas, "config": lines,
            "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads()}


def versions() -> dict:
    import numba
    import numpy

    import striate

    return {"python": platform.python_version(), "numpy": numpy.__version__,
            "numba": numba.__version__, "striate": getattr(striate, "__version__", "?")}


def _best_gflops(matmul, a, b, n: int, runs: int) -> float:
    matmul(a, b)
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        matmul(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def sgemm_gflops(n: int = 2048, runs: int = 5) -> float:
    """Best-of-`runs` float32 n x n x n product through NumPy, in GFLOP/s."""
    import numpy as np

    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    return _best_gflops(np.matmul, a, a.T.copy(), n, runs)


def torch_sgemm_gflops(n: int = 2048, runs: int = 5) -> float:
    """The same product through PyTorch (MKL on x86)."""
    import torch

    a = torch.randn(n, n)
    return _best_gflops(torch.matmul, a, a.T.contiguous(), n, runs)


def facts(sgemm_n: int = 2048) -> dict:
    """Everything above, measured in this process (run it in a fresh one: see the docstring)."""
    return {"cpu": cpu_model(), "cpu_vector_flags": cpu_flags(), "cores": os.cpu_count(),
            "platform": platform.platform(), "executable": sys.executable, **versions(),
            "numpy_blas": blas_info(), "torch": torch_info(),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),  # as found: never set here
            "sgemm_gflops": {"n": sgemm_n, "numpy": sgemm_gflops(sgemm_n),
                             "torch": torch_sgemm_gflops(sgemm_n)}}

"""Does `st.dtype` (PyTorch-like dtype objects, `t.dtype` -> striate.float32) slow the hot path?

Each measurement is process CPU time (time.process_time, best of `--repeats`) of:

- `ops`: 10,000 small autograd ops, forward and backward (bench_overhead's chains, 4x4);
- `t.dtype`: reading a tensor's dtype; `t.float()` on a float32 tensor (a no-op);
- `zeros(dtype=)`: `st.zeros(4, dtype=st.float32)`; `np.zeros(dtype=t.dtype)`: NumPy taking the
  dtype object; `t.to(float64)`: a cast.

    python benchmarks/bench_dtype.py                       # this checkout's striate
    python benchmarks/bench_dtype.py --ab /work/main/src   # A/B: that source tree vs this one

With `--ab`, child processes alternate between the two source trees (PYTHONPATH), `--rounds`
times each, so that load on a shared machine falls on both alike; each child starts from
`machine.clean_env()` (no OpenBLAS kernel overrides). The medians and the ratio B/A are printed
with the BLAS kernel and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
THIS_SRC = HERE.parent / "src"


def _best_cpu(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def measure(n_ops: int = 10_000, n_small: int = 100_000, repeats: int = 5) -> dict[str, float]:
    """Nanoseconds per operation (CPU time) for each workload of the module docstring."""
    import numpy as np

    import striate as st

    sys.path.insert(0, str(HERE))
    from bench_overhead import chain_mix

    def ops() -> None:
        out, _ = chain_mix(st.ones(4, 4, requires_grad=True), n_ops, st.relu)
        out.backward()

    t = st.ones(4, 4)
    d = t.dtype
    small = {
        "t.dtype": lambda: [t.dtype for _ in range(n_small)],
        "t.float()": lambda: [t.float() for _ in range(n_small)],
        "zeros(dtype=)": lambda: [st.zeros(4, dtype=st.float32) for _ in range(n_small // 10)],
        "np.zeros(dtype=t.dtype)": lambda: [np.zeros(4, dtype=d) for _ in range(n_small // 10)],
        "t.to(float64)": lambda: [t.to(st.float64) for _ in range(n_small // 10)],
    }
    counts = {"t.dtype": n_small, "t.float()": n_small, "zeros(dtype=)": n_small // 10,
              "np.zeros(dtype=t.dtype)": n_small // 10, "t.to(float64)": n_small // 10}
    result = {"ops (fwd+bwd)": _best_cpu(ops, repeats) / n_ops * 1e9}
    for name, fn in small.items():
        result[name] = _best_cpu(fn, repeats) / counts[name] * 1e9
    return result


def dtype_calls_on_hot_path(n_ops: int = 1000) -> dict[str, int]:
    """Python calls into striate's dtype code (striate/dtypes.py, `Tensor.dtype`,
    `_resolve_dtype`) while bench_overhead's chains run forward and backward: a count, not a
    time, so the load on a shared machine cannot blur it. Empty: the op path does not touch it."""
    import collections

    import striate as st

    sys.path.insert(0, str(HERE))
    from bench_overhead import CHAINS

    calls: collections.Counter = collections.Counter()

    def count(frame, event, arg):  # noqa: ANN001, ANN202 - sys.setprofile's signature
        code = frame.f_code
        if event == "call" and (code.co_filename.endswith(("striate/dtypes.py", "autograd/tensor.py"))
                                and code.co_name in ("dtype", "_resolve_dtype", "to_numpy", "of_numpy",
                                                     "from_any", "__eq__", "__hash__")):
            calls[code.co_name] += 1

    x = st.ones(4, 4, requires_grad=True)
    sys.setprofile(count)
    try:
        for chain in CHAINS.values():
            out, _ = chain(x, n_ops, st.relu)
            out.backward()
    finally:
        sys.setprofile(None)
    return dict(calls)


def _child(src: Path, args: argparse.Namespace) -> dict[str, float]:
    sys.path.insert(0, str(HERE))
    from machine import clean_env

    env = clean_env()
    env["PYTHONPATH"] = str(src)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--n-ops", str(args.n_ops),
           "--repeats", str(args.repeats)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ab(a_src: Path, b_src: Path, args: argparse.Namespace) -> str:
    """Alternate child processes on the two trees; medians per workload and the ratio B/A."""
    runs: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
    for _ in range(args.rounds):
        runs["A"].append(_child(a_src, args))
        runs["B"].append(_child(b_src, args))
    lines = [f"A = {a_src}", f"B = {b_src}", f"{'workload':<26}{'A ns/op':>12}{'B ns/op':>12}{'B/A':>8}"]
    for name in runs["A"][0]:
        a = statistics.median(r[name] for r in runs["A"])
        b = statistics.median(r[name] for r in runs["B"])
        lines.append(f"{name:<26}{a:>12.0f}{b:>12.0f}{b / a:>8.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ab", type=Path, help="source tree A (e.g. /work/main/src); B is this checkout")
    parser.add_argument("--rounds", type=int, default=5, help="A/B alternations (default 5)")
    parser.add_argument("--n-ops", type=int, default=10_000, help="small autograd ops per run")
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement; the best is kept")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.n_ops, repeats=args.repeats)))
        return
    sys.path.insert(0, str(HERE))
    from machine import blas_info, load_average

    print(f"load average before: {load_average()}; BLAS: {blas_info()}")
    if args.ab is not None:
        print(ab(args.ab, THIS_SRC, args))
    else:
        for name, ns in measure(args.n_ops, repeats=args.repeats).items():
            print(f"{name:<26}{ns:>12.0f} ns/op")
        print(f"calls into dtype code during the op chains: {dtype_calls_on_hot_path() or 'none'}")
    print(f"load average after: {load_average()}; pid {os.getpid()}")


if __name__ == "__main__":
    main()

"""Per-op Python overhead of striate's autograd engine, next to PyTorch in the same process.

A chain of tiny ops (1-element and 4x4 tensors) costs almost nothing in arithmetic, so its time
is the engine's bookkeeping: making the output tensor, recording the node, and on the way back
the topological walk and gradient routing. Printed as microseconds per op, forward and backward,
and striate / torch (the house rule: a few microseconds per op).

    python benchmarks/bench_overhead.py            # 1,000-op chains, best of 7
    python benchmarks/bench_overhead.py --n 5000 --repeats 11
    python benchmarks/bench_overhead.py --profile  # cProfile of striate's forward + backward

The machine is shared: numbers are noisy; the best of several repeats is reported.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import striate as st


def chain_affine(x: Any, n: int, relu: Callable[[Any], Any]) -> tuple[Any, int]:
    """x <- x * 1.0001 + 0.0001, repeated: 2 ops per step."""
    steps = n // 2
    for _ in range(steps):
        x = x * 1.0001 + 0.0001
    return x.sum(), 2 * steps + 1


def chain_mix(x: Any, n: int, relu: Callable[[Any], Any]) -> tuple[Any, int]:
    """A mix of relu, reshape, mul and sum (accumulated into a running total): 6 ops per step."""
    steps = n // 6
    shape = x.shape
    total = x.sum()
    for _ in range(steps):
        x = relu(x * 1.0001)
        x = x.reshape(-1).reshape(shape)
        total = total + x.sum()
    return total, 6 * steps + 1


CHAINS = {"affine": chain_affine, "mix": chain_mix}
SHAPES = {"1 element": (1,), "4x4": (4, 4)}


def _libraries() -> dict[str, dict[str, Any]]:
    libs = {"striate": {"ones": lambda shape: st.ones(*shape, requires_grad=True), "relu": st.relu}}
    try:
        import torch

        torch.set_num_threads(1)
        libs["torch"] = {"ones": lambda shape: torch.ones(*shape, requires_grad=True), "relu": torch.relu}
    except ImportError:  # torch is a test dependency only
        pass
    return libs


def time_chain(lib: dict[str, Any], chain: Callable, shape: tuple[int, ...], n: int,
               repeats: int) -> tuple[float, float, int]:
    """Best forward and backward wall time (seconds) over `repeats` runs, and the op count."""
    best_fwd = best_bwd = float("inf")
    ops = 0
    for _ in range(repeats):
        x = lib["ones"](shape)
        t0 = time.perf_counter()
        out, ops = chain(x, n, lib["relu"])
        t1 = time.perf_counter()
        out.backward()
        t2 = time.perf_counter()
        best_fwd = min(best_fwd, t1 - t0)
        best_bwd = min(best_bwd, t2 - t1)
    return best_fwd, best_bwd, ops


def measure(n: int = 1000, repeats: int = 7) -> list[dict[str, Any]]:
    """One row per (chain, shape, library): microseconds per op, forward and backward."""
    rows = []
    for chain_name, chain in CHAINS.items():
        for shape_name, shape in SHAPES.items():
            for lib_name, lib in _libraries().items():
                fwd, bwd, ops = time_chain(lib, chain, shape, n, repeats)
                rows.append({"chain": chain_name, "shape": shape_name, "library": lib_name, "ops": ops,
                             "forward_us": fwd / ops * 1e6, "backward_us": bwd / ops * 1e6})
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """The rows as a table, with striate / torch ratios when torch was measured."""
    ref = {(r["chain"], r["shape"]): r for r in rows if r["library"] == "torch"}
    lines = [f"{'chain':<8}{'shape':<11}{'library':<9}{'ops':>6}{'fwd us/op':>11}{'bwd us/op':>11}"
             f"{'fwd ratio':>11}{'bwd ratio':>11}"]
    for r in rows:
        t = ref.get((r["chain"], r["shape"]))
        ratios = ("", "")
        if t is not None and r["library"] != "torch":
            ratios = (f"{r['forward_us'] / t['forward_us']:.2f}x",
                      f"{r['backward_us'] / t['backward_us']:.2f}x")
        lines.append(f"{r['chain']:<8}{r['shape']:<11}{r['library']:<9}{r['ops']:>6}"
                     f"{r['forward_us']:>11.2f}{r['backward_us']:>11.2f}{ratios[0]:>11}{ratios[1]:>11}")
    return "\n".join(lines)


def profile(n: int = 1000, top: int = 15) -> str:
    """cProfile of striate's forward and backward on both chains (4x4), sorted by own time."""
    prof = cProfile.Profile()
    prof.enable()
    for chain in CHAINS.values():
        for _ in range(3):
            out, _ = chain(st.ones(4, 4, requires_grad=True), n, st.relu)
            out.backward()
    prof.disable()
    import io

    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="ops per chain (default 1000)")
    parser.add_argument("--repeats", type=int, default=7, help="runs per measurement; the best is kept")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of striate's hot path")
    args = parser.parse_args(argv)
    print(f"numpy {np.__version__}; chains of ~{args.n} ops; best of {args.repeats}")
    print(format_table(measure(args.n, args.repeats)))
    if args.profile:
        print(profile(args.n))


if __name__ == "__main__":
    main()

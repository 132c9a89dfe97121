"""What CopySlices (in-place ops through views, `striate.autograd.rebase`) costs, A/B.

Workloads, each timed in process CPU time (`time.process_time`, the fair clock on a shared
machine), best and median of `--repeats`:

- `ops10k`: 10,000 tiny ops (x * c + c on a 4x4 tensor, no views, no in-place) forward and
  backward: the hot path the change must leave alone;
- `views10k`: 10,000 tiny ops of which a third are reshape views (the view bookkeeping);
- `lenet_step`: one LeNet-5 training step (batch 32, 28x28; forward, backward, SGD momentum);
- `inplace_view`: residual-style `out[:, :c] += x` on a (32, 16, 8, 8) activation, forward and
  backward (the new path itself), with PyTorch on the same inputs for reference.

    python benchmarks/bench_views_ab.py                       # this checkout only
    python benchmarks/bench_views_ab.py --ab /tmp/base/src    # alternate with another src tree

With `--ab`, each round runs one fresh process per tree (A then B, then B then A next round),
so both see the same load; each process prints the BLAS kernel it loaded and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _best_median(fn, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times), statistics.median(times)


def _workloads(st, F):
    x44 = st.ones(4, 4, requires_grad=True)

    def ops10k():
        x = x44
        for _ in range(5000):
            x = x * 1.0001 + 0.0001
        x.sum().backward()

    def views10k():
        x = x44
        for _ in range(3333):
            x = (x * 1.0001).reshape(16).reshape(4, 4) + 0.0001
        x.sum().backward()

    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    from workloads import lenet5

    st.manual_seed(0)
    model = lenet5(st.nn)
    opt = st.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    images = st.tensor(rng.standard_normal((32, 1, 28, 28)).astype(np.float32))
    labels = st.tensor(rng.integers(0, 10, 32))

    def lenet_step():
        opt.zero_grad()
        F.cross_entropy(model(images), labels).backward()
        opt.step()

    return {"ops10k": ops10k, "views10k": views10k, "lenet_step": lenet_step,
            "inplace_view": _residual(st)}


def _residual(lib):
    rng = np.random.default_rng(1)
    a = lib.tensor(rng.standard_normal((32, 16, 8, 8)).astype(np.float32), requires_grad=True)
    b = lib.tensor(rng.standard_normal((32, 8, 8, 8)).astype(np.float32), requires_grad=True)

    def run():
        for _ in range(20):
            out = a * 2
            out[:, :8] += b
            (out * out).sum().backward()
    run.inputs = (a, b)  # for the smoke test's parity check
    return run


def measure(repeats: int) -> dict:
    sys.path.insert(0, str(HERE))
    import striate as st
    import striate.nn.functional as F
    from machine import blas_info, load_average

    out = {"striate": st.__file__, "blas": blas_info().get("kernel"), "load_before": load_average()}
    for name, fn in _workloads(st, F).items():
        fn()  # warm-up (kernel compilation, caches)
        out[name] = _best_median(fn, repeats)
    try:
        import torch

        torch_run = _residual(torch)
        torch_run()
        out["torch_inplace_view"] = _best_median(torch_run, repeats)
        out["torch_threads"] = torch.get_num_threads()
    except ImportError:  # torch is a test dependency only
        pass
    out["load_after"] = load_average()
    return out


def _child(src: str, repeats: int) -> dict:
    from machine import clean_env

    env = clean_env()
    env["PYTHONPATH"] = src
    res = subprocess.run([sys.executable, __file__, "--child", "--repeats", str(repeats)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ab", help="another src tree to alternate with (e.g. main's)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    if args.child:
        print(json.dumps(measure(args.repeats)))
        return
    mine = str(HERE.parent / "src")
    trees = {"B (this)": mine} if not args.ab else {"A (other)": args.ab, "B (this)": mine}
    results = {k: [] for k in trees}
    for r in range(args.rounds):
        order = list(trees) if r % 2 == 0 else list(reversed(trees))
        for key in order:
            res = _child(trees[key], args.repeats)
            results[key].append(res)
            print(f"round {r} {key}: blas {res['blas']}, load {res['load_before']} -> "
                  f"{res['load_after']}", flush=True)
    names = ["ops10k", "views10k", "lenet_step", "inplace_view", "torch_inplace_view"]
    print(f"\nCPU ms (process_time), best / median over {args.rounds} processes x {args.repeats} repeats")
    print(f"{'workload':20s}" + "".join(f"{k:>24s}" for k in trees))
    for name in names:
        row = f"{name:20s}"
        for key in trees:
            runs = [r[name] for r in results[key] if name in r]
            if not runs:
                row += f"{'-':>24s}"
                continue
            best = min(b for b, _ in runs) * 1e3
            med = statistics.median(m for _, m in runs) * 1e3
            row += f"{best:12.2f} /{med:10.2f}"
        print(row)
    print(f"load average now: {[round(v, 2) for v in os.getloadavg()]}")


if __name__ == "__main__":
    main()

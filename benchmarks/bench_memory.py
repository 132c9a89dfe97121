"""Peak memory of one training step, striate vs PyTorch, and RSS growth over a long run.

Each measurement runs in its own fresh process (peak RSS is a process-lifetime maximum, and the
two libraries must not share an allocator):

- peak RSS (resource.getrusage ru_maxrss) after a few training steps, and the same peak minus
  the RSS just before the first step (what the step itself costs: activations, saved tensors,
  gradients, im2col buffers), for LeNet-5 (1x28x28, batch 64) and ResNet-18 (3x32x32, batch 32);
- for striate also tracemalloc's peak of NumPy allocations during one step;
- growth: current RSS of a striate LeNet-5 training run at step 100 and at step 1000.

    python benchmarks/bench_memory.py                    # all rows, markdown table on stdout
    python benchmarks/bench_memory.py --growth-steps 200 # shorter growth check
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys

WORKLOADS = {"lenet5": ("LeNet-5 1x28x28", 64), "resnet18": ("ResNet-18 3x32x32", 32)}


def _rss_mib() -> float:
    """Current resident set size (not the peak), from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _build(lib: str, workload: str):
    import numpy as np

    from striate import bench

    name, batch = WORKLOADS[workload]
    w = next(w for w in bench.WORKLOADS if w.name == name and w.batch == batch)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((w.batch, *w.input_shape)).astype(np.float32)
    y = rng.integers(0, 10, w.batch)
    if lib == "torch":
        import torch

        torch.set_num_threads(1)
        model = w.build(torch.nn)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)

        def step():
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(tx), ty).backward()
            opt.step()
    else:
        import striate as st
        import striate.nn as snn
        import striate.nn.functional as F

        st.config.set_num_threads(1)
        model = w.build(snn)
        opt = st.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        sx, sy = st.from_numpy(x), st.from_numpy(y)

        def step():
            opt.zero_grad()
            F.cross_entropy(model(sx), sy).backward()
            opt.step()
    return step


def worker(lib: str, workload: str, steps: int, growth: bool) -> dict:
    step = _build(lib, workload)
    before = _rss_mib()
    if growth:
        at = {}
        for i in range(1, steps + 1):
            step()
            if i in (100, steps):
                at[i] = _rss_mib()
        return {"rss_mib_at": at, "peak_mib": _peak_mib()}
    for _ in range(steps):
        step()
    row = {"peak_mib": _peak_mib(), "before_first_step_mib": before}
    row["step_peak_mib"] = row["peak_mib"] - before
    if lib == "striate":
        import tracemalloc

        tracemalloc.start()
        step()
        row["tracemalloc_step_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return row


def _spawn(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--growth-steps", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=3, help="training steps before the peak is read")
    parser.add_argument("--worker", nargs=4, metavar=("LIB", "WORKLOAD", "STEPS", "GROWTH"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        lib, workload, steps, growth = args.worker
        print(json.dumps(worker(lib, workload, int(steps), growth == "1")))
        return 0
    print("| workload | library | peak RSS MiB | peak - RSS before 1st step MiB "
          "| tracemalloc step peak MiB |")
    print("|---|---|---|---|---|")
    results = {}
    for workload in WORKLOADS:
        for lib in ("striate", "torch"):
            r = _spawn(lib, workload, str(args.steps), "0")
            results[f"{workload}/{lib}"] = r
            tm = r.get("tracemalloc_step_peak_mib")
            print(f"| {WORKLOADS[workload][0]} b{WORKLOADS[workload][1]} | {lib} | {r['peak_mib']:.0f} | "
                  f"{r['step_peak_mib']:.0f} | {'' if tm is None else f'{tm:.0f}'} |", flush=True)
    g = _spawn("striate", "lenet5", str(args.growth_steps), "1")
    at = {int(k): v for k, v in g["rss_mib_at"].items()}
    print(f"\nstriate LeNet-5 b64 RSS: step 100 {at[100]:.1f} MiB, step {args.growth_steps} "
          f"{at[args.growth_steps]:.1f} MiB (growth {at[args.growth_steps] - at[100]:+.1f} MiB)")
    results["growth"] = g
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

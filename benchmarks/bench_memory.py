"""Peak memory of one training step, striate vs PyTorch, and RSS growth over a long run.

Each measurement runs in its own fresh process (peak RSS is a process-lifetime maximum, and the
two libraries must not share an allocator):

- peak RSS (VmHWM in /proc/self/status, the kernel's high-water mark of resident memory: it
  counts every allocator, PyTorch's and oneDNN's included, where tracemalloc sees only NumPy's)
  after a few training steps, and the same peak minus the RSS just before the first step (what
  the step itself costs: activations, saved tensors, gradients, im2col buffers, workspace), for
  LeNet-5 (1x28x28, batch 64) and ResNet-18 (3x32x32, batch 32);
- for striate also tracemalloc's peak of NumPy allocations during one step (a lower bound);
- growth: current RSS of a striate LeNet-5 training run at step 100 and at step 1000.

    python benchmarks/bench_memory.py                    # all rows, markdown table on stdout
    python benchmarks/bench_memory.py --growth-steps 200 # shorter growth check

Both libraries keep their default thread counts (the same as the honest benchmark's default);
every process starts without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import machine  # noqa: E402
import workloads  # noqa: E402

WORKLOADS = {"lenet5": ("LeNet-5 1x28x28", 64), "resnet18": ("ResNet-18 3x32x32", 32)}


def _rss_mib() -> float:
    """Current resident set size (not the peak), from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mib() -> float:
    """The process's peak resident set size so far (VmHWM, kB)."""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _build(lib: str, workload: str):
    import numpy as np

    name, batch = WORKLOADS[workload]
    w = workloads.find(f"{name} b{batch}")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((w.batch, *w.input_shape)).astype(np.float32)
    y = rng.integers(0, 10, w.batch)
    if lib == "torch":
        import torch

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

        model = w.build(snn)
        opt = st.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        sx, sy = st.from_numpy(x), st.from_numpy(y)

        def step():
            opt.zero_grad()
            F.cross_entropy(model(sx), sy).backward()
            opt.step()
    return step


def _reset_peak() -> None:
    """Start VmHWM again from the current RSS (Linux >= 4.0), so that the peak read after the
    steps is the steps' own, not the imports'."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def worker(lib: str, workload: str, steps: int, growth: bool) -> dict:
    step = _build(lib, workload)
    before = _rss_mib()
    _reset_peak()
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
    row["step_peak_mib"] = row["peak_mib"] - before  # the peak was reset to `before` above
    if lib == "striate":
        import tracemalloc

        tracemalloc.start()
        step()
        row["tracemalloc_step_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return row


def _spawn(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True,
                         check=True, env=machine.clean_env())
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
    print(f"load average {machine.load_average()}; default threads for both libraries\n")
    print("| workload | library | peak RSS during the steps MiB | peak - RSS before 1st step MiB "
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

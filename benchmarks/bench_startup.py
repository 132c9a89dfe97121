"""Start-up cost: `import striate`, and the first LeNet-5 training step of a fresh process.

Each measurement is a new Python process (start-up is what a fresh process pays). The first
process may compile the Numba kernels; its disk cache makes every later one load them instead,
so one untimed warm-up process runs first and the timed runs are "cache warm", as the issue
asks. Reported: median over --runs processes of

- import: wall time of `import striate` inside the process;
- first step: building LeNet-5 ("modern", batch 64, 1x32x32) plus its first forward, backward and SGD
  step, timed inside the process after the import (Numba kernels load here);
- process: the whole `python -c ...` from launch to exit, as a user waits for it;
- the CPU time (all threads) of the import and of the first step, which a busy machine
  inflates less than the wall time;
- for scale, `import torch` and PyTorch's first LeNet-5 step (the same network) in fresh
  processes of their own.

Every process starts without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (see machine.py) and with no
thread setting for either library.

    python benchmarks/bench_startup.py            # 10 fresh processes per figure
    python benchmarks/bench_startup.py --runs 1   # quick check
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import machine  # noqa: E402

# One fresh process: import the library, then build LeNet-5 and take one training step.
_CHILD = r"""
import json, time
t0, c0 = time.perf_counter(), time.process_time()
{imports}
import {lib}.nn.functional as F
t1, c1 = time.perf_counter(), time.process_time()
{model}
opt = L.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = L.randn(64, 1, 32, 32)
y = L.randint(0, 10, (64,))
opt.zero_grad()
F.cross_entropy(model(x), y).backward()
opt.step()
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({{"import_s": t1 - t0, "first_step_s": t2 - t1,
                  "import_cpu_s": c1 - c0, "first_step_cpu_s": c2 - c1}}))
"""
CHILD = _CHILD.format(imports="import striate as L", lib="striate", model='model = L.models.lenet5("modern")')
TORCH_CHILD = _CHILD.format(imports="import torch as L", lib="torch", model="""nn = L.nn
model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
                      nn.ReLU(), nn.Linear(84, 10))""")


def measure_once(child: str = CHILD) -> dict[str, float]:
    """One fresh process: import time, first-step time and the process's whole wall time."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                         env=machine.clean_env())
    if out.returncode:
        raise RuntimeError(f"the timed child process failed:\n{out.stderr}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["process_s"] = time.perf_counter() - start
    return row


def measure(runs: int = 10, child: str = CHILD) -> dict[str, float]:
    """Median of each figure over `runs` fresh processes, after one warm-up process."""
    measure_once(child)  # compiles/caches the Numba kernels if this is the first run ever
    rows = [measure_once(child) for _ in range(runs)]
    return {key: statistics.median(r[key] for r in rows) for key in rows[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="fresh processes to time (default 10)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch's figures")
    args = parser.parse_args(argv)
    load = machine.load_average()
    libs = {"striate": CHILD} if args.no_torch else {"striate": CHILD, "torch": TORCH_CHILD}
    results = {lib: measure(args.runs, child) for lib, child in libs.items()}
    for lib, r in results.items():
        print(f"import {lib}: {r['import_s']:.2f} s (CPU {r['import_cpu_s']:.2f} s)   first LeNet-5 step "
              f"(batch 64): {r['first_step_s']:.2f} s (CPU {r['first_step_cpu_s']:.2f} s)   whole process: "
              f"{r['process_s']:.2f} s   "
              f"(median of {args.runs} fresh processes{', Numba cache warm' if lib == 'striate' else ''})")
    print(json.dumps({"load_average_before": load, "load_average_after": machine.load_average(),
                      "runs": args.runs, **results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Start-up cost: `import striate`, and the first LeNet-5 training step of a fresh process.

Each measurement is a new Python process (start-up is what a fresh process pays). The first
process may compile the Numba kernels; its disk cache makes every later one load them instead,
so one untimed warm-up process runs first and the timed runs are "cache warm", as the issue
asks. Reported: median over --runs processes of

- import: wall time of `import striate` inside the process;
- first step: building LeNet-5 ("modern", batch 64, 1x32x32) plus its first forward, backward and SGD
  step, timed inside the process after the import (Numba kernels load here);
- process: the whole `python -c ...` from launch to exit, as a user waits for it.

    python benchmarks/bench_startup.py            # 5 fresh processes
    python benchmarks/bench_startup.py --runs 1   # quick check
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, time
t0 = time.perf_counter()
import striate as st
import striate.nn.functional as F
t1 = time.perf_counter()
model = st.models.lenet5("modern")
opt = st.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = st.randn(64, 1, 32, 32)
y = st.randint(0, 10, (64,))
opt.zero_grad()
F.cross_entropy(model(x), y).backward()
opt.step()
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_step_s": t2 - t1}))
"""


def measure_once() -> dict[str, float]:
    """One fresh process: import time, first-step time and the process's whole wall time."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"the timed child process failed:\n{out.stderr}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["process_s"] = time.perf_counter() - start
    return row


def measure(runs: int = 5) -> dict[str, float]:
    """Median of each figure over `runs` fresh processes, after one warm-up process."""
    measure_once()  # compiles/caches the Numba kernels if this is the first run ever
    rows = [measure_once() for _ in range(runs)]
    return {key: statistics.median(r[key] for r in rows) for key in rows[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes to time (default 5)")
    args = parser.parse_args(argv)
    result = measure(args.runs)
    print(f"import striate: {result['import_s']:.2f} s   first LeNet-5 step (batch 64): "
          f"{result['first_step_s']:.2f} s   whole process: {result['process_s']:.2f} s   "
          f"(median of {args.runs} fresh processes, Numba cache warm)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""striate vs PyTorch on the lectures' networks: training and inference images/s, per-op rows,
conv GEMM rate vs the sgemm peak. A thin wrapper around side_by_side.py (same as `striate bench`).

    python benchmarks/bench_networks.py                 # all five workloads -> bench-results/
    python benchmarks/bench_networks.py --threads 1     # both libraries on one thread
    python benchmarks/bench_networks.py --quick         # LeNet-5 only
    python benchmarks/bench_networks.py --tiny          # batch 2, one run: checks the code runs

PyTorch runs with its defaults (no OMP_WAIT_POLICY or thread policy is set for it). Timed runs
alternate between the libraries;
on a shared machine run it several times and take the median of each ratio.
"""

from __future__ import annotations

import argparse
import sys

from side_by_side import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="LeNet-5 only")
    parser.add_argument("--tiny", action="store_true", help="batch 2, one timed run (smoke test)")
    parser.add_argument("--threads", type=int, default=None, help="threads for both libraries")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per side (default 7)")
    parser.add_argument("--out", default="bench-results", help="output folder (default bench-results)")
    args = parser.parse_args()
    sys.exit(main(quick=args.quick, out=args.out, tiny=args.tiny, threads=args.threads, runs=args.runs))

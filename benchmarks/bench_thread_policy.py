"""A/B of striate's thread policies, alternating in one process (no PyTorch).

    default      nothing called: striate on every core (`st.config.get_num_threads()`), the
                 products inside its threads on its private serial BLAS (issue 14's default)
    one          `st.config.set_num_threads(1)`: the caller's thread only, products serial
    issue13      the default before issue 14: striate on the caller's thread, products on NumPy's
                 BLAS with its own pool (emulated: one thread, private BLAS switched off)
    shared-pool  striate's threads, but the products on NumPy's BLAS pool (private BLAS off):
                 what the default would be without the private BLAS

Each timed unit is a few training steps (or inference passes) of a benchmark network
(`workloads.py`); the policies run round-robin (the order reversed every other round), so load
from other processes hits all alike. Printed per network: the median wall time and CPU time
(`time.process_time`, all threads) per policy, and the median over rounds of each policy's
wall time / the default's (> 1: the default is faster), with the load average.

    python benchmarks/bench_thread_policy.py [--rounds 7] [--only "LeNet-5 1x28x28 b64" ...]
                                              [--infer] [--policies default one issue13]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

for _name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # this process only: OpenBLAS's own choice
    os.environ.pop(_name, None)

sys.path.insert(0, str(Path(__file__).resolve().parent))

from threadpoolctl import threadpool_info  # noqa: E402

import striate as st  # noqa: E402
import striate.nn as nn  # noqa: E402
import striate.nn.functional as F  # noqa: E402
from striate import config  # noqa: E402
from striate.kernels import gemm_serial  # noqa: E402
from workloads import find, step_closure  # noqa: E402

POLICIES = ("default", "one", "issue13", "shared-pool")
NETWORKS = ("LeNet-5 1x28x28 b64", "MNIST ConvNet (BN) b64", "ResNet-18 3x32x32 b32")


@contextlib.contextmanager
def policy(name: str):
    """The policy for the block; everything as before afterwards."""
    fns = gemm_serial._functions()
    if name in ("issue13", "shared-pool"):
        gemm_serial._state["fns"] = None  # products through np.matmul (NumPy's BLAS pool)
    if name in ("one", "issue13"):
        config.set_num_threads(1)
    try:
        yield
    finally:
        config.set_num_threads(None)
        gemm_serial._state["fns"] = fns


def compare(key: str, policies: list[str], rounds: int, train: bool, steps: int) -> dict:
    w = find(key)
    st.manual_seed(0)
    model = w.build(nn)
    x, y = st.randn(w.batch, *w.input_shape), st.randint(0, 10, (w.batch,))
    unit = step_closure(st, model, F, x, y, train, steps)
    for name in policies:  # warm-up: kernels loaded, buffers touched
        with policy(name):
            unit()
    wall: dict = {p: [] for p in policies}
    cpu: dict = {p: [] for p in policies}
    for r in range(rounds):
        for name in policies if r % 2 == 0 else policies[::-1]:
            with policy(name):
                t, c = time.perf_counter(), time.process_time()
                unit()
                wall[name].append(time.perf_counter() - t)
                cpu[name].append(time.process_time() - c)
    ratio = {p: statistics.median(a / b for a, b in zip(wall[p], wall[policies[0]])) for p in policies}
    return {"wall_ms": {p: 1e3 * statistics.median(v) for p, v in wall.items()},
            "cpu_ms": {p: 1e3 * statistics.median(v) for p, v in cpu.items()}, "ratio": ratio}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=3, help="steps per timed unit (default 3)")
    parser.add_argument("--only", nargs="+", default=list(NETWORKS), metavar="WORKLOAD")
    parser.add_argument("--policies", nargs="+", choices=POLICIES, default=list(POLICIES))
    parser.add_argument("--infer", action="store_true", help="inference passes instead of training steps")
    args = parser.parse_args(argv)
    blas = [(i["internal_api"], i.get("architecture"), i["num_threads"]) for i in threadpool_info()
            if i["user_api"] == "blas"]
    print(f"# NumPy's BLAS {blas}; striate default threads {config.get_num_threads()}; private serial "
          f"BLAS {gemm_serial.available()}; load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    kind = "infer" if args.infer else "train"
    for key in args.only:
        r = compare(key, args.policies, max(1, args.rounds), not args.infer, args.steps)
        cells = "  ".join(f"{p} {r['wall_ms'][p]:.1f} ms (cpu {r['cpu_ms'][p]:.0f}, x{r['ratio'][p]:.2f})"
                          for p in args.policies)
        print(f"{key:28s} {kind}: {cells}  load {os.getloadavg()[0]:.1f}", flush=True)
    print("# x: median over rounds of the policy's wall time / the first policy's (> 1: first faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

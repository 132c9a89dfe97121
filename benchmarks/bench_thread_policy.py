"""A/B of striate's thread and allocator policies, alternating in one process (no PyTorch).

    old      the policy before issue 13: every operation set BLAS to one thread, ran on
             striate's threads (as many as BLAS had), and set BLAS back (a process-wide flip
             per operation); emulated here exactly that way around each step
    owned    `st.config.set_num_threads(n)` once (BLAS one thread for the process, striate's
             threads), no flip per operation: what the CLI and `striate bench` do now
    default  nothing called: striate on the caller's thread, BLAS with its own pool

Each timed unit is one forward + backward of a layer (or one LeNet-5 training step); the
policies run round-robin, so load from other processes hits all alike; the median per policy
and the ratios to "old" are printed. `--allocator` also alternates the glibc malloc setting
(`st.config.keep_freed_memory(True/False)`) on the LeNet-5 step.

    python benchmarks/bench_thread_policy.py [--repeats 15] [--allocator]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time

for _name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # this process only: OpenBLAS's own choice
    os.environ.pop(_name, None)

import numpy as np  # noqa: E402
from threadpoolctl import ThreadpoolController, threadpool_info  # noqa: E402

import striate as st  # noqa: E402
import striate.nn.functional as F  # noqa: E402
from striate import config  # noqa: E402

LAYERS = [  # (name, x shape, w shape, padding)
    ("lenet C3 6x14x14 -> 16@5x5 (Winograd)", (64, 6, 14, 14), (16, 6, 5, 5), 0),
    ("cifar 3->32 32x32 3x3 (im2col)", (64, 3, 32, 32), (32, 3, 3, 3), 1),
    ("cifar 32->32 32x32 3x3 (Winograd)", (64, 32, 32, 32), (32, 32, 3, 3), 1),
    ("resnet 128->128 8x8 3x3 s1 (Winograd)", (32, 128, 8, 8), (128, 128, 3, 3), 1),
]


@contextlib.contextmanager
def policy(name: str, threads: int):
    if name == "owned":
        config.set_num_threads(threads)
        try:
            yield
        finally:
            config.set_num_threads(None)
    elif name == "old":  # striate's threads, BLAS flipped to 1 and back around the unit
        controllers = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        previous = [c.num_threads for c in controllers]
        config._state["threads"] = threads
        for c in controllers:
            c.set_num_threads(1)
        try:
            yield
        finally:
            for c, n in zip(controllers, previous):
                c.set_num_threads(n)
            config._state["threads"] = None
    else:
        yield


def conv_unit(x_shape, w_shape, padding):
    rng = np.random.default_rng(0)
    x = st.tensor(rng.standard_normal(x_shape).astype(np.float32), requires_grad=True)
    w = st.tensor(rng.standard_normal(w_shape).astype(np.float32) * 0.1, requires_grad=True)

    def unit():
        F.conv2d(x, w, padding=padding).sum().backward()
    return unit


def lenet_unit():
    model = st.models.lenet5()
    opt = st.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = st.randn(64, 1, 32, 32), st.randint(0, 10, (64,))

    def unit():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return unit


def timed(unit, inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        unit()
    return (time.perf_counter() - start) / inner


def run(repeats: int, allocator: bool) -> None:
    threads = config.default_num_threads()
    blas = [(i["internal_api"], i.get("architecture"), i["num_threads"]) for i in threadpool_info()
            if i["user_api"] == "blas"]
    print(f"BLAS {blas}; striate threads when owned: {threads}; load average at start "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    units = [(name, conv_unit(*shape)) for name, *shape in LAYERS]
    units.append(("LeNet-5 train step b64", lenet_unit()))
    names = ["old", "owned", "default"]
    for label, unit in units:
        samples = {n: [] for n in names}
        for name in names:  # warm up (Numba compilation, caches)
            with policy(name, threads):
                unit()
        for _ in range(repeats):
            for name in names:
                with policy(name, threads):
                    samples[name].append(timed(unit, 3))
        med = {n: statistics.median(v) * 1e3 for n, v in samples.items()}
        print(f"{label:42s} old {med['old']:7.2f} ms   owned/old {med['old'] / med['owned']:.2f}x faster"
              f"   default/old {med['old'] / med['default']:.2f}x faster")
    if allocator:
        unit = units[-1][1]
        samples = {True: [], False: []}
        with policy("owned", threads):
            for _ in range(repeats):
                for keep in (True, False):
                    config.keep_freed_memory(keep)
                    samples[keep].append(timed(unit, 3))
        tuned, plain = (statistics.median(samples[k]) * 1e3 for k in (True, False))
        print(f"LeNet-5 step, owned threads: malloc kept {tuned:.2f} ms, glibc thresholds 128 KiB "
              f"{plain:.2f} ms: keeping freed memory {plain / tuned:.2f}x faster")
    print(f"load average at end {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--allocator", action="store_true")
    args = parser.parse_args()
    run(max(1, args.repeats), args.allocator)

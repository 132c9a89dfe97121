"""Profile striate against PyTorch on the lecture networks and the new shape families (issue 14).

    python benchmarks/profile_networks.py                      # every network: ratios vs torch
    python benchmarks/profile_networks.py --only dwsep --ab im2col   # A/B: auto vs a forced path
    python benchmarks/profile_networks.py --only resnet18 --profile  # cProfile of striate's step
    python benchmarks/profile_networks.py --ab-tuning FUSE_SEQUENTIAL=False  # A/B: a tuning switch

One process; striate and PyTorch on the same inputs, same weights, same thread count (PyTorch's
default, which striate is given explicitly with `st.config.set_num_threads`). PyTorch is left as
its users run it. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for this process only, before
NumPy is imported, so OpenBLAS picks its own kernel (printed). Timed calls alternate; each
network's ratio is the median over rounds of torch_time / striate_time (> 1: striate faster).
`--ab PATH` instead alternates striate's automatic choice with `st.config.use_conv_path(PATH)`
forced (the old path) and prints the median of old_time / new_time.

On a loaded machine wall time mostly measures the other users: `--cpu` times each call by this
process's CPU time instead (with `--threads 1` for both libraries, as `torch.set_num_threads(1)`
and `st.config.set_num_threads(1)`, that is each library's own work; with more threads it also
counts PyTorch's OpenMP spin-waiting, so compare libraries that way on one thread only).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # our own process only (issue 14)
    os.environ.pop(_var, None)

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

# ---------------------------------------------------------------------------- networks
# The lecture networks as `striate bench` builds them; the new shape families below.
from workloads import (  # noqa: E402 - the honest benchmark's networks, one definition of each
    cifar_net,
    depthwise_separable,
    inception_net,
    lenet5,
    mnist_convnet,
    step_closure,
    strided_net,
    vgg_64,
)
from workloads import resnet18_cifar as resnet18  # noqa: E402

NETWORKS: dict[str, tuple[Callable, tuple[int, ...], int]] = {
    "lenet5_b64": (lenet5, (1, 28, 28), 64),
    "lenet5_b256": (lenet5, (1, 28, 28), 256),
    "mnist_convnet": (mnist_convnet, (1, 28, 28), 64),
    "cifar_net": (cifar_net, (3, 32, 32), 64),
    "resnet18": (resnet18, (3, 32, 32), 32),
    "dwsep": (depthwise_separable, (3, 32, 32), 64),
    "inception": (inception_net, (3, 32, 32), 32),
    "strided": (strided_net, (3, 32, 32), 64),
    "vgg64": (vgg_64, (3, 64, 64), 32),
}


# ---------------------------------------------------------------------------- timing
CLOCK = {"clock": time.perf_counter}
PROFILE_ROWS = [18]


def ratios(fns: dict[str, Callable[[], None]], rounds: int, warmup: int = 2) -> dict[str, list[float]]:
    """Seconds per call of each function, over rounds in which the functions alternate."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            t0 = CLOCK["clock"]()
            fn()
            times[k].append(CLOCK["clock"]() - t0)
    return times


def median_ratio(slow: list[float], fast: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(slow, fast))


def pair(name: str):
    import torch

    import striate as st
    import striate.nn as snn
    import striate.nn.functional as sF

    build, shape, batch = NETWORKS[name]
    torch.manual_seed(0)
    t_model = build(torch.nn)
    s_model = build(snn)
    s_model.load_state_dict({k: v.detach().numpy() for k, v in t_model.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, *shape)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    return ((st, s_model, sF, st.from_numpy(x), st.from_numpy(y)),
            (torch, t_model, torch.nn.functional, torch.from_numpy(x), torch.from_numpy(y)))


def header(threads: int | None) -> None:
    import threadpoolctl
    import torch

    import striate as st

    if threads:
        torch.set_num_threads(threads)
    st.config.set_num_threads(torch.get_num_threads())
    blas = [f"{i['internal_api']} {i.get('version')} {i.get('architecture')} x{i['num_threads']}"
            for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    print(f"# torch {torch.__version__} threads {torch.get_num_threads()}; striate threads "
          f"{st.config.get_num_threads()}; BLAS {blas}; clock {CLOCK['clock'].__name__}; "
          f"load average {os.getloadavg()}")


def compare_torch(name: str, rounds: int) -> None:
    s, t = pair(name)
    out = [name]
    for train in (True, False):
        times = ratios({"striate": step_closure(*s[:3], s[3], s[4], train, 3),
                        "torch": step_closure(*t[:3], t[3], t[4], train, 3)}, rounds)
        out.append(f"{'train' if train else 'infer'} {median_ratio(times['torch'], times['striate']):.2f}"
                   f" ({statistics.median(times['striate']) * 1e3:.0f} ms vs "
                   f"{statistics.median(times['torch']) * 1e3:.0f} ms)")
    print(" | ".join(out), flush=True)


def compare_path(name: str, old_path: str, rounds: int) -> None:
    """A/B in one process: striate's automatic path choice vs `old_path` forced."""
    import striate as st

    s, _ = pair(name)
    out = [name]
    for train in (True, False):
        run = step_closure(*s[:3], s[3], s[4], train, 3)

        def old(run=run):
            with st.config.use_conv_path(old_path):
                run()
        times = ratios({"old": old, "new": run}, rounds)
        out.append(f"{'train' if train else 'infer'} old/new {median_ratio(times['old'], times['new']):.2f}")
    print(" | ".join(out), flush=True)


def compare_tuning(name: str, setting: str, rounds: int) -> None:
    """A/B in one process: striate as it is vs with `striate.tuning.NAME = VALUE` (the old way)."""
    import ast

    from striate import tuning

    key, _, text = setting.partition("=")
    old_value, new_value = ast.literal_eval(text), getattr(tuning, key)
    s, _ = pair(name)
    out = [name]
    for train in (True, False):
        run = step_closure(*s[:3], s[3], s[4], train, 3)

        def old(run=run):
            setattr(tuning, key, old_value)
            try:
                run()
            finally:
                setattr(tuning, key, new_value)
        times = ratios({"old": old, "new": run}, rounds)
        old_ms, new_ms = (statistics.median(times[k]) * 1e3 for k in ("old", "new"))
        out.append(f"{'train' if train else 'infer'} old/new {median_ratio(times['old'], times['new']):.3f} "
                   f"({old_ms:.1f} -> {new_ms:.1f} ms)")
    print(" | ".join(out), flush=True)


def profile(name: str, train: bool) -> None:
    import cProfile
    import pstats

    s, _ = pair(name)
    run = step_closure(*s[:3], s[3], s[4], train, 3)
    run()
    # with --cpu, by this process's CPU time: on a loaded machine wall time charges the other
    # users' time slices to whichever call was running when the process was descheduled
    prof = cProfile.Profile(CLOCK["clock"])
    prof.enable()
    for _ in range(3):
        run()
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(PROFILE_ROWS[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--ab", default=None, help="compare auto with this conv path forced (old)")
    parser.add_argument("--ab-tuning", default=None, metavar="NAME=VALUE",
                        help="compare striate as it is with striate.tuning.NAME = VALUE (old)")
    parser.add_argument("--profile", action="store_true", help="cProfile striate's training step")
    parser.add_argument("--infer", action="store_true", help="with --profile: inference instead")
    parser.add_argument("--rows", type=int, default=18, help="with --profile: rows of the table")
    parser.add_argument("--threads", type=int, default=None, help="threads for both (default torch's)")
    parser.add_argument("--cpu", action="store_true", help="time by process CPU time (loaded machine)")
    args = parser.parse_args()
    if args.cpu:
        CLOCK["clock"] = time.process_time
    PROFILE_ROWS[0] = args.rows
    header(args.threads)
    for name in args.only:
        if args.profile:
            profile(name, not args.infer)
        elif args.ab_tuning:
            compare_tuning(name, args.ab_tuning, args.rounds)
        elif args.ab:
            compare_path(name, args.ab, args.rounds)
        else:
            compare_torch(name, args.rounds)
    print(f"# load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()

"""Data-parallel training on this machine: 1 rank x 2 threads against 2 ranks x 1 thread.

For each network and global batch, a training step (forward, backward, gradient all-reduce,
SGD-momentum update) is timed in
  - striate, one process with 2 threads (no MPI),
  - striate, `mpirun -np 2`, one thread per rank, gradients averaged by st.distributed,
  - PyTorch, one process with 2 threads, and
  - PyTorch, 2 processes x 1 thread with DistributedDataParallel over gloo (the same launcher),
on the same random inputs. Reported: images/s, the all-reduce time per step and its share of
the step (striate; a barrier before it keeps the wait for a slower rank out of it; PyTorch
overlaps its all-reduce with the backward, so it has no separate time), and the gradient
bytes each rank contributes per step (a ring all-reduce sends about 2 (R - 1) / R times that
over the network).

    python benchmarks/bench_distributed.py                  # LeNet-5 and the CIFAR net
    python benchmarks/bench_distributed.py --resnet18       # + ResNet-18 (slow: ~1 s a step)
    python benchmarks/bench_distributed.py --steps 2 --warmup 1 --tiny   # smoke test

The machine is shared: the load average is printed with the numbers.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # this benchmark's own processes only
    os.environ.pop(_var, None)

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

NETWORKS = {"LeNet-5 1x28x28": ("lenet5", (1, 28, 28), 64),
            "CIFAR net 3x32x32": ("cifar_net", (3, 32, 32), 64),
            "ResNet-18 3x32x32": ("resnet18_cifar", (3, 32, 32), 32)}


# ---------------------------------------------------------------------------- one rank's work
def _rank_and_size() -> tuple[int, int]:
    return int(os.environ.get("OMPI_COMM_WORLD_RANK", 0)), int(os.environ.get("OMPI_COMM_WORLD_SIZE", 1))


def _batch(shape, global_batch: int, rank: int, size: int):
    from striate.distributed import shard_bounds

    rng = np.random.default_rng(0)
    x = rng.standard_normal((global_batch, *shape)).astype(np.float32)
    y = rng.integers(0, 10, global_batch)
    a, b = shard_bounds(global_batch, rank, size)
    return x[a:b], y[a:b]


def striate_steps(name: str, threads: int, steps: int, warmup: int, tiny: bool) -> dict:
    import striate as st
    import striate.nn as snn
    import striate.nn.functional as F
    import workloads as bench  # the networks, shared with honest.py (this script's folder)
    from striate.distributed import DistributedDataParallel, from_environment

    st.config.set_num_threads(threads)
    comm = from_environment()
    builder, shape, batch = NETWORKS[name]
    batch = 4 if tiny else batch
    st.manual_seed(0)
    model = DistributedDataParallel(getattr(bench, builder)(snn), comm)
    opt = st.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = (st.from_numpy(a) for a in _batch(shape, batch, comm.rank, comm.size))
    step_times, reduce_times = [], []
    for i in range(warmup + steps):
        comm.barrier()
        t0 = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        comm.barrier()  # waiting for a slower rank is not the all-reduce's time
        t1 = time.perf_counter()
        model.allreduce_gradients()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if i >= warmup:
            step_times.append(t3 - t0)
            reduce_times.append(t2 - t1)
    # the slowest rank sets the pace: each step's time is its maximum over the ranks
    t_step = statistics.median(comm.allreduce_(np.array(step_times), op="max"))
    t_reduce = statistics.median(reduce_times)
    alone = []  # the all-reduce by itself, best of 10: the transport's cost without descheduling
    for _ in range(10):
        comm.barrier()
        t0 = time.perf_counter()
        model.allreduce_gradients()
        alone.append(time.perf_counter() - t0)
    return {"images_per_s": batch / t_step, "step_ms": 1e3 * t_step, "allreduce_ms": 1e3 * t_reduce,
            "allreduce_best_ms": 1e3 * min(alone), "allreduce_share": t_reduce / t_step,
            "grad_bytes": model.buckets.nbytes,
            "messages": len(model.buckets.buckets) if comm.size > 1 else 0, "batch": batch}


def torch_steps(name: str, threads: int, steps: int, warmup: int, tiny: bool) -> dict:
    """PyTorch's step; with several ranks its process group is already set up (`worker`)."""
    import torch
    import torch.distributed as dist

    import workloads as bench  # the networks, shared with honest.py (this script's folder)

    torch.set_num_threads(threads)
    rank, size = _rank_and_size()
    builder, shape, batch = NETWORKS[name]
    batch = 4 if tiny else batch
    torch.manual_seed(0)
    model = getattr(bench, builder)(torch.nn)
    if size > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = (torch.from_numpy(a) for a in _batch(shape, batch, rank, size))
    times = []
    for i in range(warmup + steps):
        if size > 1:
            dist.barrier()
        t0 = time.perf_counter()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    if size > 1:
        t = torch.tensor(times, dtype=torch.float64)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        times = t.tolist()
    t_step = statistics.median(times)
    return {"images_per_s": batch / t_step, "step_ms": 1e3 * t_step, "batch": batch}


def worker(args: argparse.Namespace) -> int:
    rows = {}
    rank, size = _rank_and_size()
    if args.library == "torch" and size > 1:
        import torch.distributed as dist

        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{args.port}", rank=rank,
                                world_size=size)
    for name in args.networks:
        if args.library == "striate":
            rows[name] = striate_steps(name, args.threads, args.steps, args.warmup, args.tiny)
        else:
            rows[name] = torch_steps(name, args.threads, args.steps, args.warmup, args.tiny)
    if args.library == "torch" and size > 1:
        dist.destroy_process_group()
    if _rank_and_size()[0] == 0:
        print("RESULT " + json.dumps(rows), flush=True)
    return 0


# ---------------------------------------------------------------------------- the driver
def _blas() -> str:
    from threadpoolctl import threadpool_info

    infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}" for i in infos)


def launch(library: str, ranks: int, threads: int, args: argparse.Namespace, port: int) -> dict:
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker", "--library", library,
            "--threads", str(threads), "--steps", str(args.steps), "--warmup", str(args.warmup),
            "--port", str(port), "--networks", *args.networks] + (["--tiny"] if args.tiny else [])
    env = dict(os.environ)
    if ranks > 1:
        from striate.distributed.launch import mpirun_command

        argv, env = mpirun_command(ranks, argv)
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600 if args.tiny else 3600)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{library} x{ranks} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10, help="timed steps (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--resnet18", action="store_true", help="also ResNet-18 (batch 32)")
    parser.add_argument("--no-torch", action="store_true", help="striate only")
    parser.add_argument("--tiny", action="store_true", help="a global batch of 4 (smoke test)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--library", default="striate", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=29511, help=argparse.SUPPRESS)
    parser.add_argument("--networks", nargs="+", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.networks is None:
        args.networks = list(NETWORKS)[:3 if args.resnet18 else 2]
    if args.worker:
        return worker(args)
    load = os.getloadavg()
    print(f"bench_distributed {time.strftime('%Y-%m-%d %H:%M')} UTC, {os.cpu_count()} cores, "
          f"load average at start {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}; BLAS: {_blas()}")
    setups = [("striate", 1, 2), ("striate", 2, 1)]
    if not args.no_torch:
        setups += [("torch", 1, 2), ("torch", 2, 1)]
    results = {s: launch(s[0], s[1], s[2], args, 29511 + i) for i, s in enumerate(setups)}
    print("\n| network | global batch | library | ranks x threads | images/s | step ms | "
          "all-reduce ms (median in steps / best alone) | all-reduce share | grad bytes/rank/step | "
          "messages |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.networks:
        for (lib, ranks, threads), rows in results.items():
            r = rows[name]
            extra = ("| - | - | - | - |" if lib == "torch" else
                     f"| {r['allreduce_ms']:.2f} / {r['allreduce_best_ms']:.2f} | "
                     f"{100 * r['allreduce_share']:.1f}% | "
                     f"{r['grad_bytes'] / 1e6:.2f} MB | {r['messages']} |")
            print(f"| {name} | {r['batch']} | {lib} | {ranks} x {threads} | {r['images_per_s']:.0f} | "
                  f"{r['step_ms']:.1f} " + extra)
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} (the machine is shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""DataLoader epochs, striate.utils.data vs torch.utils.data, with 0 and 2 workers.

The same Python dataset class feeds both libraries (only the final array -> tensor call
differs); one epoch = iterate the loader once, batch 64, shuffled. Workloads:

- numpy: 3x64x64 uint8 images, per item a padded random crop, a flip, float conversion,
  normalisation and a separable 5-tap blur (whole-array NumPy operations, which release the GIL
  in their loops);
- io: 2 ms of waiting per item (a file or network read), 28x28 images;
- python: 28x28 images, per item a pure-Python loop over the pixels (holds the GIL).

striate's workers are threads, PyTorch's are processes. Each library runs in its own fresh
process (PyTorch as its users run it: no environment variables or thread policies changed;
striate's process has OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset); both use their default
thread counts (printed). Processes alternate striate, PyTorch for --rounds rounds; the table
shows the median epoch time over rounds.

    python benchmarks/bench_dataloader.py            # the sizes below (about a minute)
    python benchmarks/bench_dataloader.py --quick    # tiny sizes, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

WORKLOADS = {"numpy": (1024, (3, 64, 64)), "io": (512, (1, 28, 28)), "python": (1024, (1, 28, 28))}
QUICK = {"numpy": (64, (3, 16, 16)), "io": (32, (1, 8, 8)), "python": (32, (1, 8, 8))}


def _blur(x, axis: int):
    """A 5-tap binomial blur along `axis` with edge padding: five whole-array NumPy operations."""
    import numpy as np

    pad = [(0, 0)] * x.ndim
    pad[axis] = (2, 2)
    p = np.pad(x, pad, mode="edge")
    n = x.shape[axis]
    parts = [np.take(p, np.arange(k, k + n), axis=axis) for k in range(5)]
    return (parts[0] + parts[4] + 4 * (parts[1] + parts[3]) + 6 * parts[2]) / np.float32(16)


class Images:
    """`n` seeded uint8 images; `kind` picks the per-item work; `to_tensor` is the library's."""

    def __init__(self, kind: str, n: int, shape: tuple[int, ...], to_tensor) -> None:
        import numpy as np

        self.kind, self.to_tensor = kind, to_tensor
        self.images = np.random.default_rng(0).integers(0, 256, (n, *shape), dtype=np.uint8)
        self.labels = np.arange(n) % 10

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        import numpy as np

        image = self.images[i]
        if self.kind == "numpy":
            rng = np.random.default_rng(i)
            padded = np.pad(image, ((0, 0), (4, 4), (4, 4)), mode="reflect")
            y, x = rng.integers(0, 9, 2)
            crop = padded[:, y:y + image.shape[1], x:x + image.shape[2]].astype(np.float32) / 255.0
            if rng.random() < 0.5:
                crop = crop[:, :, ::-1]
            crop = (crop - 0.5) / 0.25
            out = _blur(_blur(crop, 2), 1)
        elif self.kind == "io":
            time.sleep(0.002)
            out = image.astype(np.float32) / 255.0
        else:
            flat = image.ravel().tolist()
            out = np.array([(v / 255.0 - 0.5) * 2.0 for v in flat], np.float32).reshape(image.shape)
        return self.to_tensor(out), int(self.labels[i])


def epoch_seconds(lib: str, kind: str, n: int, shape: tuple[int, ...], num_workers: int,
                  repeats: int) -> tuple[float, int]:
    """Median seconds of `repeats` epochs (after one untimed), and the batches per epoch."""
    if lib == "torch":
        import torch
        from torch.utils.data import DataLoader

        to_tensor, seed = torch.from_numpy, torch.manual_seed
    else:
        import striate as st
        from striate.utils.data import DataLoader

        to_tensor, seed = st.from_numpy, st.manual_seed
    seed(0)
    dataset = Images(kind, n, shape, to_tensor)
    loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=num_workers)
    times, batches = [], 0
    for r in range(repeats + 1):
        start = time.perf_counter()
        batches = sum(1 for _ in loader)
        if r:
            times.append(time.perf_counter() - start)
    return statistics.median(times), batches


def worker(lib: str, kind: str, quick: bool, num_workers: int, repeats: int) -> dict:
    n, shape = (QUICK if quick else WORKLOADS)[kind]
    seconds, batches = epoch_seconds(lib, kind, n, shape, num_workers, repeats)
    info = {"seconds": seconds, "batches": batches}
    if lib == "torch":
        import torch

        info["threads"] = torch.get_num_threads()
    else:
        from threadpoolctl import threadpool_info

        from striate.kernels.parallel import num_threads

        info["threads"] = num_threads()
        info["blas"] = "; ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')} "
                                 f"kernel, {i.get('num_threads')} threads)" for i in threadpool_info()
                                 if i.get("user_api") == "blas")
    return info


def run_in_process(lib: str, kind: str, quick: bool, num_workers: int, repeats: int) -> dict:
    env = dict(os.environ)
    if lib == "striate":
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    args = [sys.executable, __file__, "--worker", lib, "--kind", kind, "--num-workers", str(num_workers),
            "--repeats", str(repeats)] + (["--quick"] if quick else [])
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{lib} worker failed for {kind}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool = False, repeats: int = 2, rounds: int = 2) -> tuple[list[dict], dict]:
    rows, meta = [], {}
    for kind in WORKLOADS:
        for num_workers in (0, 2):
            times: dict[str, list[float]] = {"striate": [], "torch": []}
            for _ in range(rounds):
                for lib in times:
                    info = run_in_process(lib, kind, quick, num_workers, repeats)
                    times[lib].append(info["seconds"])
                    meta[lib] = {k: v for k, v in info.items() if k != "seconds"}
            s, t = statistics.median(times["striate"]), statistics.median(times["torch"])
            rows.append({"workload": kind, "num_workers": num_workers, "striate_s": s, "torch_s": t})
            print(f"  {kind} num_workers={num_workers}: striate {s:.3f} s, PyTorch {t:.3f} s",
                  file=sys.stderr)
    return rows, meta


def format_table(rows: list[dict]) -> str:
    lines = ["| workload | num_workers | striate s/epoch | PyTorch s/epoch | ratio (> 1: striate faster) |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['workload']} | {r['num_workers']} | {r['striate_s']:.3f} | {r['torch_s']:.3f} | "
                     f"{r['torch_s'] / r['striate_s']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    parser.add_argument("--repeats", type=int, default=2, help="timed epochs per process")
    parser.add_argument("--rounds", type=int, default=2, help="alternating process pairs")
    parser.add_argument("--worker", choices=["striate", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--kind", choices=list(WORKLOADS), help=argparse.SUPPRESS)
    parser.add_argument("--num-workers", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.kind, args.quick, args.num_workers, args.repeats)))
        return
    load_start = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows, meta = run(args.quick, args.repeats, args.rounds)
    load_end = os.getloadavg()
    print(f"Measured {started}, {os.cpu_count()} cores; load average at start "
          f"{', '.join(f'{v:.1f}' for v in load_start)}, at end {', '.join(f'{v:.1f}' for v in load_end)}.")
    print(f"striate: {meta['striate']['threads']} threads, BLAS: {meta['striate']['blas']}; "
          "workers are threads")
    print(f"PyTorch: {meta['torch']['threads']} threads; workers are processes")
    print(f"batch 64, shuffled; median of {args.repeats} epochs per process (after one untimed), median over "
          f"{args.rounds} alternating process pairs.\n")
    print(format_table(rows))


if __name__ == "__main__":
    main()

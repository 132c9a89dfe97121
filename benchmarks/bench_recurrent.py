"""LSTM and GRU training steps, striate vs PyTorch, at the sEMG course project's sizes.

The emg2qwerty decoders read 2 bands x 16 electrodes x 33 frequencies = 1056 features per
frame, project them to 384-768 and run recurrent layers of 256-512 units over 4 s windows
(500 frames at 125 Hz) in batches of 32. One training step here = forward over the window,
an MSE loss on the outputs, backward (BPTT) and an SGD update, all in float32.

Each library runs in its own fresh process (so neither one's idle threads spin on the cores
while the other works, and PyTorch runs exactly as its users run it: no environment variables
or thread policies are changed for it). striate's process has OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset. Both use the same number of threads (PyTorch's default, which is
striate's BLAS pool on this machine: printed). Processes alternate striate, PyTorch, striate,
PyTorch, ... for --rounds rounds; each reports the median of --repeats timed steps after
--warmup untimed ones, and the table shows the median over rounds.

    python benchmarks/bench_recurrent.py                # the project's sizes (a few minutes)
    python benchmarks/bench_recurrent.py --quick        # tiny sizes, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass


@dataclass
class Config:
    name: str
    mode: str  # "LSTM" or "GRU"
    input_size: int
    hidden_size: int
    num_layers: int = 1
    bidirectional: bool = False
    T: int = 500
    N: int = 32


def configs(quick: bool = False) -> list[Config]:
    if quick:
        return [Config("LSTM 8->16 T12 N4", "LSTM", 8, 16, T=12, N=4),
                Config("GRU 8->16 x2 bidir T12 N4", "GRU", 8, 16, 2, True, T=12, N=4)]
    return [
        Config("LSTM 384->256", "LSTM", 384, 256),
        Config("LSTM 768->512", "LSTM", 768, 512),
        Config("GRU 384->256", "GRU", 384, 256),
        Config("GRU 768->512", "GRU", 768, 512),
        Config("LSTM 384->256 x2 bidir", "LSTM", 384, 256, 2, True),
    ]


def build(lib: str, cfg: Config, seed: int = 0):
    """(module, input, target, parameters) for one library, with the same numbers in both."""
    import numpy as np
    import torch

    torch.manual_seed(seed)
    t_mod = getattr(torch.nn, cfg.mode)(cfg.input_size, cfg.hidden_size, cfg.num_layers,
                                        bidirectional=cfg.bidirectional)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cfg.T, cfg.N, cfg.input_size), dtype=np.float32)
    out_size = cfg.hidden_size * (2 if cfg.bidirectional else 1)
    target = rng.standard_normal((cfg.T, cfg.N, out_size), dtype=np.float32)
    if lib == "torch":
        return t_mod, torch.from_numpy(x), torch.from_numpy(target), list(t_mod.parameters())
    import striate as st
    import striate.nn as nn

    s_mod = getattr(nn, cfg.mode)(cfg.input_size, cfg.hidden_size, cfg.num_layers,
                                  bidirectional=cfg.bidirectional)
    s_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})
    return s_mod, st.from_numpy(x), st.from_numpy(target), list(s_mod.parameters())


def train_step(lib: str, mod, x, target, params, lr: float = 0.01) -> float:
    """Forward, MSE loss, backward, SGD update; returns the loss."""
    if lib == "torch":
        import torch

        out, _ = mod(x)
        loss = torch.nn.functional.mse_loss(out, target)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-lr)
        return loss.item()
    import striate as st
    import striate.nn.functional as F

    out, _ = mod(x)
    loss = F.mse_loss(out, target)
    for p in params:
        p.grad = None
    loss.backward()
    with st.no_grad():
        for p in params:
            p.add_(p.grad, alpha=-lr)
    return float(loss.item())


def blas_description() -> str:
    from threadpoolctl import threadpool_info

    parts = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')} kernel, "
             f"{i.get('num_threads')} threads)" for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(parts) or "no BLAS found by threadpoolctl"


def worker(lib: str, cfg: Config, repeats: int, warmup: int, threads: int | None = None) -> dict:
    """Time `repeats` training steps after `warmup` (runs inside the child process).

    threads: both libraries' own thread-count setting (torch.set_num_threads,
    st.config.set_num_threads); None leaves each at its default.
    """
    if threads is not None:
        if lib == "torch":
            import torch

            torch.set_num_threads(threads)
        else:
            import striate as st

            st.config.set_num_threads(threads)
    mod, x, target, params = build(lib, cfg)
    for _ in range(warmup):
        train_step(lib, mod, x, target, params)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        train_step(lib, mod, x, target, params)
        times.append(time.perf_counter() - start)
    info = {"seconds": statistics.median(times)}
    if lib == "torch":
        import torch

        info["threads"] = torch.get_num_threads()
        shown = torch.__config__.show().replace(",", "\n").split("\n")
        info["blas"] = [s.strip() for s in shown if "BLAS_INFO" in s or "CPU capability" in s]
    else:
        from striate.kernels.parallel import num_threads

        info["threads"] = num_threads()
        info["blas"] = blas_description()
    return info


def _child_env(lib: str) -> dict:
    env = dict(os.environ)
    if lib == "striate":
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    return env


def run_in_process(lib: str, cfg: Config, repeats: int, warmup: int, threads: int | None = None) -> dict:
    args = [sys.executable, __file__, "--worker", lib, "--config", json.dumps(asdict(cfg)),
            "--repeats", str(repeats), "--warmup", str(warmup)]
    if threads is not None:
        args += ["--threads", str(threads)]
    done = subprocess.run(args, capture_output=True, text=True, env=_child_env(lib), check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{lib} worker failed for {cfg.name}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool = False, repeats: int = 3, warmup: int = 1, rounds: int = 2, threads: int | None = None,
        only: str | None = None) -> tuple[list[dict], dict]:
    rows, meta = [], {}
    for cfg in configs(quick):
        if only and only not in cfg.name:
            continue
        times: dict[str, list[float]] = {"striate": [], "torch": []}
        for _ in range(rounds):
            for lib in ("striate", "torch"):
                info = run_in_process(lib, cfg, repeats, warmup, threads)
                times[lib].append(info["seconds"])
                meta[lib] = {k: v for k, v in info.items() if k != "seconds"}
        s, t = statistics.median(times["striate"]), statistics.median(times["torch"])
        rows.append({"config": cfg.name, "striate_s": s, "torch_s": t, "ratio": t / s,
                     "striate_runs": times["striate"], "torch_runs": times["torch"]})
        print(f"  {cfg.name}: striate {s:.3f} s, PyTorch {t:.3f} s, ratio {t / s:.2f}", file=sys.stderr)
    return rows, meta


def format_table(rows: list[dict]) -> str:
    lines = ["| workload | striate s/step | PyTorch s/step | ratio (> 1: striate faster) |",
             "|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['config']} | {r['striate_s']:.3f} | {r['torch_s']:.3f} | {r['ratio']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, help="the same thread count for both (default: each own)")
    parser.add_argument("--only", help="run only the workloads whose name contains this text")
    parser.add_argument("--worker", choices=["striate", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        cfg = Config(**json.loads(args.config))
        print(json.dumps(worker(args.worker, cfg, args.repeats, args.warmup, args.threads)))
        return
    load_start = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows, meta = run(args.quick, args.repeats, args.warmup, args.rounds, args.threads, args.only)
    load_end = os.getloadavg()
    print(f"Measured {started}, {os.cpu_count()} cores; load average at start "
          f"{', '.join(f'{v:.1f}' for v in load_start)}, at end {', '.join(f'{v:.1f}' for v in load_end)}.")
    print(f"striate: {meta['striate']['threads']} threads, BLAS: {meta['striate']['blas']}")
    print(f"PyTorch: {meta['torch']['threads']} threads, {'; '.join(meta['torch']['blas'])}")
    print(f"float32, one step = forward + MSE + backward + SGD; median of {args.repeats} steps per "
          f"process, median over {args.rounds} alternating process pairs.\n")
    print(format_table(rows))


if __name__ == "__main__":
    main()

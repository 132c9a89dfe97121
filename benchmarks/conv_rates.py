"""Convolution rates as a fraction of the measured sgemm peak, per conv layer of the benchmark's
networks, striate and PyTorch side by side.

    python benchmarks/conv_rates.py                          # every network, forward and fwd+bwd
    python benchmarks/conv_rates.py --only "ResNet-18 3x32x32 b32" --threads 2
    python benchmarks/conv_rates.py --tiny                   # batch 2, one run: a smoke test

The layers and their input shapes come from a forward pass of PyTorch's copy of each network
(forward hooks); each distinct layer is then timed alone, best of --runs, in both libraries:
forward (no_grad) and forward + backward (gradients of input and weight). A layer's work is
counted as a direct convolution's multiply-adds: 2 * N * Cout * Hout * Wout * (Cin / groups) * k * k
FLOPs forward and three times that forward + backward (dX and dW each as many again), so a
Winograd or FFT path shows as an effective rate that can pass the peak. The peak is NumPy's
sgemm at 2048^3 measured in the same process. Everything runs in a fresh process started
without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (machine.py says why); thread counts as in honest.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import machine  # noqa: E402
from workloads import WORKLOADS, Workload, find  # noqa: E402


def conv_layers(w: Workload) -> list[dict]:
    """The distinct conv layers of `w` at its batch size, found by a forward pass in PyTorch."""
    import torch

    model = w.build(torch.nn)
    found: dict[tuple, dict] = {}

    def hook(mod, inputs, _out):
        x = inputs[0]
        spec = {"x": tuple(x.shape), "cout": mod.out_channels, "k": mod.kernel_size[0],
                "stride": mod.stride[0], "padding": mod.padding[0], "groups": mod.groups}
        key = tuple(spec.values())
        found.setdefault(key, {**spec, "count": 0})["count"] += 1

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(w.batch, *w.input_shape))
    for h in handles:
        h.remove()
    return list(found.values())


def _best(fn, runs: int) -> float:
    fn()
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _time_layer(lib, F, layer: dict, x, wt, dy, runs: int) -> dict:
    """Best forward (no_grad) and forward + backward times of one layer in one library."""
    s, p, g = layer["stride"], layer["padding"], layer["groups"]
    X = lib.from_numpy(x).requires_grad_()
    W = lib.from_numpy(wt).requires_grad_()
    dY = lib.from_numpy(dy)
    with lib.no_grad():
        fwd = _best(lambda: F.conv2d(X, W, stride=s, padding=p, groups=g), runs)

    def both():
        X.grad = W.grad = None
        F.conv2d(X, W, stride=s, padding=p, groups=g).backward(dY)
    return {"fwd_s": fwd, "fwd_bwd_s": _best(both, runs)}


def measure(workloads: list[Workload], runs: int, threads: int | None, sgemm_n: int) -> dict:
    import numpy as np
    import torch
    import torch.nn.functional as TF

    import striate as st
    import striate.nn.functional as SF

    if threads is not None:
        st.config.set_num_threads(threads)
        torch.set_num_threads(threads)
    peak = machine.sgemm_gflops(sgemm_n)
    rng = np.random.default_rng(0)
    rows = []
    for w in workloads:
        for layer in conv_layers(w):
            n, c, h, wd = layer["x"]
            k, s, p, g, co = layer["k"], layer["stride"], layer["padding"], layer["groups"], layer["cout"]
            ho, wo = (h + 2 * p - k) // s + 1, (wd + 2 * p - k) // s + 1
            flops = 2 * n * co * ho * wo * (c // g) * k * k
            x = rng.standard_normal(layer["x"]).astype(np.float32)
            wt = (rng.standard_normal((co, c // g, k, k)) / np.sqrt(c // g * k * k)).astype(np.float32)
            dy = rng.standard_normal((n, co, ho, wo)).astype(np.float32)
            row = {"workload": w.key, **layer, "gflop_fwd": flops / 1e9}
            for name, lib, F in (("striate", st, SF), ("torch", torch, TF)):
                t = _time_layer(lib, F, layer, x, wt, dy, runs)
                row[name] = {**t, "fwd_gflops": flops / t["fwd_s"] / 1e9,
                             "fwd_bwd_gflops": 3 * flops / t["fwd_bwd_s"] / 1e9}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)  # progress; kept if interrupted
    return {"sgemm_peak_gflops": peak, "sgemm_n": sgemm_n, "threads": {
        "striate": st.config.get_num_threads(), "torch": torch.get_num_threads()},
        "numpy_blas": machine.blas_info(), "layers": rows}


def markdown(result: dict) -> str:
    peak = result["sgemm_peak_gflops"]
    lines = [f"sgemm peak (NumPy, {result['sgemm_n']}^3, kernel `{result['numpy_blas'].get('kernel')}`): "
             f"{peak:.0f} GFLOP/s; threads striate {result['threads']['striate']}, PyTorch "
             f"{result['threads']['torch']}; load average {result.get('load_average')}. Rates count a direct "
             "convolution's 2*MACs (x3 forward+backward); % = rate / sgemm peak.", "",
             "| network | input | conv | x | striate fwd GFLOP/s (% peak) | PyTorch fwd | striate fwd+bwd "
             "| PyTorch fwd+bwd |", "|---|---|---|---|---|---|---|---|"]
    for r in result["layers"]:
        conv = f"{r['cout']} k{r['k']} s{r['stride']} p{r['padding']}"
        conv += f" g{r['groups']}" if r["groups"] > 1 else ""
        cells = []
        for key in ("fwd_gflops", "fwd_bwd_gflops"):
            for lib in ("striate", "torch"):
                v = r[lib][key]
                cells.append(f"{v:.0f} ({100 * v / peak:.0f}%)")
        lines.append(f"| {r['workload']} | {'x'.join(map(str, r['x']))} | {conv} | {r['count']} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="WORKLOAD", help="workload keys (default: all)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per layer, best taken (default 5)")
    parser.add_argument("--threads", type=int, default=None, help="threads for both (default: each its own)")
    parser.add_argument("--tiny", action="store_true", help="batch 2, one run, small sgemm: a smoke test")
    parser.add_argument("--json", help="also write the result to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(measure([find(k) for k in spec["workloads"]], spec["runs"], spec["threads"],
                                 spec["sgemm_n"])))
        return 0
    workloads = [find(k) for k in args.only] if args.only else list(WORKLOADS)
    spec = {"workloads": [f"{w.name} b{2 if args.tiny else w.batch}" for w in workloads],
            "runs": 1 if args.tiny else args.runs, "threads": args.threads,
            "sgemm_n": 64 if args.tiny else 2048}
    load = machine.load_average()
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
                         stdout=subprocess.PIPE, text=True, env=machine.clean_env())  # rows on stderr
    if out.returncode:
        print("conv_rates: the measuring process failed (its error is above)", file=sys.stderr)
        return 1
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["load_average"] = load
    if args.json:
        from striate.io_atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(result, indent=1))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Side-by-side per-op benchmark: striate and PyTorch in one process, same weights, same batches,
same thread count. `bench_networks.py` runs this; `striate bench` runs the honest benchmark
(honest.py: both libraries left at their defaults, one process and separate processes).

For each workload both networks are built from the same definition (striate's `nn` mirrors
`torch.nn`, so one builder takes either namespace), PyTorch's weights are copied into
striate, both are warmed up, then timed runs alternate between the two (>= 5 each) and the
median images/s of each and the ratio striate/PyTorch are reported, for a training step
(forward, backward, SGD-momentum update) and for inference. Per-op rows show where the time
goes, and the convolution GEMM rate is compared with a measured sgemm peak.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

if str(Path(__file__).resolve().parent) not in sys.path:  # the sibling workloads.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from workloads import WORKLOADS as ALL_WORKLOADS  # noqa: E402
from workloads import Workload  # noqa: E402


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("the benchmarks compare with PyTorch, which is not installed; its CPU-only build: "
                          "pip install torch --index-url https://download.pytorch.org/whl/cpu") from None
    return torch


# ---------------------------------------------------------------------------- networks
# The lecture networks of workloads.py (the honest benchmark also runs the shape families).
WORKLOADS = [w for w in ALL_WORKLOADS if w.family == "lecture"]


# ---------------------------------------------------------------------------- timing
def alternate(fns: dict[str, Callable[[], None]], runs: int, warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each function, timed in alternation so that drift in the
    machine's speed affects both sides alike."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(runs):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _pair(w: Workload, seed: int = 0):
    """The same network in both libraries with identical weights, and one batch."""
    import striate as st
    import striate.nn as snn

    torch = _torch()
    torch.manual_seed(seed)
    t_model = w.build(torch.nn)
    s_model = w.build(snn)
    s_model.load_state_dict({k: v.detach().numpy() for k, v in t_model.state_dict().items()})
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((w.batch, *w.input_shape)).astype(np.float32)
    y = rng.integers(0, 10, w.batch)
    return st, torch, s_model, t_model, x, y


def bench_workload(w: Workload, runs: int = 5, steps: int = 3, warmup: int = 2) -> dict[str, Any]:
    import striate.nn.functional as F

    st, torch, s_model, t_model, x, y = _pair(w)
    s_opt = st.optim.SGD(s_model.parameters(), lr=0.01, momentum=0.9)
    t_opt = torch.optim.SGD(t_model.parameters(), lr=0.01, momentum=0.9)
    sx, sy = st.from_numpy(x), st.from_numpy(y)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def s_train():
        for _ in range(steps):
            s_opt.zero_grad()
            F.cross_entropy(s_model(sx), sy).backward()
            s_opt.step()

    def t_train():
        for _ in range(steps):
            t_opt.zero_grad()
            torch.nn.functional.cross_entropy(t_model(tx), ty).backward()
            t_opt.step()

    def s_infer():
        with st.no_grad():
            for _ in range(steps):
                s_model(sx)

    def t_infer():
        with torch.no_grad():
            for _ in range(steps):
                t_model(tx)

    s_model.train()
    t_model.train()
    train = alternate({"striate": s_train, "torch": t_train}, runs, warmup)
    s_model.eval()
    t_model.eval()
    infer = alternate({"striate": s_infer, "torch": t_infer}, runs, warmup)
    n = w.batch * steps
    row = {"workload": w.name, "batch": w.batch}
    for kind, t in (("train", train), ("infer", infer)):
        row[f"{kind}_striate_img_s"] = n / t["striate"]
        row[f"{kind}_torch_img_s"] = n / t["torch"]
        row[f"{kind}_ratio"] = t["torch"] / t["striate"]
    return row


def bench_ops(runs: int = 7, batch: int = 64, warmup: int = 2) -> list[dict[str, Any]]:
    """Per-op rows: where a training step spends its time."""
    import striate as st
    import striate.nn.functional as F

    torch = _torch()
    tf = torch.nn.functional
    rng = np.random.default_rng(0)
    rows = []

    def add(name, s_fn, t_fn):
        t = alternate({"striate": s_fn, "torch": t_fn}, runs, warmup)
        rows.append({"op": name, "striate_ms": 1e3 * t["striate"], "torch_ms": 1e3 * t["torch"],
                     "ratio": t["torch"] / t["striate"]})

    def conv_rows(n, c, h, k, co, pad):
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        wt = rng.standard_normal((co, c, k, k)).astype(np.float32)
        sx, sw = st.from_numpy(x).requires_grad_(), st.from_numpy(wt).requires_grad_()
        tx, tw = torch.from_numpy(x).requires_grad_(), torch.from_numpy(wt).requires_grad_()
        label = f"conv2d {n}x{c}x{h}x{h} * {co}x{c}x{k}x{k} pad {pad}"
        with st.no_grad(), torch.no_grad():
            add(label + " fwd", lambda: F.conv2d(sx, sw, padding=pad), lambda: tf.conv2d(tx, tw, padding=pad))
        g = rng.standard_normal(F.conv2d(sx, sw, padding=pad).shape).astype(np.float32)
        sg, tg = st.from_numpy(g), torch.from_numpy(g)
        add(label + " fwd+bwd", lambda: (F.conv2d(sx, sw, padding=pad) * sg).sum().backward(),
            lambda: (tf.conv2d(tx, tw, padding=pad) * tg).sum().backward())

    for shape in [(1, 28, 5, 6, 0), (6, 12, 5, 16, 0), (3, 32, 3, 32, 1), (32, 32, 3, 32, 1),
                  (32, 16, 3, 64, 1)]:
        conv_rows(batch, *shape)
    x = rng.standard_normal((batch, 32, 32, 32)).astype(np.float32)
    sx, tx = st.from_numpy(x).requires_grad_(), torch.from_numpy(x).requires_grad_()
    add("max_pool2d 64x32x32x32 k2 fwd+bwd", lambda: F.max_pool2d(sx, 2).sum().backward(),
        lambda: tf.max_pool2d(tx, 2).sum().backward())
    add("max_pool2d 64x32x32x32 k3 s2 fwd+bwd", lambda: F.max_pool2d(sx, 3, 2).sum().backward(),
        lambda: tf.max_pool2d(tx, 3, 2).sum().backward())
    rm_s, rv_s = st.zeros(32), st.ones(32)
    rm_t, rv_t = torch.zeros(32), torch.ones(32)
    add("batch_norm 64x32x32x32 train fwd+bwd",
        lambda: F.batch_norm(sx, rm_s, rv_s, training=True).sum().backward(),
        lambda: tf.batch_norm(tx, rm_t, rv_t, training=True).sum().backward())
    params = [rng.standard_normal(s).astype(np.float32) for s in [(512, 4096), (512,), (10, 512), (10,)]]
    sp = [st.from_numpy(p.copy()).requires_grad_() for p in params]
    tp = [torch.from_numpy(p.copy()).requires_grad_() for p in params]
    for a, b in zip(sp, tp):
        a.grad = st.from_numpy(np.ones_like(a.numpy()))
        b.grad = torch.ones_like(b)
    s_opt = st.optim.SGD(sp, lr=0.01, momentum=0.9)
    t_opt = torch.optim.SGD(tp, lr=0.01, momentum=0.9)
    add("SGD momentum step, 2.1M params", s_opt.step, t_opt.step)
    return rows


def sgemm_peak(n: int = 1024, runs: int = 5) -> float:
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.copy()
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(runs))
    return 2 * n ** 3 / best / 1e9


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def conv_gemm_rate(runs: int = 5, batch_scale: float = 1.0) -> dict[str, float]:
    """GFLOP/s of a LeNet/CIFAR-sized conv2d forward, counted as the direct convolution's 2*MACs
    (an effective rate for layers on the Winograd path, which multiplies 2.25x less)."""
    import striate as st
    import striate.nn.functional as F
    from striate.ops import winograd

    rng = np.random.default_rng(0)
    out = {}
    for n, c, h, k, co in [(256, 6, 12, 5, 16), (64, 32, 32, 3, 32), (64, 32, 16, 3, 64)]:
        n = max(1, int(n * batch_scale))
        x = st.from_numpy(rng.standard_normal((n, c, h, h)).astype(np.float32))
        w = st.from_numpy(rng.standard_normal((co, c, k, k)).astype(np.float32))
        pad = k // 2 if k == 3 else 0
        with st.no_grad():
            y = F.conv2d(x, w, padding=pad)
            best = min(_timed(lambda x=x, w=w, pad=pad: F.conv2d(x, w, padding=pad)) for _ in range(runs))
        macs = y.numel() * c * k * k
        path = "Winograd" if winograd.applies((k, k, 1, 1, 1, 1, *y.shape[2:]), 1, c, co) else "im2col + GEMM"
        out[f"conv {n}x{c}x{h}x{h} k{k}->{co} ({path})"] = 2 * macs / best / 1e9
    return out


def threads() -> int:
    from striate import config

    return config.get_num_threads()


def run(quick: bool = False, tiny: bool = False, threads: int | None = None,
        runs: int | None = None) -> dict[str, Any]:
    """All rows. quick: LeNet-5 only; tiny: every workload at batch 2 with one timed run (a smoke
    test of the code, not a measurement); threads: cap both libraries (default: striate's)."""
    from striate import config

    torch = _torch()
    config.set_num_threads(threads if threads is not None else config.default_num_threads())
    n_threads = config.get_num_threads()
    torch.set_num_threads(n_threads)
    if runs is None:
        runs = 1 if tiny else (5 if quick else 7)
    workloads = WORKLOADS[:1] if quick else WORKLOADS
    if tiny:
        workloads = [replace(w, batch=2) for w in workloads]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.processor() or 'cpu'}",
        "threads": n_threads,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "networks": [bench_workload(w, runs=runs, steps=1 if tiny else 3, warmup=0 if tiny else 2)
                     for w in workloads],
        "ops": bench_ops(runs=runs, batch=2 if tiny else 64, warmup=0 if tiny else 2),
        "sgemm_peak_gflops": sgemm_peak(n=64 if tiny else 1024, runs=runs),
        "conv_gemm_gflops": conv_gemm_rate(runs=runs, batch_scale=0.01 if tiny else 1.0),
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [f"Measured {result['date']} on {result['machine']}, {result['threads']} threads, "
             f"PyTorch {result['torch']}, NumPy {result['numpy']}, OMP_WAIT_POLICY="
             f"{result.get('omp_wait_policy') or 'unset'}, load average at start "
             f"{', '.join(f'{v:.1f}' for v in result.get('load_average') or [])}. "
             "Ratio = striate speed / PyTorch speed (> 1: striate faster).", "",
             "| workload | batch | train img/s striate | train img/s PyTorch | train ratio "
             "| infer img/s striate | infer img/s PyTorch | infer ratio |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["networks"]:
        lines.append(f"| {r['workload']} | {r['batch']} | {r['train_striate_img_s']:.0f} | "
                     f"{r['train_torch_img_s']:.0f} | {r['train_ratio']:.2f} | "
                     f"{r['infer_striate_img_s']:.0f} | {r['infer_torch_img_s']:.0f} | "
                     f"{r['infer_ratio']:.2f} |")
    lines += ["", "| op | striate ms | PyTorch ms | ratio |", "|---|---|---|---|"]
    for r in result["ops"]:
        lines.append(f"| {r['op']} | {r['striate_ms']:.2f} | {r['torch_ms']:.2f} | {r['ratio']:.2f} |")
    lines += ["", f"sgemm peak (1024^3, NumPy/OpenBLAS): {result['sgemm_peak_gflops']:.0f} GFLOP/s"]
    peak = result["sgemm_peak_gflops"]
    for k, v in result["conv_gemm_gflops"].items():
        lines.append(f"- {k} forward, counted as direct 2*MACs: {v:.0f} GFLOP/s, "
                     f"{100 * v / peak:.0f}% of the sgemm peak")
    return "\n".join(lines) + "\n"


def main(quick: bool = False, out: str | os.PathLike = "bench-results", tiny: bool = False,
         threads: int | None = None, runs: int | None = None) -> int:
    from striate.io_atomic import atomic_write_text

    result = run(quick=quick, tiny=tiny, threads=threads, runs=runs)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "bench.json", json.dumps(result, indent=1))
    md = markdown(result)
    atomic_write_text(folder / "bench.md", md)
    print(md)
    print(f"written: {folder / 'bench.json'}, {folder / 'bench.md'}")
    return 0

"""Time conv2d and max_pool2d, forward and backward, striate vs PyTorch, on real layer shapes.

Layer shapes (batch 64 by default):
  LeNet-5   C1: 1x32x32 -> 6@5x5     S2: pool 2x2 on 6x28x28
            C3: 6x14x14 -> 16@5x5    S4: pool 2x2 on 16x10x10
  CIFAR net conv3x3 pad1: 3->32 at 32x32, 32->32 at 32x32, pool 2x2,
            32->64 at 16x16, 64->64 at 16x16, pool 2x2

Both libraries run in this process on the same float32 inputs with the same thread count
(torch.set_num_threads = striate's BLAS thread count). Each measurement warms up, then takes
the median of --repeats runs, alternating striate and PyTorch so that noise from other
processes hits both alike. "backward" times only the backward pass (dX, dW, db) of a fresh
forward graph.

    python benchmarks/bench_ops.py                    # Numba kernels, all cores BLAS has
    python benchmarks/bench_ops.py --kernels numpy    # the NumPy reference kernels
    python benchmarks/bench_ops.py --threads 1 --batch 32 --repeats 9
"""

from __future__ import annotations

# PyTorch runs as its users run it: no OMP_WAIT_POLICY or thread policy is set for it here
# (issue 14; PASSIVE slowed PyTorch's LeNet-5 step by ~30%). Its idle OpenMP threads may spin
# during striate's turns in this one process: read these numbers with that in mind.
import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

import striate as st  # noqa: E402
import striate.nn.functional as F  # noqa: E402


@dataclass
class Layer:
    name: str
    kind: str  # "conv" or "pool"
    x_shape: tuple[int, ...]
    w_shape: tuple[int, ...] | None = None
    options: dict | None = None


def layers(batch: int = 64) -> list[Layer]:
    """LeNet-5's and a CIFAR network's conv and pooling layers at the given batch size."""
    n = batch
    return [
        Layer("lenet C1 1x32x32 -> 6@5x5", "conv", (n, 1, 32, 32), (6, 1, 5, 5), {}),
        Layer("lenet S2 maxpool2 6x28x28", "pool", (n, 6, 28, 28), None, {"kernel_size": 2}),
        Layer("lenet C3 6x14x14 -> 16@5x5", "conv", (n, 6, 14, 14), (16, 6, 5, 5), {}),
        Layer("lenet S4 maxpool2 16x10x10", "pool", (n, 16, 10, 10), None, {"kernel_size": 2}),
        Layer("cifar conv 3->32 32x32 3x3p1", "conv", (n, 3, 32, 32), (32, 3, 3, 3), {"padding": 1}),
        Layer("cifar conv 32->32 32x32 3x3p1", "conv", (n, 32, 32, 32), (32, 32, 3, 3), {"padding": 1}),
        Layer("cifar maxpool2 32x32x32", "pool", (n, 32, 32, 32), None, {"kernel_size": 2}),
        Layer("cifar conv 32->64 16x16 3x3p1", "conv", (n, 32, 16, 16), (64, 32, 3, 3), {"padding": 1}),
        Layer("cifar conv 64->64 16x16 3x3p1", "conv", (n, 64, 16, 16), (64, 64, 3, 3), {"padding": 1}),
        Layer("cifar maxpool2 64x16x16", "pool", (n, 64, 16, 16), None, {"kernel_size": 2}),
    ]


def _arrays(layer: Layer, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(layer.x_shape, dtype=np.float32)]
    if layer.kind == "conv":
        arrays.append(rng.standard_normal(layer.w_shape, dtype=np.float32) * 0.1)
        arrays.append(rng.standard_normal(layer.w_shape[0], dtype=np.float32))
    return arrays


def _striate_fn(layer: Layer) -> Callable:
    if layer.kind == "conv":
        return lambda x, w, b: F.conv2d(x, w, b, **layer.options)
    return lambda x: F.max_pool2d(x, **layer.options)


def _torch_fn(layer: Layer) -> Callable:
    import torch.nn.functional as TF

    if layer.kind == "conv":
        return lambda x, w, b: TF.conv2d(x, w, b, **layer.options)
    return lambda x: TF.max_pool2d(x, **layer.options)


def _timers(layer: Layer) -> dict[str, Callable[[], float]]:
    """One closure per (library, pass); each call runs once and returns seconds."""
    import torch

    arrays = _arrays(layer)
    s_fn, t_fn = _striate_fn(layer), _torch_fn(layer)
    s_in = [st.from_numpy(a).requires_grad_() for a in arrays]
    t_in = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    with st.no_grad():
        out_shape = s_fn(*s_in).shape
    g = np.random.default_rng(1).standard_normal(out_shape, dtype=np.float32)
    g_s, g_t = st.from_numpy(g), torch.from_numpy(g.copy())

    def s_forward() -> float:
        t0 = time.perf_counter()
        with st.no_grad():
            s_fn(*s_in)
        return time.perf_counter() - t0

    def t_forward() -> float:
        t0 = time.perf_counter()
        with torch.no_grad():
            t_fn(*t_in)
        return time.perf_counter() - t0

    def s_backward() -> float:
        for t in s_in:
            t.grad = None
        y = s_fn(*s_in)
        t0 = time.perf_counter()
        y.backward(g_s)
        return time.perf_counter() - t0

    def t_backward() -> float:
        for t in t_in:
            t.grad = None
        y = t_fn(*t_in)
        t0 = time.perf_counter()
        y.backward(g_t)
        return time.perf_counter() - t0

    return {"s_fwd": s_forward, "t_fwd": t_forward, "s_bwd": s_backward, "t_bwd": t_backward}


def time_layer(layer: Layer, repeats: int = 5, warmup: int = 2) -> dict[str, float]:
    """Median seconds of striate and torch forward and backward, runs alternating."""
    timers = _timers(layer)
    for _ in range(warmup):
        for fn in timers.values():
            fn()
    samples: dict[str, list[float]] = {k: [] for k in timers}
    for _ in range(repeats):
        for key, fn in timers.items():
            samples[key].append(fn())
    return {k: statistics.median(v) for k, v in samples.items()}


def run(batch: int = 64, repeats: int = 5, warmup: int = 2, kernels: str | None = None,
        threads: int | None = None) -> list[dict]:
    """Time every layer; returns one row per layer with times (ms) and striate/PyTorch ratios."""
    import torch

    if kernels:
        st.config.set_kernels(kernels)
    st.config.set_num_threads(threads or st.config.default_num_threads())
    torch.set_num_threads(st.config.get_num_threads())
    rows = []
    for layer in layers(batch):
        t = time_layer(layer, repeats, warmup)
        rows.append({
            "layer": layer.name,
            "striate_fwd_ms": 1e3 * t["s_fwd"], "torch_fwd_ms": 1e3 * t["t_fwd"],
            "fwd_ratio": t["s_fwd"] / t["t_fwd"],
            "striate_bwd_ms": 1e3 * t["s_bwd"], "torch_bwd_ms": 1e3 * t["t_bwd"],
            "bwd_ratio": t["s_bwd"] / t["t_bwd"],
        })
    return rows


def format_table(rows: list[dict]) -> str:
    head = (f"{'layer':32s} {'fwd st ms':>10s} {'fwd pt ms':>10s} {'ratio':>6s}   "
            f"{'bwd st ms':>10s} {'bwd pt ms':>10s} {'ratio':>6s}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['layer']:32s} {r['striate_fwd_ms']:10.3f} {r['torch_fwd_ms']:10.3f} {r['fwd_ratio']:6.2f}   "
            f"{r['striate_bwd_ms']:10.3f} {r['torch_bwd_ms']:10.3f} {r['bwd_ratio']:6.2f}"
        )
    fwd = statistics.geometric_mean([r["fwd_ratio"] for r in rows])
    bwd = statistics.geometric_mean([r["bwd_ratio"] for r in rows])
    lines.append(f"{'geometric mean ratio':32s} {'':10s} {'':10s} {fwd:6.2f}   {'':10s} {'':10s} {bwd:6.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (median; >= 5)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--kernels", choices=st.config.KERNEL_CHOICES, default=None,
                        help="kernel twin (default: STRIATE_KERNELS or numba)")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads for both libraries")
    args = parser.parse_args(argv)
    rows = run(args.batch, max(args.repeats, 1), args.warmup, args.kernels, args.threads)
    print(f"striate kernels={st.config.get_kernels()}  threads={st.config.get_num_threads()}  "
          f"batch={args.batch}  median of {args.repeats}  (ratio = striate time / PyTorch time)")
    print(format_table(rows))


if __name__ == "__main__":
    main()

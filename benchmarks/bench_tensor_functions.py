"""Time issue 21's tensor functions, forward + backward, striate vs PyTorch, on CNN-sized inputs.

Cases: GELU (exact and tanh), SiLU, Hardswish; F.interpolate nearest x2 and bilinear x2 on a
(32, 64, 32, 32) feature map (a U-Net / FPN decoder step); bmm and einsum of attention-like
batches; topk, sort, cumsum, scatter_add, masked_fill and the vector norm.

Both libraries run in this process on the same float32 inputs with the same thread count
(torch.set_num_threads = striate's BLAS thread count); PyTorch runs as its users run it (no env
var or thread policy is set for it). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for this
process only, before NumPy loads. Each case warms up, then takes the median of --repeats runs,
alternating the two libraries. The BLAS library in use (threadpoolctl) and the load average
before and after are printed: on a shared machine, read the ratios with the load in mind.

    python benchmarks/bench_tensor_functions.py [--repeats 7] [--threads 2] [--scale 1.0]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # this benchmark's own process only
    os.environ.pop(_var, None)

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

import striate as st  # noqa: E402
import striate.nn.functional as F  # noqa: E402


def cases(scale: float = 1.0) -> dict[str, tuple[list[tuple[int, ...]], Callable, Callable]]:
    """name -> (input shapes, striate fn, torch fn); `scale` shrinks the batch for smoke tests."""
    import torch
    import torch.nn.functional as TF

    n = max(1, int(32 * scale))
    fmap = (n, 64, 32, 32)
    return {
        "gelu (32,64,32,32)": ([fmap], F.gelu, TF.gelu),
        "gelu tanh": ([fmap], lambda x: F.gelu(x, approximate="tanh"),
                      lambda x: TF.gelu(x, approximate="tanh")),
        "silu": ([fmap], F.silu, TF.silu),
        "hardswish": ([fmap], F.hardswish, TF.hardswish),
        "interpolate nearest x2": ([fmap], lambda x: F.interpolate(x, scale_factor=2),
                                   lambda x: TF.interpolate(x, scale_factor=2)),
        "interpolate bilinear x2": ([fmap], lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
                                    lambda x: TF.interpolate(x, scale_factor=2, mode="bilinear")),
        "bmm (256,64,64)@(256,64,64)": ([(8 * n, 64, 64), (8 * n, 64, 64)], st.bmm, torch.bmm),
        "einsum bhqd,bhkd->bhqk": ([(n, 8, 64, 32), (n, 8, 64, 32)],
                                   lambda q, k: st.einsum("bhqd,bhkd->bhqk", q, k),
                                   lambda q, k: torch.einsum("bhqd,bhkd->bhqk", q, k)),
        "topk k=5 of (2048,1000)": ([(64 * n, 1000)], lambda x: x.topk(5).values, lambda x: x.topk(5).values),
        "sort (2048,1000)": ([(64 * n, 1000)], lambda x: x.sort().values, lambda x: x.sort().values),
        "cumsum (2048,1000) dim 1": ([(64 * n, 1000)], lambda x: x.cumsum(1), lambda x: x.cumsum(1)),
        "masked_fill (32,64,32,32)": ([fmap], lambda x: x.masked_fill(x > 0.5, 0.0),
                                      lambda x: x.masked_fill(x > 0.5, 0.0)),
        "vector_norm dim 1 (2048,1000)": ([(64 * n, 1000)], lambda x: x.norm(dim=1), lambda x: x.norm(dim=1)),
    }


def _timer(fn: Callable, make_inputs: Callable, backward: bool) -> Callable[[], float]:
    def once() -> float:
        inputs = make_inputs()
        start = time.perf_counter()
        out = fn(*inputs)
        if backward:
            out.sum().backward()
        return time.perf_counter() - start
    return once


def time_case(shapes, s_fn, t_fn, repeats: int, warmup: int = 1) -> tuple[float, float]:
    import torch

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    s_once = _timer(s_fn, lambda: [st.tensor(a, requires_grad=True) for a in arrays], True)
    t_once = _timer(t_fn, lambda: [torch.tensor(a, requires_grad=True) for a in arrays], True)
    for _ in range(warmup):
        s_once()
        t_once()
    s_times, t_times = [], []
    for _ in range(repeats):
        s_times.append(s_once())
        t_times.append(t_once())
    return statistics.median(s_times), statistics.median(t_times)


def blas_kernels() -> str:
    from threadpoolctl import threadpool_info

    infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} "
                     f"({i.get('num_threads')} threads)" for i in infos) or "none found"


def run(repeats: int = 5, threads: int | None = None, scale: float = 1.0) -> list[dict]:
    import torch

    st.config.set_num_threads(threads or st.config.default_num_threads())
    torch.set_num_threads(st.config.get_num_threads())
    rows = []
    for name, (shapes, s_fn, t_fn) in cases(scale).items():
        s, t = time_case(shapes, s_fn, t_fn, repeats)
        rows.append({"case": name, "striate_ms": 1e3 * s, "torch_ms": 1e3 * t, "ratio": s / t})
    return rows


def format_table(rows: list[dict]) -> str:
    head = f"{'forward + backward':34s} {'striate ms':>11s} {'torch ms':>10s} {'ratio':>7s}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['case']:34s} {r['striate_ms']:11.2f} {r['torch_ms']:10.2f} {r['ratio']:7.2f}")
    lines.append(f"{'geometric mean ratio':34s} {'':11s} {'':10s} "
                 f"{statistics.geometric_mean([r['ratio'] for r in rows]):7.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--scale", type=float, default=1.0, help="batch scale (1.0: batch 32)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    rows = run(max(args.repeats, 1), args.threads, args.scale)
    load_after = os.getloadavg()
    print(f"striate kernels={st.config.get_kernels()}  threads={st.config.get_num_threads()}  "
          f"median of {args.repeats}  (ratio = striate time / PyTorch time)")
    print(f"BLAS: {blas_kernels()}")
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (1 min)")
    print(format_table(rows))


if __name__ == "__main__":
    main()

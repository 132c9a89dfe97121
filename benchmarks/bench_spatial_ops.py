"""Time issue 21's spatial ops (i21-nn-b), forward + backward, striate vs PyTorch.

Cases: F.unfold / F.fold of a (16, 64, 32, 32) map with a 3x3 window (im2col, col2im),
pixel_shuffle x2 (an ESPCN upsampling step), grid_sample bilinear (zeros and reflection) and
nearest on a spatial transformer's (16, 32, 64, 64) map, affine_grid, max_unpool2d of a 2x2 pool
(SegNet's decoder), bilinear (512 x 256 x 128) and cosine_similarity / pairwise_distance of
(4096, 256) rows.

Both libraries run in this process on the same float32 inputs with the same thread count
(torch.set_num_threads = striate's BLAS thread count; default 1 here, since the machine is
shared); PyTorch runs as its users run it otherwise. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
unset for this process only, before NumPy loads. Times are process CPU seconds
(time.process_time), the two libraries alternating, median of --repeats, which is what stays
comparable when other processes load the machine; the BLAS kernel (threadpoolctl) and the load
average are printed.

    python benchmarks/bench_spatial_ops.py [--repeats 5] [--threads 1] [--scale 1.0]
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
from bench_tensor_functions import blas_kernels, format_table  # noqa: E402


def _pooled(shape: tuple[int, ...]) -> Callable[[np.random.Generator], list[np.ndarray]]:
    import torch
    import torch.nn.functional as TF

    def make(rng: np.random.Generator) -> list[np.ndarray]:
        x = torch.tensor(rng.standard_normal(shape, dtype=np.float32))
        y, idx = TF.max_pool2d(x, 2, return_indices=True)
        return [y.numpy(), idx.numpy()]
    return make


def cases(scale: float = 1.0) -> dict[str, tuple[Callable, Callable, Callable]]:
    """name -> (make inputs from an rng, striate fn, torch fn); `scale` shrinks the batch."""
    import torch.nn.functional as TF

    n = max(1, int(16 * scale))
    fmap, big = (n, 64, 32, 32), (n, 32, 64, 64)
    normal = lambda *shape: lambda rng: [rng.standard_normal(shape)]  # noqa: E731
    cols = (n, 64 * 9, 30 * 30)
    sample = lambda rng: [rng.standard_normal(big), rng.uniform(-1.1, 1.1, (n, 64, 64, 2))]  # noqa: E731
    return {
        "unfold 3x3 (16,64,32,32)": (normal(*fmap), lambda x: F.unfold(x, 3), lambda x: TF.unfold(x, 3)),
        "fold 3x3 -> (16,64,32,32)": (normal(*cols), lambda c: F.fold(c, (32, 32), 3),
                                      lambda c: TF.fold(c, (32, 32), 3)),
        "pixel_shuffle x2 (16,64,32,32)": (normal(*fmap), lambda x: F.pixel_shuffle(x, 2),
                                           lambda x: TF.pixel_shuffle(x, 2)),
        "grid_sample bilinear zeros": (sample, lambda x, g: F.grid_sample(x, g, align_corners=False),
                                       lambda x, g: TF.grid_sample(x, g, align_corners=False)),
        "grid_sample bilinear reflection": (
            sample, lambda x, g: F.grid_sample(x, g, padding_mode="reflection", align_corners=True),
            lambda x, g: TF.grid_sample(x, g, padding_mode="reflection", align_corners=True)),
        "grid_sample nearest border": (
            sample, lambda x, g: F.grid_sample(x, g, "nearest", "border", align_corners=False),
            lambda x, g: TF.grid_sample(x, g, "nearest", "border", align_corners=False)),
        "affine_grid (16, 64x64)": (normal(n, 2, 3), lambda t: F.affine_grid(t, (n, 32, 64, 64), False),
                                    lambda t: TF.affine_grid(t, (n, 32, 64, 64), False)),
        "max_unpool2d 2x2 (16,64,32,32)": (_pooled(fmap), lambda y, i: F.max_unpool2d(y, i, 2),
                                           lambda y, i: TF.max_unpool2d(y, i, 2)),
        "bilinear (512,256)x(512,128)->64": (
            lambda rng: [rng.standard_normal((32 * n, 256)), rng.standard_normal((32 * n, 128)),
                         rng.standard_normal((64, 256, 128)) / 100, rng.standard_normal(64)],
            F.bilinear, TF.bilinear),
        "cosine_similarity (4096,256)": (lambda rng: [rng.standard_normal((256 * n, 256))] * 2,
                                         F.cosine_similarity, TF.cosine_similarity),
        "pairwise_distance (4096,256)": (lambda rng: [rng.standard_normal((256 * n, 256)),
                                                      rng.standard_normal((256 * n, 256))],
                                         F.pairwise_distance, TF.pairwise_distance),
    }


def time_case(make: Callable, s_fn: Callable, t_fn: Callable, repeats: int) -> tuple[float, float]:
    """Median process CPU seconds of forward + backward, the libraries alternating."""
    import torch

    arrays = [np.asarray(a, np.float32) if np.asarray(a).dtype.kind == "f" else np.asarray(a)
              for a in make(np.random.default_rng(0))]

    def once(lib: object, fn: Callable) -> float:
        inputs = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        start = time.process_time()
        fn(*inputs).sum().backward()
        return time.process_time() - start

    times: dict[str, list[float]] = {"st": [], "torch": []}
    for i in range(repeats + 1):  # the first round warms up
        s, t = once(st, s_fn), once(torch, t_fn)
        if i:
            times["st"].append(s)
            times["torch"].append(t)
    return statistics.median(times["st"]), statistics.median(times["torch"])


def run(repeats: int = 5, threads: int = 1, scale: float = 1.0) -> list[dict]:
    import torch

    st.config.set_num_threads(threads)
    torch.set_num_threads(st.config.get_num_threads())
    rows = []
    for name, (make, s_fn, t_fn) in cases(scale).items():
        s, t = time_case(make, s_fn, t_fn, repeats)
        rows.append({"case": name, "striate_ms": 1e3 * s, "torch_ms": 1e3 * t, "ratio": s / max(t, 1e-9)})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0, help="batch scale (1.0: batch 16)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    rows = run(max(args.repeats, 1), args.threads, args.scale)
    load_after = os.getloadavg()
    print(f"striate kernels={st.config.get_kernels()}  threads={st.config.get_num_threads()}  "
          f"median of {args.repeats}, process CPU time  (ratio = striate time / PyTorch time)")
    print(f"BLAS: {blas_kernels()}")
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (1 min)")
    print(format_table(rows))


if __name__ == "__main__":
    main()

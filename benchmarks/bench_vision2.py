"""Time issue 21's torchvision additions, striate vs PyTorch, in one process (process CPU time,
alternating the two, median of --repeats), and wall time. Under load, read both: CPU time is
steadier for striate, but PyTorch's OpenMP threads spin while they wait, which counts as CPU time.

Cases: GaussianBlur(23, sigma 3) of a 3x224x224 float32 image (striate's two 1-D passes vs
torchvision's depthwise conv2d with the 2-D kernel, its code run in PyTorch); RandomErasing(p=1,
value='random') of the same image; eval-mode forwards at 1x3x224x224 of MobileNetV2,
SqueezeNet 1.1 and DenseNet-121 against torch.nn twins written like torchvision's models (the
twins of tests/models/test_vision2_models.py, imported from there), with striate's weights.

Both libraries use the same thread count (torch.set_num_threads = striate's BLAS thread count);
PyTorch runs as its users run it (no env var or thread policy set for it). OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE are unset for this process only, before NumPy loads. The BLAS library in use
(threadpoolctl) and the load average before and after are printed.

    python benchmarks/bench_vision2.py [--repeats 5] [--threads 2] [--side 224]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # this benchmark's own process only
    os.environ.pop(_var, None)

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import striate as st  # noqa: E402
import striate.data.transforms as T  # noqa: E402

HERE = Path(__file__).resolve().parent
TWINS = HERE.parent / "tests" / "models"


def _tv_blur(kernel_size: int, sigma: float) -> Callable:
    import torch
    import torch.nn.functional as TF

    def blur(img):  # torchvision's _functional_tensor.gaussian_blur (float input)
        x = torch.linspace(-(kernel_size - 1) * 0.5, (kernel_size - 1) * 0.5, steps=kernel_size)
        k1 = torch.exp(-0.5 * (x / sigma).pow(2))
        k1 = k1 / k1.sum()
        kernel = torch.mm(k1[:, None], k1[None, :]).expand(img.shape[-3], 1, kernel_size, kernel_size)
        pad = [kernel_size // 2] * 4
        return TF.conv2d(TF.pad(img[None], pad, mode="reflect"), kernel, groups=img.shape[-3])[0]

    return blur


MODELS = ("mobilenet_v2", "squeezenet1_1", "densenet121")


def cases(side: int = 224, models: tuple[str, ...] = MODELS) -> dict[str, tuple[Callable, Callable, tuple]]:
    """name -> (striate fn, torch fn, input shape)."""
    import torch

    if str(TWINS) not in sys.path:
        sys.path.insert(0, str(TWINS))
    from test_vision2_models import TDenseNet, TMobileNetV2, TSqueezeNet

    image = (3, side, side)
    out: dict[str, tuple[Callable, Callable, tuple[int, ...]]] = {
        "GaussianBlur(23, 3.0)": (T.GaussianBlur(23, 3.0), _tv_blur(23, 3.0), image),
        "RandomErasing(value='random')": (T.RandomErasing(p=1.0, value="random"),
                                          _torch_erasing(), image),
    }
    twins = {"mobilenet_v2": TMobileNetV2, "squeezenet1_1": lambda: TSqueezeNet("1_1"),
             "densenet121": TDenseNet}
    for name in models:
        twin = twins[name]
        model = st.models.get_model(name).eval()
        reference = twin().eval()
        reference.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in model.state_dict().items()})
        out[f"{name} forward (eval)"] = (_no_grad(model, st.no_grad), _no_grad(reference, torch.no_grad),
                                         (1, *image))
    return out


def _torch_erasing() -> Callable:
    import torch

    def erase(img):  # torchvision's RandomErasing.get_params + F.erase, p = 1, value='random'
        import math

        torch.rand(1)
        h_img, w_img = img.shape[-2:]
        log_ratio = torch.log(torch.tensor((0.3, 3.3)))
        for _ in range(10):
            area = h_img * w_img * torch.empty(1).uniform_(0.02, 0.33).item()
            aspect = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
            h, w = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
            if h < h_img and w < w_img:
                v = torch.empty([img.shape[-3], h, w], dtype=torch.float32).normal_()
                i = torch.randint(0, h_img - h + 1, size=(1,)).item()
                j = torch.randint(0, w_img - w + 1, size=(1,)).item()
                out = img.clone()
                out[..., i:i + h, j:j + w] = v
                return out
        return img

    return erase


def _no_grad(fn: Callable, context: Callable) -> Callable:
    def run(x):
        with context():
            return fn(x)

    return run


def _clock() -> tuple[float, float]:
    return time.process_time(), time.perf_counter()


def time_case(s_fn: Callable, t_fn: Callable, shape: tuple[int, ...], repeats: int) -> dict[str, float]:
    """Medians of process CPU time and wall time, striate and PyTorch alternating."""
    import torch

    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    xs, xt = st.tensor(x), torch.from_numpy(x)
    times: dict[str, list[float]] = {"s_cpu": [], "t_cpu": [], "s_wall": [], "t_wall": []}
    for i in range(repeats + 1):  # the first round warms up (Numba compiles, caches fill)
        a = _clock()
        s_fn(xs)
        b = _clock()
        t_fn(xt)
        c = _clock()
        if i:
            times["s_cpu"].append(b[0] - a[0])
            times["t_cpu"].append(c[0] - b[0])
            times["s_wall"].append(b[1] - a[1])
            times["t_wall"].append(c[1] - b[1])
    return {k: 1e3 * statistics.median(v) for k, v in times.items()}


def run(repeats: int = 5, threads: int | None = None, side: int = 224, models: tuple[str, ...] = MODELS
        ) -> list[dict]:
    import torch

    st.config.set_num_threads(threads or st.config.default_num_threads())
    torch.set_num_threads(st.config.get_num_threads())
    rows = []
    for name, (s_fn, t_fn, shape) in cases(side, models).items():
        ms = time_case(s_fn, t_fn, shape, repeats)
        rows.append({"case": name, "striate_ms": ms["s_cpu"], "torch_ms": ms["t_cpu"],
                     "ratio": ms["s_cpu"] / max(ms["t_cpu"], 1e-9), "striate_wall_ms": ms["s_wall"],
                     "torch_wall_ms": ms["t_wall"], "wall_ratio": ms["s_wall"] / max(ms["t_wall"], 1e-9)})
    return rows


def format_table(rows: list[dict]) -> str:
    head = (f"{'median ms':34s} {'striate CPU':>11s} {'torch CPU':>10s} {'ratio':>6s} {'striate wall':>12s} "
            f"{'torch wall':>10s} {'ratio':>6s}")
    lines = [head, "-" * len(head)]
    lines += [f"{r['case']:34s} {r['striate_ms']:11.1f} {r['torch_ms']:10.1f} {r['ratio']:6.2f} "
              f"{r['striate_wall_ms']:12.1f} {r['torch_wall_ms']:10.1f} {r['wall_ratio']:6.2f}" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--side", type=int, default=224, help="image side (224: ImageNet size)")
    args = parser.parse_args(argv)
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import machine

    load_before = os.getloadavg()
    rows = run(max(args.repeats, 1), args.threads, args.side)
    load_after = os.getloadavg()
    print(f"striate kernels={st.config.get_kernels()}  threads={st.config.get_num_threads()}  "
          f"median of {args.repeats}  (ratio = striate time / PyTorch time)")
    print(f"BLAS: {machine.blas_info()}")
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (1 min)")
    print(format_table(rows))


if __name__ == "__main__":
    main()

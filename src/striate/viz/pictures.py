"""The figures `striate visualize` writes, one function per kind: (view, x, caption, args, out)
-> paths written. `args` needs .layer, .target and .steps (argparse or a SimpleNamespace)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from striate.viz._common import new_figure, normalise01
from striate.viz.display import attribution_image, clip_percentiles, overlay, resize, save_figure, to_rgb


def _panel_row(panels: list[tuple[str, np.ndarray]], title: str, cmap: str = "gray") -> Any:
    fig = new_figure(figsize=(2.3 * len(panels), 2.8))
    for i, (name, img) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.imshow(img, cmap=cmap if img.ndim == 2 else None, interpolation="nearest")
        ax.set_title(name, fontsize=8)
        ax.set_axis_off()
    fig.suptitle(title, fontsize=9)
    return fig


def _predicted(view: Any, x: np.ndarray, target: int | None) -> tuple[int, str]:
    from striate.viz.run_data import probabilities

    p = probabilities(view.model, x)[0]
    k = int(p.argmax()) if target is None else target
    return k, f"class {view.classes[k]} (p = {p[k]:.2f}; predicted {view.classes[int(p.argmax())]})"


def write_filters(view, x, caption, args, out: Path) -> list[Path]:
    from striate.viz.conv_filters import filters

    path = out / "filters.png"
    save_figure(filters(view.model, args.layer), path, dpi=120)
    return [path]


def write_activations(view, x, caption, args, out: Path) -> list[Path]:
    from striate.io_atomic import atomic_write_text
    from striate.viz.feature_maps import activations

    acts = activations(view.model, x, None if args.layer is None else [args.layer])
    paths = []
    for layer in acts.layers:
        if layer.output.ndim >= 3 and (args.layer or layer.type in ("Conv2d", "Conv1d", "ReLU", "MaxPool2d")):
            path = out / f"activations-{layer.name.replace('.', '_').replace('#', '_')}.png"
            save_figure(acts.figure(layer.name), path)
            paths.append(path)
    text = out / "activations.txt"
    atomic_write_text(text, f"{caption}\n{acts.table()}\n")
    return [*paths, text]


def write_saliency(view, x, caption, args, out: Path) -> list[Path]:
    from striate.viz import attributions as A

    k, what = _predicted(view, x, args.target)
    panels = [("input", to_rgb(x[0])),
              ("gradient |dy/dx|", attribution_image(A.saliency(view.model, x, k)[0])),
              ("guided backprop", attribution_image(np.maximum(A.guided_backprop(view.model, x, k)[0], 0))),
              ("SmoothGrad (25)", attribution_image(A.smoothgrad(view.model, x, k)[0])),
              ("gradient x input", attribution_image(A.gradient_x_input(view.model, x, k)[0])),
              ("integrated gradients", attribution_image(A.integrated_gradients(view.model, x, k)[0]))]
    path = out / "saliency.png"
    save_figure(_panel_row(panels, f"{caption}: attributions for {what}", cmap="inferno"), path, dpi=120)
    return [path]


def write_gradcam(view, x, caption, args, out: Path) -> list[Path]:
    from striate.viz import cam as C

    k, what = _predicted(view, x, args.target)
    layer = args.layer or C.find_cam_layer(view.model, x)
    gc = C.grad_cam(view.model, x, k, layer)[0]
    pp = C.grad_cam_pp(view.model, x, k, layer)[0]
    guided = C.guided_grad_cam(view.model, x, k, layer)[0]
    empty = " (all 0: no positive evidence)" if gc.max() <= 0 else ""
    panels = [("input", to_rgb(x[0])), (f"Grad-CAM {gc.shape}{empty}", normalise01(gc)),
              ("Grad-CAM overlay", overlay(x[0], gc)), ("Grad-CAM++ overlay", overlay(x[0], pp)),
              ("guided Grad-CAM", attribution_image(np.maximum(guided, 0)))]
    path = out / "gradcam.png"
    save_figure(_panel_row(panels, f"{caption}: layer {layer}, {what}", cmap="jet"), path, dpi=120)
    return [path]


def write_maximize(view, x, caption, args, out: Path) -> list[Path]:
    from striate.viz.feature_vis import maximize
    from striate.viz.run_data import probabilities

    classes = range(len(view.classes)) if args.target is None else [args.target]
    lo, hi = float(x.min()), float(x.max())
    images, titles = [], []
    for k in classes:
        param = getattr(args, "param", "pixel")
        r = maximize(view.model, view.input_shape, target=k, steps=args.steps, seed=k, tv=0.05, l2=0.01,
                     clamp=(min(lo, -1.0), max(hi, 3.0)), lr=0.05 if param == "pixel" else 0.1, param=param)
        p = probabilities(view.model, r.image[None])[0]
        images.append(to_rgb(r.image))
        titles.append(f"{view.classes[k]}\n-> {view.classes[int(p.argmax())]} {p.max():.2f}")
    fig = new_figure(figsize=(1.6 * len(images), 2.2))
    for i, (img, t) in enumerate(zip(images, titles)):
        ax = fig.add_subplot(1, len(images), i + 1)
        ax.imshow(img, interpolation="nearest")
        ax.set_title(t, fontsize=7)
        ax.set_axis_off()
    how = "blur" if getattr(args, "param", "pixel") == "pixel" else "DCT parametrisation"
    fig.suptitle(f"class images by gradient ascent (jitter, scale, rotation, {how}, TV + L2); "
                 "above each: what the network says", fontsize=8)
    path = out / ("maximize.png" if how == "blur" else "maximize_dct.png")
    save_figure(fig, path, dpi=120)
    return [path]


def write_dream(view, x, caption, args, out: Path) -> list[Path]:
    from striate.viz.cam import find_cam_layer
    from striate.viz.dream import deep_dream

    layer = args.layer or find_cam_layer(view.model, x)
    big = resize(x, (x.shape[2] * 3, x.shape[3] * 3)).astype(np.float32) if x.ndim == 4 else x
    dream = deep_dream(view.model, big[0], layer, octaves=3, steps=max(4, args.steps // 8), lr=0.05)
    panels = [("input (3x upsampled)", to_rgb(big[0])),
              (f"DeepDream at {layer}", to_rgb(clip_percentiles(dream)))]
    path = out / "dream.png"
    save_figure(_panel_row(panels, caption), path, dpi=120)
    return [path]


def write_graph(view, x, caption, args, out: Path) -> list[Path]:
    from striate.viz._common import frozen, leaf
    from striate.viz.autograd_graph import graph

    with frozen(view.model):
        y = view.model(leaf(x))
        g = graph(y[0].max(), grads=True)
    path = out / "graph.svg"
    g.save(path)
    return [path]


WRITERS = {"filters": write_filters, "activations": write_activations, "saliency": write_saliency,
           "gradcam": write_gradcam, "maximize": write_maximize, "dream": write_dream, "graph": write_graph}

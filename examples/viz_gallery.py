"""The pictures of the README's Visualizing section, from a trained Fashion-MNIST run:

    striate train --model mnist_convnet --dataset fashion_mnist --epochs 3 --batch-size 64
    python examples/viz_gallery.py runs/mnist_convnet-fashion_mnist-... docs/images

Needs matplotlib, Pillow (striate[viz]) and scikit-image (its sample photographs).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import striate as st
from striate.viz import pictures
from striate.viz._common import new_figure, normalise01
from striate.viz.display import clip_percentiles, overlay, save_figure, to_rgb
from striate.viz.kernels import kernels_figure, receptive_field_box
from striate.viz.run_data import load_run


def cam_grid(view, x, y, out: Path) -> None:
    """Six test images: input, Grad-CAM and Grad-CAM++ overlays, guided backprop."""
    fig = new_figure(figsize=(8.5, 2.1 * len(x)))
    cols = ["input", "Grad-CAM", "Grad-CAM++", "guided backprop", "integrated gradients"]
    with st.no_grad():
        pred = view.model(st.tensor(x)).numpy().argmax(1)
    gc = st.viz.grad_cam(view.model, x, pred, "layer2.2")
    pp = st.viz.grad_cam_pp(view.model, x, pred, "layer2.2")
    gb = st.viz.guided_backprop(view.model, x, pred)
    ig = st.viz.integrated_gradients(view.model, x, pred, baseline=np.full_like(x, x.min()))
    for i in range(len(x)):
        panels = [to_rgb(x[i]), overlay(x[i], gc[i]), overlay(x[i], pp[i]),
                  normalise01(np.maximum(gb[i, 0], 0)), normalise01(np.abs(ig[i, 0]))]
        for j, img in enumerate(panels):
            ax = fig.add_subplot(len(x), len(cols), i * len(cols) + j + 1)
            ax.imshow(img, cmap="inferno" if img.ndim == 2 else None, interpolation="nearest")
            ax.set_axis_off()
            if j == 0:
                ax.set_title(f"{view.classes[y[i]]} -> {view.classes[pred[i]]}", fontsize=8)
            elif i == 0:
                ax.set_title(cols[j], fontsize=8)
    fig.suptitle("layer2.2 (ReLU, 14x14) for the predicted class", fontsize=9)
    save_figure(fig, out / "gradcam_grid.png", dpi=110)


def style_figure(view, out: Path) -> None:
    """Gatys style transfer with the Fashion-MNIST network's features on scikit-image photographs."""
    from skimage import data, transform

    mean, std = view.cfg.mean[0], view.cfg.std[0]
    content = transform.resize(data.camera(), (96, 96), anti_aliasing=True).astype(np.float32)
    style = transform.resize(data.brick(), (96, 96), anti_aliasing=True).astype(np.float32)
    c, s = ((content - mean) / std)[None], ((style - mean) / std)[None]
    results = []
    for layers in (["layer1.2"], ["layer1.2", "layer2.2"]):
        t0 = time.time()
        img = st.viz.style_transfer(view.model, c, s, content_layers=["layer2.2"], style_layers=layers,
                                    style_weight=1e3, steps=150, optimizer="lbfgs")
        print(f"style transfer {layers}: {time.time() - t0:.1f} s")
        results.append((f"style from {' + '.join(layers)}", img[0]))
    fig = new_figure(figsize=(10, 2.9))
    for k, (title, img) in enumerate([("content (camera)", c[0]), ("style (brick)", s[0]), *results]):
        ax = fig.add_subplot(1, 4, k + 1)
        ax.imshow(clip_percentiles(img), cmap="gray")
        ax.set_title(title, fontsize=8)
        ax.set_axis_off()
    save_figure(fig, out / "style_transfer.png", dpi=110)


def receptive_field_figure(view, x, out: Path) -> None:
    """A unit of layer2.0 on a test image: its box from the summary and its input gradient."""
    unit = (3, 8)
    (r0, r1), (c0, c1) = receptive_field_box(view.model, view.input_shape, "layer2.0", unit)
    inp = st.tensor(x[:1], requires_grad=True)
    view.model.layer2[0](view.model.layer1(inp))[0, 5, unit[0], unit[1]].backward()
    g = np.abs(inp.grad.numpy()[0, 0])
    from matplotlib.patches import Rectangle

    fig = new_figure(figsize=(5.5, 3))
    for k, (title, img) in enumerate([("receptive field (summary)", to_rgb(x[0])),
                                      ("|input gradient| of the unit", normalise01(g))]):
        ax = fig.add_subplot(1, 2, k + 1)
        ax.imshow(img, cmap="inferno" if img.ndim == 2 else None, interpolation="nearest")
        ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False, edgecolor="lime", lw=2))
        ax.set_title(title, fontsize=8)
        ax.set_axis_off()
    fig.suptitle(f"layer2.0 unit {unit}, channel 5: RF {r1 - r0}x{c1 - c0} px", fontsize=9)
    save_figure(fig, out / "receptive_field.png", dpi=110)


def main(run: str, out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    view = load_run(run)
    xt, yt = view.test_set()
    idx = [0, 1, 2, 12, 23, 42]
    args = SimpleNamespace(layer=None, target=None, steps=128)
    x0 = xt[:1]
    pictures.write_filters(view, x0, "test image 0", args, out)
    acts = st.viz.activations(view.model, x0)
    save_figure(acts.figure("layer1.2"), out / "activations_layer1.png", dpi=110)
    save_figure(acts.figure("layer2.2"), out / "activations_layer2.png", dpi=110)
    pictures.write_saliency(view, x0, "test image 0", args, out)
    cam_grid(view, xt[idx], yt[idx], out)
    t0 = time.time()
    pictures.write_maximize(view, x0, "", args, out)
    print(f"class images: {time.time() - t0:.1f} s")
    t0 = time.time()
    dct = SimpleNamespace(layer=None, target=None, steps=128, param="dct")
    pictures.write_maximize(view, x0, "", dct, out)
    print(f"class images, DCT: {time.time() - t0:.1f} s")
    pictures.write_dream(view, xt[23:24], "test image 23", SimpleNamespace(layer="layer2.2", target=None,
                                                                           steps=128), out)
    style_figure(view, out)
    receptive_field_figure(view, xt[idx[3]:idx[3] + 1], out)
    from skimage import data

    photo = data.camera()[::2, ::2].astype(np.float32) / 255
    save_figure(kernels_figure(photo), out / "kernels.png", dpi=110)
    x, y, z = (st.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    q = x + y
    f = q * z
    st.viz.graph(f, names={"x": x, "y": y, "z": z, "q": q, "f": f}).save(out / "graph_seed003.svg")


if __name__ == "__main__":
    main(*sys.argv[1:3])

"""`striate visualize RUN --what filters,gradcam,... --out DIR`: PNGs (SVG for the graph) of a trained run.

    filters      first conv layer's kernels (or --layer)          filters.png
    activations  feature maps of every conv/ReLU/pool layer       activations-<layer>.png, activations.txt
    saliency     gradient, guided backprop, SmoothGrad, IG        saliency.png
    gradcam      Grad-CAM, Grad-CAM++, guided Grad-CAM overlays   gradcam.png
    maximize     class images (every class, or --class K)         maximize.png
    dream        DeepDream at --layer (default: the CAM layer)    dream.png
    graph        the autograd graph of one forward pass           graph.svg
"""

from __future__ import annotations

import argparse
from pathlib import Path

WHAT = ("filters", "activations", "saliency", "gradcam", "maximize", "dream", "graph")


def add_parser(sub) -> None:
    p = sub.add_parser("visualize", help="pictures of a trained run: filters, activations, saliency, ...",
                       description="Write PNGs that show what a trained run's network does (needs "
                                   "matplotlib and Pillow: pip install 'striate[viz]').")
    p.add_argument("run", help="run folder written by `striate train`")
    p.add_argument("--what", default="filters,activations,gradcam",
                   help=f"comma-separated, or 'all': {', '.join(WHAT)} (default filters,activations,gradcam)")
    p.add_argument("--image", default=None, help="image file (PNG, JPEG, .npy) instead of a test image")
    p.add_argument("--index", type=int, default=0, help="test image to use when no --image (default 0)")
    p.add_argument("--layer", default=None, help="named_modules() path of the layer (default: automatic)")
    p.add_argument("--class", dest="target", type=int, default=None,
                   help="class index to explain or maximise (default: the predicted class / all classes)")
    p.add_argument("--steps", type=int, default=96, help="optimisation steps for maximize/dream (default 96)")
    p.add_argument("--param", default="pixel", choices=["pixel", "dct"],
                   help="maximize: optimise pixels (with blur) or DCT coefficients (default pixel)")
    p.add_argument("--out", required=True, help="folder for the pictures")


def _parse_what(text: str) -> list[str]:
    items = list(WHAT) if text == "all" else [w.strip() for w in text.split(",") if w.strip()]
    bad = [w for w in items if w not in WHAT]
    if bad or not items:
        raise SystemExit(f"error: --what {text!r}: unknown {', '.join(bad) or 'nothing'}; choose from "
                         f"{', '.join(WHAT)} or all")
    return items


def run(args: argparse.Namespace) -> int:
    from striate.viz import pictures
    from striate.viz.run_data import load_run

    what = _parse_what(args.what)
    view = load_run(args.run)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    x, caption = view.image(args.image, args.index)
    if args.layer is not None:
        names = {n for n, _ in view.model.named_modules()}
        if args.layer not in names:
            raise SystemExit(f"error: --layer {args.layer!r} is not a module of {view.cfg.model}; "
                             f"choose one of: {', '.join(sorted(n for n in names if n))}")
    if args.target is not None and not 0 <= args.target < len(view.classes):
        raise SystemExit(f"error: --class {args.target} out of range 0..{len(view.classes) - 1}")
    try:
        for item in what:
            written = pictures.WRITERS[item](view, x, caption, args, out)
            for path in written:
                print(path)
    except ImportError as e:
        raise SystemExit(f"error: {e}") from None
    return 0


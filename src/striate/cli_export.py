"""`striate export RUN --onnx OUT`: a trained run's model as an ONNX file.

    striate export runs/lenet5-digits-... --onnx lenet5.onnx [--which best|last] [--opset 17]

The file takes (N, C, H, W) float32 images normalised as in training (the mean and std are
printed and stored in the file's metadata) and returns the logits.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_USAGE = 2


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export",
        help="write a run's model as an ONNX file",
        description="Export the best (or last) checkpoint of a run folder as ONNX "
        "(needs onnx: pip install 'striate[onnx]').",
    )
    p.add_argument("run", help="run folder written by 'striate train'")
    p.add_argument("--onnx", required=True, metavar="OUT", help="path of the .onnx file to write")
    p.add_argument("--which", default="best", choices=["best", "last"], help="checkpoint (default best)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.add_argument("--static-batch", action="store_true", help="fix the batch size to 1 instead of any N")


def run(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    folder = Path(args.run)
    if not (folder / "config.json").is_file():
        print(
            f"striate export: {folder} is not a run folder (no config.json); pass the folder "
            "'striate train' wrote",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        from striate.onnx import to_model_proto
        from striate.onnx.graph import require_onnx

        onnx = require_onnx()
    except ImportError as exc:
        print(f"striate export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from striate.io_atomic import atomic_write_bytes
    from striate.train import runs

    try:
        cfg, model = runs.load_model(folder, args.which)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"striate export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    side, channels = cfg.input_side, cfg.in_channels
    example = np.zeros((1 if args.static_batch else 2, channels, side, side), np.float32)
    out = Path(args.onnx)
    if out.parent and not out.parent.exists():
        print(f"striate export: the folder {out.parent} does not exist", file=sys.stderr)
        return EXIT_USAGE
    try:
        proto = to_model_proto(model, example, opset=args.opset, dynamic_batch=not args.static_batch)
    except ValueError as exc:
        print(f"striate export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    meta = {
        "mean": list(cfg.mean),
        "std": list(cfg.std),
        "classes": list(cfg.classes),
        "input": f"N x {channels} x {side} x {side} float32, (x - mean) / std",
    }
    onnx.helper.set_model_props(proto, {"striate.preprocessing": json.dumps(meta)})
    onnx.checker.check_model(proto, full_check=True)
    atomic_write_bytes(out, proto.SerializeToString())
    ops = sorted({n.op_type for n in proto.graph.node})
    print(
        f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, opset {args.opset}, {len(proto.graph.node)} nodes: "
        f"{', '.join(ops)})"
    )
    print(
        f"input 'input': {meta['input']} with mean {meta['mean']} and std {meta['std']}; "
        "output 'output': logits"
    )
    return 0

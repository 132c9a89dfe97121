"""`striate summary`: a model's layer table, or one layer's output-size arithmetic.

    striate summary alexnet --input 3x227x227       # the table (also --input-size 3 227 227)
    striate summary lenet5 --variant classic --json
    striate summary --conv 7 3 3                    # (7 - 3)/3 + 1 = 2.33: ... never seen
    striate summary --list                          # the model names
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("summary", help="layer table: shapes, parameters, connections, MACs",
                       description="Print a model's layer table for one input of the given size (output "
                                   "shapes, parameters, LeCun connections, MACs, receptive fields), "
                                   "or do the lecture's output-size arithmetic for one layer.")
    p.add_argument("model", nargs="?", help="model name, e.g. lenet5, alexnet, vgg16, resnet18 (see --list)")
    p.add_argument("--input", default=None, help="one input's size CxHxW, e.g. 3x227x227")
    p.add_argument("--input-size", type=int, nargs=3, metavar=("C", "H", "W"), default=None,
                   help="the same as three numbers")
    p.add_argument("--variant", default=None, help="lenet5 variant (classic or modern)")
    p.add_argument("--num-classes", type=int, default=None, help="number of classes")
    p.add_argument("--in-channels", type=int, default=None, help="input channels (models that take them)")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--list", action="store_true", help="list the model names and exit")
    p.add_argument("--conv", type=int, nargs="+", metavar="N",
                   help="W F [S [P [D]]]: (W - F + 2P)/S + 1 for one layer, and whether it fits")


def _parse_input(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"error: --input must look like 3x227x227, got {text!r}") from None
    if len(dims) != 3 or min(dims) < 1:
        raise SystemExit(f"error: --input needs three positive sizes CxHxW, got {text!r}")
    return dims


def run(args: argparse.Namespace) -> int:
    from striate import models
    from striate.model_summary import summary
    from striate.sizing import conv_output_size

    if args.conv:
        if not 2 <= len(args.conv) <= 5:
            raise SystemExit("error: --conv takes W F [S [P [D]]]")
        try:
            print(conv_output_size(*args.conv).message)
        except (TypeError, ValueError) as e:
            raise SystemExit(f"error: {e}") from None
        return 0
    if args.list or not args.model:
        print("\n".join(models.list_models()))
        return 0 if args.list else 2
    kwargs = {name: getattr(args, name) for name in ("variant", "num_classes", "in_channels")
              if getattr(args, name) is not None}
    try:
        model = models.get_model(args.model, **kwargs)
    except (KeyError, ValueError, TypeError) as e:
        raise SystemExit(f"error: {e}") from None
    if args.input:
        size = _parse_input(args.input)
    elif args.input_size:
        size = tuple(args.input_size)
    else:
        size = models.default_input_size(args.model, **kwargs)
    result = summary(model, size, name=args.model)
    print(json.dumps(result.to_dict(), indent=1) if args.json else result)
    return 0

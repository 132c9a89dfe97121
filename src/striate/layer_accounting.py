"""What `st.summary` counts for one module of a model: connections, MACs, receptive field.

Each leaf module's output shape comes from running it (`model_summary`); this module turns a
module, its input and output shapes into one `LayerRow` (parameters, LeCun's connections,
multiply-adds, receptive field and jump), with the one-layer arithmetic of `striate.sizing`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from striate.sizing import conv_output_size


def _class_names(module: Any) -> set[str]:
    return {cls.__name__ for cls in type(module).__mro__}


def _numel(shape: Sequence[int]) -> int:
    return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1


def _tuple_attr(module: Any, name: str, n: int, default: Any) -> tuple[int, ...]:
    value = getattr(module, name, default)
    if value is None:
        value = default
    if isinstance(value, str):  # padding='same' / 'valid' is resolved from the shapes later
        return (value,) * n  # type: ignore[return-value]
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value)
    return (int(value),) * n


@dataclass
class _Geometry:
    """Receptive field (in input pixels) and jump (effective stride) of a tensor's units, per axis."""

    rf: tuple[int, ...] | None  # None: not spatial (e.g. an MLP input)
    jump: tuple[Fraction, ...] | None  # None after a fully connected layer
    shape: tuple[int, ...]  # per-example shape of the tensor


@dataclass
class LayerRow:
    """One line of the summary: a leaf module's call.

    params: trainable parameters of the module (counted on its first call only);
    non_trainable_params: its parameters with requires_grad=False; buffers: elements in its
    buffers (BatchNorm running statistics, fixed RBF prototypes); connections: LeCun's count
    of weight and bias uses; macs: multiply-adds with weights; receptive_field / jump: the
    size (in input pixels) and spacing of the input window one output unit sees.
    """

    name: str
    type: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    non_trainable_params: int
    buffers: int
    connections: int
    macs: int
    receptive_field: tuple[int, ...] | None
    jump: tuple[Fraction, ...] | None
    depth: int = 0
    warning: str | None = None
    note: str | None = None
    shared: bool = False

    @property
    def rf(self) -> tuple[int, ...] | None:
        return self.receptive_field


def _conv_geometry(module: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...], name: str,
                   transposed: bool = False) -> tuple[list[tuple[int, ...]], str | None, str | None]:
    """Per spatial axis (kernel, stride, padding, dilation), plus a fit warning or ceil_mode note."""
    n = len(in_shape) - 1
    k = _tuple_attr(module, "kernel_size", n, 1)
    s = _tuple_attr(module, "stride", n, k if _is_pool(module) else 1)
    if _is_pool(module) and getattr(module, "stride", None) is None:
        s = k
    p = _tuple_attr(module, "padding", n, 0)
    d = _tuple_attr(module, "dilation", n, 1)
    if isinstance(p[0], str):  # 'valid' or 'same' (stride 1): recover the padding from the shapes
        p = tuple(0 if p[0] == "valid" else (d[i] * (k[i] - 1)) // 2 for i in range(n))
    axes = [(k[i], s[i], p[i], d[i]) for i in range(n)]
    warnings, notes = [], []
    ceil_mode = bool(getattr(module, "ceil_mode", False))
    square = n == 2 and in_shape[1] == in_shape[2] and len(set(axes)) == 1
    for i in ([] if transposed else range(1 if square else n)):
        axis = "row and column" if square else ("row" if (n == 2 and i == 0) else "column")
        try:
            o = conv_output_size(in_shape[1 + i], k[i], s[i], p[i], d[i], ceil_mode=ceil_mode, axis=axis)
        except (ValueError, TypeError):
            continue
        if not o.fits:
            # losing real input is a warning; dropping only padding, or ceil_mode's partial window, a note
            (warnings if o.unseen and not ceil_mode else notes).append(o.message)
    warning = f"{name}: " + "; ".join(dict.fromkeys(warnings)) if warnings else None
    note = "; ".join(dict.fromkeys(notes)) if notes else None
    return axes, warning, note


def _is_pool(module: Any) -> bool:
    return any(n.endswith("Pool1d") or n.endswith("Pool2d") for n in _class_names(module)) and not any(
        n.startswith("Adaptive") for n in _class_names(module))


def _advance(geom: _Geometry, axes: list[tuple[int, int, int, int]], transposed: bool = False) -> tuple:
    """r_out = r_in + (F' - 1) * j_in, j_out = j_in * S (transposed: j_out = j_in / S)."""
    if geom.rf is None or geom.jump is None or len(geom.rf) != len(axes):
        return geom.rf, geom.jump
    rf, jump = [], []
    for (k, s, _p, d), r, j in zip(axes, geom.rf, geom.jump):
        f_eff = d * (k - 1) + 1
        if transposed:
            # each output unit gathers ceil(F'/S) input units, spaced j_in apart
            rf.append(r + (math.ceil(Fraction(f_eff, s)) - 1) * j)
            jump.append(j / s)
        else:
            rf.append(r + (f_eff - 1) * j)
            jump.append(j * s)
    return tuple(_as_int(x) for x in rf), tuple(jump)


def _as_int(x: Fraction | int) -> Any:
    x = Fraction(x)
    return int(x) if x.denominator == 1 else x


def _full_rf(geom: _Geometry) -> tuple[int, ...] | None:
    """A unit that sees a whole spatial volume: r + (size - 1) * j per axis."""
    if geom.rf is None or geom.jump is None:
        return geom.rf
    spatial = geom.shape[1:]
    if len(spatial) != len(geom.rf):
        return geom.rf
    return tuple(_as_int(r + (n - 1) * j) for r, n, j in zip(geom.rf, spatial, geom.jump))


def _adaptive_axes(in_spatial: Sequence[int], out_spatial: Sequence[int]) -> list[tuple[int, Fraction]]:
    """Adaptive pooling window i spans [floor(i*in/out), ceil((i+1)*in/out)): largest window and stride."""
    axes = []
    for n_in, n_out in zip(in_spatial, out_spatial):
        widest = max(math.ceil(Fraction((i + 1) * n_in, n_out)) - (i * n_in) // n_out for i in range(n_out))
        axes.append((widest, Fraction(n_in, n_out)))
    return axes


def _module_counts(module: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> tuple[int, int]:
    """(connections, macs) for one call of a module on one example."""
    custom = getattr(module, "summary_counts", None)
    if callable(custom):
        counts = custom(in_shape, out_shape)
        return int(counts.get("connections", 0)), int(counts.get("macs", 0))
    names = _class_names(module)
    out_elems = _numel(out_shape)
    has_bias = getattr(module, "bias", None) is not None
    weight = getattr(module, "weight", None)
    if any(n.startswith("ConvTranspose") for n in names) and weight is not None:
        w_per_in = _numel(weight.shape[1:])  # (in, out/groups, kh, kw): out/groups * kh * kw per input
        macs = _numel(in_shape) * w_per_in
        return macs + (out_elems if has_bias else 0), macs
    if any(n in ("Conv1d", "Conv2d", "Conv3d") for n in names) and weight is not None:
        per_out = _numel(weight.shape[1:])  # in/groups * kh * kw
        macs = out_elems * per_out
        return macs + (out_elems if has_bias else 0), macs
    if "Linear" in names and weight is not None:
        macs = out_elems * int(weight.shape[1])
        return macs + (out_elems if has_bias else 0), macs
    if any(n.startswith("BatchNorm") for n in names) and weight is not None:
        # in eval mode y = x * w' + b': one multiply-add per element, two weight/bias uses
        return 2 * out_elems, out_elems
    if "Maxout" in names and weight is not None:
        macs = out_elems * _numel(weight.shape) // max(1, int(getattr(module, "out_features", 1)))
        return macs + (out_elems * int(getattr(module, "pieces", 1)) if has_bias else 0), macs
    return 0, 0

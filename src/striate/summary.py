"""The sizing calculator: the lectures' arithmetic for one layer, and `st.summary` for a model.

Seed 003's output-size rule for a convolution or pooling layer over an input of width W, with a
filter of width F, stride S, zero padding P (and dilation D, which stretches the filter to
F' = D(F - 1) + 1):

    W_out = (W - F' + 2P) / S + 1

When the division is not exact the filter "doesn't fit": 7x7 input, 3x3 filter, stride 3 gives
(7 - 3)/3 + 1 = 2.33, and the last column of the input is never seen. PyTorch floors silently;
this module says so instead.

LeNet-5's paper counts *connections*: every use of a weight or a bias. A convolution with
C_in input maps and a k x k kernel producing an H x W x C_out volume makes
H * W * C_out * (k * k * C_in / groups + 1) connections; a fully connected layer
out * (in + 1); a trainable 2x2 subsampling map out * (4 + 1). *MACs* are the multiply-adds
of weights with inputs (bias additions and pooling comparisons are not counted).

    >>> import striate as st
    >>> st.summary.conv_output_size(7, 3, 3)            # doctest: +SKIP
    OutputSize((7 - 3)/3 + 1 = 2.33: the last column of the input is never seen)
    >>> print(st.summary(st.models.lenet5(), (1, 32, 32)))   # doctest: +SKIP

`summary(model, input_size)` runs one forward pass of a batch of one example with forward
hooks on every leaf module and returns a `Summary`: its `rows` (name, type, output_shape,
params, connections, macs, receptive_field, jump, warning), totals, and `str(summary)` is a
table in the style of Keras' `model.summary()`.
"""

from __future__ import annotations

import math
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = [
    "LayerRow",
    "LayerSize",
    "OutputSize",
    "Summary",
    "conv_layer",
    "conv_output_size",
    "conv_params",
    "conv_transpose_output_size",
    "pool_layer",
    "pool_output_size",
    "summary",
    "summary_cli",
]


# --------------------------------------------------------------------------- one-layer arithmetic
def _fmt_number(x: Fraction | float) -> str:
    """2.33, 112.5, 5: at most two decimals, no trailing zeros."""
    text = f"{float(x):.2f}".rstrip("0").rstrip(".")
    return text if text else "0"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True)
class OutputSize:
    """The exact output size of a conv/pool layer along one axis, and whether the stride fits.

    exact:   (W - F' + 2P)/S + 1 as a Fraction (F' = D(F - 1) + 1, the dilated filter width)
    size:    the integer size the layer really produces (PyTorch floors; ceil_mode rounds up)
    fits:    the division is exact: every input column (and padding column) is used
    unseen:  how many columns of the real input (not padding) no window ever covers
    message: the lecture's arithmetic in words, e.g. "(7 - 3)/3 + 1 = 2.33: the last column of
             the input is never seen"
    """

    input_size: int
    kernel_size: int
    stride: int
    padding: int
    dilation: int
    ceil_mode: bool
    exact: Fraction
    size: int
    fits: bool
    unseen: int
    message: str

    @property
    def value(self) -> float:
        return float(self.exact)

    def __float__(self) -> float:
        return float(self.exact)

    def __int__(self) -> int:
        return self.size

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"OutputSize({self.message})"


def _check_int(name: str, value: Any, minimum: int, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{fn}: {name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value}")
    return int(value)


def conv_output_size(W: int, F: int, S: int = 1, P: int = 0, D: int = 1, *, ceil_mode: bool = False,
                     axis: str = "column") -> OutputSize:
    """W_out = (W - F' + 2P)/S + 1 with F' = D(F - 1) + 1, exact, and whether the stride fits.

    Seed 003: "Output size (N - F)/stride + 1 ... N = 7, F = 3: stride 1 => 5, stride 2 => 3,
    stride 3 => 2.33 :\\" -- the filter does not fit, and this function says which input
    columns are lost instead of flooring silently::

        >>> conv_output_size(7, 3, 2).size
        3
        >>> conv_output_size(7, 3, 3).message
        '(7 - 3)/3 + 1 = 2.33: the last column of the input is never seen'

    `axis` only names the direction in the message ("column" for width, "row" for height).
    With `ceil_mode=True` (pooling) the partial last window is kept, as PyTorch does.
    """
    fn = "conv_output_size"
    W = _check_int("W (input size)", W, 1, fn)
    F = _check_int("F (filter size)", F, 1, fn)
    S = _check_int("S (stride)", S, 1, fn)
    P = _check_int("P (padding)", P, 0, fn)
    D = _check_int("D (dilation)", D, 1, fn)
    f_eff = D * (F - 1) + 1
    span = W + 2 * P - f_eff
    pad_text = f" + 2*{P}" if P else ""
    filt_text = f"{f_eff}" if D == 1 else f"{f_eff} (dilated {F})"
    formula = f"({W} - {filt_text}{pad_text})/{S} + 1"
    if span < 0:
        raise ValueError(
            f"{fn}: the filter ({f_eff} wide) is larger than the padded input ({W} + 2*{P} = {W + 2 * P}); "
            "use a smaller filter, more padding or a larger input"
        )
    exact = Fraction(span, S) + 1
    fits = exact.denominator == 1
    floor_size = span // S + 1
    if ceil_mode and not fits:
        size = -(-span // S) + 1
        # PyTorch drops a last window that would start inside the right padding
        if (size - 1) * S >= W + P:
            size -= 1
    else:
        size = floor_size
    last_end = (size - 1) * S + f_eff - 1  # last padded index covered
    uncovered = (W + 2 * P - 1) - last_end  # padded columns after the last window (<0: overhang)
    unseen = max(0, uncovered - P)
    head = f"{formula} = {_fmt_number(exact)}"
    if fits:
        message = head
    elif size != floor_size:
        over = -uncovered
        message = (f"{head}: ceil_mode keeps a partial last window that hangs {_plural(over, axis)} over "
                   "the edge")
    elif unseen == 1:
        verb = "are" if " and " in axis else "is"
        message = f"{head}: the last {axis} of the input {verb} never seen"
    elif unseen > 1:
        message = f"{head}: the last {unseen} {axis}s of the input are never seen"
    else:
        if uncovered == 1:
            which = f"padded {axis} {'are' if ' and ' in axis else 'is'}"
        else:
            which = f"{uncovered} padded {axis}s are"
        message = f"{head}: only padding is skipped (the last {which} never used); no input is lost"
    return OutputSize(W, F, S, P, D, bool(ceil_mode), exact, int(size), fits, int(unseen), message)


def pool_output_size(W: int, F: int, S: int | None = None, P: int = 0, D: int = 1, *,
                     ceil_mode: bool = False, axis: str = "column") -> OutputSize:
    """Pooling uses the same rule as convolution; the stride defaults to the window size."""
    return conv_output_size(W, F, F if S is None else S, P, D, ceil_mode=ceil_mode, axis=axis)


def conv_transpose_output_size(W: int, F: int, S: int = 1, P: int = 0, output_padding: int = 0,
                               D: int = 1) -> int:
    """A transposed convolution ("up-convolution") inverts the size rule:
    W_out = (W - 1)S - 2P + D(F - 1) + output_padding + 1."""
    fn = "conv_transpose_output_size"
    W, F, S = _check_int("W", W, 1, fn), _check_int("F", F, 1, fn), _check_int("S", S, 1, fn)
    P, D = _check_int("P", P, 0, fn), _check_int("D", D, 1, fn)
    output_padding = _check_int("output_padding", output_padding, 0, fn)
    out = (W - 1) * S - 2 * P + D * (F - 1) + output_padding + 1
    if out < 1:
        raise ValueError(f"{fn}: the output size {out} is not positive; reduce the padding")
    return out


def _pair(value: Any, name: str) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def conv_params(in_channels: int, out_channels: int, kernel_size: int | Sequence[int], bias: bool = True,
                groups: int = 1) -> int:
    """Parameters of a conv layer: out_C * (k_h * k_w * in_C / groups) weights + out_C biases.

    Seed 003: ten 5x5 filters on a 32x32x3 volume have 10 * (5*5*3 + 1) = 760 parameters.
    """
    kh, kw = _pair(kernel_size, "kernel_size")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"conv_params: groups={groups} must divide in_channels={in_channels} and "
                         f"out_channels={out_channels}")
    return out_channels * kh * kw * (in_channels // groups) + (out_channels if bias else 0)


@dataclass(frozen=True)
class LayerSize:
    """One layer worked out by hand: output volume (C, H, W), parameters, connections, MACs."""

    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    weights: int
    biases: int
    connections: int
    macs: int
    fits: bool
    warnings: tuple[str, ...]

    @property
    def params(self) -> int:
        return self.weights + self.biases

    def __str__(self) -> str:
        c, h, w = self.output_shape
        text = f"{h}x{w}x{c}, {self.params:,} params ({self.weights:,} weights + {self.biases:,} biases)"
        return text + "".join(f"\n  warning: {m}" for m in self.warnings)


def _volume(input_shape: Sequence[int], fn: str) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise ValueError(f"{fn}: input_shape must be one example's (C, H, W), got {tuple(input_shape)}")
    c, h, w = (_check_int("input_shape entry", v, 1, fn) for v in input_shape)
    return c, h, w


def conv_layer(input_shape: Sequence[int], out_channels: int, kernel_size: int | Sequence[int],
               stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
               dilation: int | Sequence[int] = 1, groups: int = 1, bias: bool = True) -> LayerSize:
    """Size a conv layer without building it: seed 003's worked examples.

        >>> layer = conv_layer((3, 32, 32), 10, 5, padding=2)
        >>> layer.output_shape, layer.params
        ((10, 32, 32), 760)
        >>> conv_layer((3, 227, 227), 96, 11, stride=4).output_shape   # AlexNet CONV1
        (96, 55, 55)
    """
    c, h, w = _volume(input_shape, "conv_layer")
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    dh, dw = _pair(dilation, "dilation")
    rows = conv_output_size(h, kh, sh, ph, dh, axis="row")
    cols = conv_output_size(w, kw, sw, pw, dw, axis="column")
    weights = conv_params(c, out_channels, (kh, kw), bias=False, groups=groups)
    biases = out_channels if bias else 0
    out_elems = out_channels * rows.size * cols.size
    macs = out_elems * kh * kw * (c // groups)
    warns = tuple(o.message for o in (rows, cols) if not o.fits)
    return LayerSize((c, h, w), (out_channels, rows.size, cols.size), weights, biases,
                     macs + (out_elems if bias else 0), macs, rows.fits and cols.fits, warns)


def pool_layer(input_shape: Sequence[int], kernel_size: int | Sequence[int],
               stride: int | Sequence[int] | None = None, padding: int | Sequence[int] = 0,
               ceil_mode: bool = False) -> LayerSize:
    """Size a (max or average) pooling layer: no parameters, depth unchanged.

        >>> pool_layer((96, 55, 55), 3, 2).output_shape     # AlexNet POOL1
        (96, 27, 27)
    """
    c, h, w = _volume(input_shape, "pool_layer")
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    rows = pool_output_size(h, kh, sh, ph, ceil_mode=ceil_mode, axis="row")
    cols = pool_output_size(w, kw, sw, pw, ceil_mode=ceil_mode, axis="column")
    warns = tuple(o.message for o in (rows, cols) if not o.fits)
    return LayerSize((c, h, w), (c, rows.size, cols.size), 0, 0, 0, 0, rows.fits and cols.fits, warns)


# --------------------------------------------------------------------------- per-module accounting
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


# --------------------------------------------------------------------------- the Summary
@dataclass
class Summary:
    """What `st.summary(model, input_size)` found: `rows`, totals, `warnings`; print it for the table."""

    model_name: str
    input_size: tuple[int, ...]
    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    buffer_elements: int
    output_shape: tuple[int, ...]
    dtype_bytes: int = 4
    warnings: list[str] = field(default_factory=list)

    @property
    def params(self) -> int:
        return self.total_params

    @property
    def total_connections(self) -> int:
        return sum(r.connections for r in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def activation_elements(self) -> int:
        return sum(_numel(r.output_shape) for r in self.rows)

    @property
    def activation_bytes(self) -> int:
        """Memory of every leaf layer's output for one example (what backward would keep)."""
        return self.activation_elements * self.dtype_bytes

    @property
    def input_bytes(self) -> int:
        return _numel(self.input_size) * self.dtype_bytes

    @property
    def param_bytes(self) -> int:
        return (self.total_params + self.buffer_elements) * self.dtype_bytes

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.activation_bytes + self.param_bytes

    def __getitem__(self, name: str) -> LayerRow:
        """The first row of the module called `name` (e.g. summary["C1"], summary["features.0"])."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no layer named {name!r} in this summary; names: {[r.name for r in self.rows]}")

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (for files and the dashboard)."""
        def fr(v):
            return None if v is None else [float(x) if isinstance(x, Fraction) else x for x in v]

        return {
            "model": self.model_name,
            "input_size": list(self.input_size),
            "rows": [{"name": r.name, "type": r.type, "output_shape": list(r.output_shape),
                      "params": r.params, "non_trainable_params": r.non_trainable_params,
                      "buffers": r.buffers, "connections": r.connections, "macs": r.macs,
                      "receptive_field": fr(r.receptive_field), "jump": fr(r.jump),
                      "warning": r.warning, "note": r.note} for r in self.rows],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "total_connections": self.total_connections,
            "total_macs": self.total_macs,
            "activation_bytes": self.activation_bytes,
            "param_bytes": self.param_bytes,
            "warnings": list(self.warnings),
        }

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return self.table()

    def table(self) -> str:
        """The Keras/torchinfo-style table."""
        header = ("Layer (type)", "Output Shape", "Param #", "Connections", "MACs", "RF", "Jump")
        lines_data = []
        for r in self.rows:
            label = f"{r.name} ({r.type})"
            if r.warning:
                label += " [!]"
            params = "(shared)" if r.shared else f"{r.params:,}"
            if r.non_trainable_params:
                params += f" +{r.non_trainable_params:,} frozen"
            lines_data.append((label, str(list(r.output_shape)), params, f"{r.connections:,}",
                               f"{r.macs:,}", _fmt_pair(r.receptive_field), _fmt_pair(r.jump)))
        widths = [max(len(h), *(len(row[i]) for row in lines_data)) if lines_data else len(h)
                  for i, h in enumerate(header)]
        right = {2, 3, 4, 5, 6}

        def fmt(cells):
            return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        total_width = sum(widths) + 2 * (len(widths) - 1)
        bar, thin = "=" * total_width, "-" * total_width
        mb = 1024 ** 2
        out = [f'Model: "{self.model_name}"   input (C, H, W): {list(self.input_size)}', bar, fmt(header),
               bar]
        out += [fmt(cells) for cells in lines_data]
        out += [bar,
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}"]
        if self.buffer_elements:
            out.append(f"Buffer elements (running stats, fixed tables): {self.buffer_elements:,}")
        out += [f"Connections: {self.total_connections:,}",
                f"Mult-adds (MACs): {self.total_macs:,} ({_fmt_big(self.total_macs)})",
                thin,
                f"Input size (MB): {self.input_bytes / mb:.2f}",
                f"Forward activations, one example, float32 (MB): {self.activation_bytes / mb:.2f}",
                f"Params + buffers size (MB): {self.param_bytes / mb:.2f}",
                f"Estimated total size (MB): {self.total_bytes / mb:.2f}",
                bar]
        notes = [f"{r.name}: {r.note}" for r in self.rows if r.note]
        if self.warnings:
            out.append("Warnings (the stride does not fit the input):")
            out += [f"  ! {w}" for w in self.warnings]
        if notes:
            out.append("Notes:")
            out += [f"  - {n}" for n in dict.fromkeys(notes)]
        out.append("RF = receptive field in input pixels; Jump = its step (effective stride) between "
                   "neighbouring units.")
        return "\n".join(out)


def _fmt_pair(values: Sequence[Any] | None) -> str:
    if values is None:
        return "-"
    texts = [str(v) for v in values]
    if len(set(texts)) == 1:
        return texts[0]
    return "x".join(texts)


def _fmt_big(n: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


# --------------------------------------------------------------------------- summary()
def _leaf_modules(model: Any) -> list[tuple[str, Any]]:
    leaves = []
    for name, module in model.named_modules():
        if not any(True for _ in module.children()):
            leaves.append((name or type(module).__name__, module))
    return leaves


def _input_size(input_size: Any) -> tuple[int, ...]:
    if isinstance(input_size, (int, np.integer)):
        input_size = (int(input_size),)
    if not isinstance(input_size, (tuple, list)) or not input_size:
        raise TypeError(f"summary: input_size must be one example's shape such as (1, 32, 32) for (C, H, W), "
                        f"got {input_size!r}")
    size = tuple(input_size)
    for v in size:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"summary: input_size entries must be positive integers, got {size}; "
                             "give one example's (C, H, W) without the batch dimension")
    return tuple(int(v) for v in size)


class _Tracker:
    """Hooks that turn each leaf module call into a LayerRow, tracking geometry through the graph."""

    def __init__(self, model: Any, input_tensor: Any) -> None:
        self.rows: list[LayerRow] = []
        self.warnings: list[str] = []
        self.geometry: dict[int, _Geometry] = {}
        self.keep_alive: list[Any] = [input_tensor]
        self.seen_modules: set[int] = set()
        self.last: _Geometry | None = None
        shape = tuple(input_tensor.shape[1:])
        spatial = len(shape) - 1
        if spatial >= 1:
            geom = _Geometry((1,) * spatial, (Fraction(1),) * spatial, shape)
        else:
            geom = _Geometry(None, None, shape)
        self.geometry[id(input_tensor)] = geom
        self.last = geom
        self.prefix_depth = {name: name.count(".") for name, _ in model.named_modules()}

    def _lookup(self, tensor: Any) -> _Geometry:
        """The geometry of a tensor: known if a hooked module made it, otherwise merged from the
        nearest hooked ancestors in the autograd graph (residual sums, concatenations, flattens)."""
        known = self.geometry.get(id(tensor))
        if known is not None:
            return known
        found: list[_Geometry] = []
        stack, visited = [tensor], set()
        while stack:
            t = stack.pop()
            if id(t) in visited:
                continue
            visited.add(id(t))
            g = self.geometry.get(id(t))
            if g is not None:
                found.append(g)
                continue
            ctx = getattr(t, "_ctx", None)
            if ctx is not None:
                stack.extend(getattr(ctx, "parents", ()))
        if not found:
            base = self.last
        else:
            # the widest receptive field wins (a sum or concatenation sees the union)
            base = max(found, key=lambda g: (0 if g.rf is None else max(g.rf)))
        shape = tuple(tensor.shape[1:])
        if base.rf is not None and len(shape) - 1 != len(base.rf):
            # reshaped away from a spatial layout (flatten): each value still sees the base's window,
            # but the layer that mixes them (Linear) is handled by _full_rf on the base geometry.
            return _Geometry(base.rf, base.jump, base.shape)
        return _Geometry(base.rf, base.jump, shape)

    def hook(self, name: str):
        def _hook(module: Any, inputs: tuple, output: Any) -> None:
            tensors = [x for x in inputs if hasattr(x, "_data")]
            outputs = output if isinstance(output, (tuple, list)) else (output,)
            out_t = next((o for o in outputs if hasattr(o, "_data")), None)
            if out_t is None:
                return
            in_geoms = [self._lookup(t) for t in tensors] or [self.last]
            geom_in = max(in_geoms, key=lambda g: (0 if g.rf is None else max(g.rf)))
            in_shape = tuple(tensors[0].shape[1:]) if tensors else ()
            out_shape = tuple(out_t.shape[1:])
            rf, jump, warning, note = self._geometry(module, geom_in, in_shape, out_shape, name)
            connections, macs = _module_counts(module, in_shape, out_shape)
            first = id(module) not in self.seen_modules
            self.seen_modules.add(id(module))
            params = nontrain = buffers = 0
            if first:
                for p in module.parameters(recurse=False):
                    if p.requires_grad:
                        params += p.numel()
                    else:
                        nontrain += p.numel()
                buffers = sum(b.numel() for b in _buffers(module))
            row = LayerRow(name, type(module).__name__, in_shape, out_shape, params, nontrain, buffers,
                           connections, macs, rf, jump, self.prefix_depth.get(name, 0), warning, note,
                           shared=not first and any(True for _ in module.parameters(recurse=False)))
            self.rows.append(row)
            if warning:
                self.warnings.append(warning)
            geom_out = _Geometry(rf, jump, out_shape)
            if rf is not None and jump is not None and len(out_shape) - 1 != len(rf):
                # flattened but not yet mixed (Flatten, Dropout): remember the spatial layout
                geom_out = _Geometry(rf, jump, geom_in.shape)
            for o in outputs:
                if hasattr(o, "_data"):
                    self.geometry[id(o)] = geom_out
                    self.keep_alive.append(o)
            self.last = geom_out

        return _hook

    def _geometry(self, module: Any, geom: _Geometry, in_shape: tuple, out_shape: tuple, name: str):
        names = _class_names(module)
        spatial_in = len(in_shape) - 1
        if any(n.startswith("ConvTranspose") for n in names):
            axes, _, _ = _conv_geometry(module, in_shape, out_shape, name, transposed=True)
            rf, jump = _advance(geom, axes, transposed=True)
            return rf, jump, None, None
        if any(n.startswith("Adaptive") and "Pool" in n for n in names) and geom.rf is not None:
            adaptive = _adaptive_axes(in_shape[1:], out_shape[1:])
            rf = tuple(_as_int(r + (k - 1) * j) for (k, _s), r, j in zip(adaptive, geom.rf, geom.jump))
            jump = tuple(j * s for (_k, s), j in zip(adaptive, geom.jump))
            note = None
            if any(Fraction(a, b).denominator != 1 for a, b in zip(in_shape[1:], out_shape[1:])):
                note = "adaptive pooling windows overlap or repeat (input size not a multiple of output size)"
            return rf, jump, None, note
        has_kernel = hasattr(module, "kernel_size") and spatial_in >= 1 and getattr(module, "kernel_size",
                                                                                     None) is not None
        if has_kernel:
            axes, warning, note = _conv_geometry(module, in_shape, out_shape, name)
            rf, jump = _advance(geom, axes)
            return rf, jump, warning, note
        mixes_features = callable(getattr(module, "summary_counts", None)) or any(
            True for _ in module.parameters())
        if mixes_features and len(out_shape) <= 1 and "Flatten" not in names:
            # a fully connected unit sees the whole volume in front of it
            return _full_rf(geom), None, None, None
        return geom.rf, geom.jump, None, None


def _buffers(module: Any) -> list[Any]:
    try:
        return list(module.buffers(recurse=False))
    except TypeError:
        return list(module.buffers())
    except AttributeError:
        return []


def summary(model: Any, input_size: Sequence[int] | int, *, dtype: Any = None,
            name: str | None = None) -> Summary:
    """Run one forward pass of a batch of one example and tabulate every leaf layer.

    `input_size` is one example's shape without the batch dimension, e.g. (1, 32, 32) for
    LeNet-5 or (3, 227, 227) for AlexNet. The model is put in eval mode for the pass (so
    BatchNorm uses its running statistics and Dropout is the identity) and every module's
    mode is restored afterwards; the input is zeros, so the global random stream is untouched.

    The pass records the autograd graph of that one example (not under `no_grad`): summing
    branches (ResNet) or concatenating them (GoogLeNet, U-Net) are plain tensor operations with
    no module to hook, and walking the graph back to the nearest hooked layers is how the
    receptive field of what follows them is known. Nothing is kept after the call.

    Each row: name, type, output_shape (per example), params (trainable), connections
    (LeCun's count of weight and bias uses), macs, receptive_field and jump (relative to the
    input), and a warning when a conv/pool stride does not fit: (W - F + 2P)/S + 1 is not an
    integer. Totals: params, trainable, non-trainable, MACs, activation and parameter memory.
    """
    import striate as st

    size = _input_size(input_size)
    if not hasattr(model, "named_modules") or not callable(model):
        raise TypeError(f"summary: expected an nn.Module, got {type(model).__name__}")
    dtype = st.float32 if dtype is None else dtype
    x = st.zeros((1, *size), dtype=dtype)
    x.requires_grad_(True)
    tracker = _Tracker(model, x)
    modes = [(m, m.training) for m in model.modules()]
    handles = [module.register_forward_hook(tracker.hook(leaf_name)) for leaf_name, module in
               _leaf_modules(model)]
    try:
        model.eval()
        with st.enable_grad():
            try:
                out = model(x)
            except Exception as e:  # give the input shape the user asked for
                raise RuntimeError(
                    f"summary: the forward pass of {type(model).__name__} failed on an input of shape "
                    f"{(1, *size)} (input_size={size}): {type(e).__name__}: {e}"
                ) from e
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.training = mode
    outputs = out if isinstance(out, (tuple, list)) else (out,)
    first_out = next((o for o in outputs if hasattr(o, "shape")), None)
    params = list(model.parameters())
    trainable = sum(p.numel() for p in params if p.requires_grad)
    total = sum(p.numel() for p in params)
    try:
        buffer_elems = sum(b.numel() for b in model.buffers() if np.dtype(b.dtype).kind == "f")
    except AttributeError:
        buffer_elems = 0
    itemsize = int(np.dtype(dtype).itemsize)
    result = Summary(
        model_name=name or type(model).__name__,
        input_size=size,
        rows=tracker.rows,
        total_params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
        buffer_elements=buffer_elems,
        output_shape=tuple(first_out.shape[1:]) if first_out is not None else (),
        dtype_bytes=itemsize,
        warnings=list(dict.fromkeys(tracker.warnings)),
    )
    del tracker, x, out, outputs, first_out
    return result


# --------------------------------------------------------------------------- command line
def summary_cli(argv: Sequence[str] | None = None) -> int:
    """`striate summary MODEL [--input-size C H W] [--num-classes N] [--variant V] [--json]`.

    Builds `striate.models.get_model(MODEL)` and prints its summary table; `--list` names the
    models. Also does the one-layer arithmetic: `striate summary --conv W F S P`.
    """
    import argparse
    import json

    from striate import models

    parser = argparse.ArgumentParser(
        prog="striate summary",
        description="Print a model's layer table (output shapes, parameters, LeCun connections, MACs, "
                    "receptive fields) or do the lecture's output-size arithmetic.",
    )
    parser.add_argument("model", nargs="?", help="a model name (see --list), e.g. lenet5, alexnet, resnet18")
    parser.add_argument("--list", action="store_true", help="list the model names and exit")
    parser.add_argument("--input-size", type=int, nargs="+", metavar="N",
                        help="one example's (C, H, W); default: the size the model was designed for")
    parser.add_argument("--num-classes", type=int, help="number of output classes")
    parser.add_argument("--in-channels", type=int, help="input channels (models that take them)")
    parser.add_argument("--variant", help="lenet5 variant: classic or modern")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--conv", type=int, nargs="+", metavar="N",
                        help="W F [S [P [D]]]: (W - F + 2P)/S + 1 for one layer, and whether it fits")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.conv:
        if not 2 <= len(args.conv) <= 5:
            parser.error("--conv takes W F [S [P [D]]]")
        print(conv_output_size(*args.conv).message)
        return 0
    if args.list or not args.model:
        for model_name in models.list_models():
            print(model_name)
        return 0 if args.list else 2
    kwargs: dict[str, Any] = {}
    if args.num_classes is not None:
        kwargs["num_classes"] = args.num_classes
    if args.in_channels is not None:
        kwargs["in_channels"] = args.in_channels
    if args.variant is not None:
        kwargs["variant"] = args.variant
    model = models.get_model(args.model, **kwargs)
    size = tuple(args.input_size) if args.input_size else models.default_input_size(args.model, **kwargs)
    result = summary(model, size, name=args.model)
    print(json.dumps(result.to_dict(), indent=1) if args.json else result)
    return 0


class _CallableModule(types.ModuleType):
    """`st.summary` is both this module (for the helpers) and the function (for the table)."""

    def __call__(self, model: Any, input_size: Sequence[int] | int, **kwargs: Any) -> Summary:
        return summary(model, input_size, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
# `st.summary` may resolve to the function (lazy attribute) or to this module (once imported):
# both carry the helpers, so `st.summary.conv_output_size(7, 3, 3)` works either way.
for _helper in __all__:
    if _helper != "summary":
        setattr(summary, _helper, globals()[_helper])
summary.summary = summary  # type: ignore[attr-defined]

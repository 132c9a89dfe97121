"""The lectures' arithmetic for one layer: output sizes, parameters, connections, MACs.

Seed 003's output-size rule for a convolution or pooling layer over an input of width W, with a
filter of width F, stride S, zero padding P (and dilation D, which stretches the filter to
F' = D(F - 1) + 1):

    W_out = (W - F' + 2P) / S + 1

When the division is not exact the filter "doesn't fit": 7x7 input, 3x3 filter, stride 3 gives
(7 - 3)/3 + 1 = 2.33, and the last column of the input is never seen. PyTorch floors silently;
this module says so instead. The integer sizes come from `striate.ops.args`, the formulas the
operations themselves use.

LeNet-5's paper counts *connections*: every use of a weight or a bias. A convolution with
C_in input maps and a k x k kernel producing an H x W x C_out volume makes
H * W * C_out * (k * k * C_in / groups + 1) connections; a fully connected layer
out * (in + 1); a trainable 2x2 subsampling map out * (4 + 1). *MACs* are the multiply-adds
of weights with inputs (bias additions and pooling comparisons are not counted).

    >>> from striate.sizing import conv_output_size
    >>> conv_output_size(7, 3, 3)            # doctest: +SKIP
    OutputSize((7 - 3)/3 + 1 = 2.33: the last column of the input is never seen)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from striate.ops import args


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
    floor_size = args.conv_output_size(W, F, S, P, P, D)
    # ceil_mode keeps a partial last window, unless it would start inside the right padding
    size = args.pool_output_size(W, F, S, P, D, True) if ceil_mode and not fits else floor_size
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
    out = args.conv_transpose_output_size(W, F, S, P, output_padding, D)
    if out < 1:
        raise ValueError(f"{fn}: the output size {out} is not positive; reduce the padding")
    return out


def _pair(value: Any, name: str) -> tuple[int, int]:
    return args.int_tuple(value, 2, name, "summary", allow_single=False)


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

"""F.pad: grow (or crop) the trailing dimensions, as `torch.nn.functional.pad` does.

`pad` lists (before, after) amounts starting from the LAST dimension:
(left, right) pads the width, (left, right, top, bottom) width and height, and so on.

Modes (seed 001's "padding" generalised; nn.Conv2d's padding_mode uses them):
    constant   fill with `value` (zero padding: the conv default); negative amounts crop
    reflect    mirror without repeating the edge:   [a b c d] -> c b | a b c d | c b
    replicate  repeat the edge pixel:               [a b c d] -> a a | a b c d | d d
    circular   wrap around (periodic boundary):     [a b c d] -> c d | a b c d | a b

Backward: each padded output pixel is a copy of one input pixel, so its gradient is added back
to that pixel (for constant padding the border's gradient is simply dropped).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.limits import check_output_size

_NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


class Pad(Function):
    """y = x surrounded by a border; dL/dx sums dL/dy over every copy of each x pixel."""

    def forward(self, x, widths, mode, value, dims=0):
        self.widths, self.mode, self.shape, self.dims = widths, mode, x.shape, dims
        if mode == "constant":
            crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, x.shape))
            grow = [(max(b, 0), max(a, 0)) for b, a in widths]
            return np.pad(x[crop], grow, mode="constant", constant_values=x.dtype.type(value))
        return np.pad(x, widths, mode=_NUMPY_MODE[self.mode])

    def backward(self, g):
        if self.mode == "constant":
            keep = tuple(slice(max(b, 0), n - max(a, 0)) for (b, a), n in zip(self.widths, g.shape))
            regrow = [(max(-b, 0), max(-a, 0)) for b, a in self.widths]
            return (np.pad(g[keep], regrow),)
        for axis, ((before, after), n) in enumerate(zip(self.widths, self.shape)):
            if before or after:
                g = self._fold(g, axis, before, after, n)
        return (g,)

    def name(self) -> str:
        """PyTorch's node name, which depends on the mode and on how many dimensions are padded."""
        mode = self.__dict__.get("mode", "constant")  # (the attributes are gone after backward)
        if mode == "constant":
            return "ConstantPadNdBackward0"
        if mode == "circular":
            return "torch::autograd::CopySlices"  # PyTorch builds it from slice copies
        kind = "ReflectionPad" if mode == "reflect" else "ReplicationPad"
        return f"{kind}{self.__dict__.get('dims', 2)}DBackward0"

    def _fold(self, g: np.ndarray, axis: int, before: int, after: int, n: int) -> np.ndarray:
        """Add the gradient of the border copies along `axis` back onto the pixels they copy."""
        gm = np.moveaxis(g, axis, -1)
        core = gm[..., before:before + n].copy()
        left, right = gm[..., :before], gm[..., before + n:]
        if self.mode == "replicate":
            core[..., 0] += left.sum(axis=-1)
            core[..., n - 1] += right.sum(axis=-1)
        else:
            # Within one border the source pixels are distinct (reflect: 1..before, circular:
            # n-before..n-1), so a fancy-index add loses nothing.
            source = np.pad(np.arange(n), (before, after), mode=_NUMPY_MODE[self.mode])
            if before:
                core[..., source[:before]] += left
            if after:
                core[..., source[before + n:]] += right
        return np.moveaxis(core, -1, axis)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad (or, for constant mode with negative amounts, crop) the trailing dimensions.

    `pad` = (last_before, last_after, second_last_before, second_last_after, ...). Reflect,
    replicate and circular pad the last 1, 2 or 3 dimensions of a 2-5-D input (one or two
    leading batch/channel dimensions), like PyTorch.

    >>> import striate as st, striate.nn.functional as F
    >>> F.pad(st.tensor([[[1., 2., 3.]]]), (2, 1), mode="reflect").tolist()
    [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: input must be a striate Tensor, got {type(input).__name__}")
    amounts = [int(p) for p in pad]
    if len(amounts) % 2:
        raise ValueError(f"pad: padding length must be even (before/after pairs), got {tuple(pad)}")
    k = len(amounts) // 2
    if k > input.ndim:
        raise ValueError(f"pad: {len(amounts)} values pad {k} dimensions but the input has only {input.ndim}")
    widths = [(0, 0)] * input.ndim
    for i in range(k):
        widths[input.ndim - 1 - i] = (amounts[2 * i], amounts[2 * i + 1])
    check_output_size(tuple(max(n + b + a, 0) for n, (b, a) in zip(input.shape, widths)), "pad",
                      f"pad={tuple(pad)}")
    if mode == "constant":
        for (b, a), n in zip(widths, input.shape):
            if n + b + a < 0 or (n - max(-b, 0) - max(-a, 0)) < 0:
                raise ValueError(f"pad: negative padding {tuple(pad)} crops more than {input.shape}")
        return Pad.apply(input, widths=widths, mode=mode, value=0.0 if value is None else float(value))
    if mode not in _NUMPY_MODE:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if value not in (None, 0, 0.0):
        raise ValueError(f"pad: mode {mode!r} takes no fill value (got value={value}); use mode='constant'")
    if not 1 <= k <= 3 or input.ndim not in (k + 1, k + 2):
        raise ValueError(
            f"pad: {mode} padding of the last {k} dimension(s) needs a {k + 1}-D or {k + 2}-D input, got "
            f"shape {input.shape} (only the last 1, 2 or 3 dimensions can be padded in this mode)"
        )
    if 0 in input.shape[1:]:  # as PyTorch: only the first (batch) dimension may be empty
        raise ValueError(f"pad: {mode} padding needs non-empty dimensions after the first, got shape "
                         f"{input.shape}")
    for axis in range(input.ndim - k, input.ndim):
        (b, a), n = widths[axis], input.shape[axis]
        if b < 0 or a < 0:
            raise ValueError(f"pad: {mode} padding must be >= 0, got {tuple(pad)}; crop with mode='constant'")
        if mode == "reflect" and (b >= n or a >= n):
            raise ValueError(
                f"pad: reflect padding ({b}, {a}) at dimension {axis} must be less than that dimension's "
                f"size {n} (input shape {input.shape})"
            )
        if mode == "circular" and (b > n or a > n):
            raise ValueError(
                f"pad: circular padding ({b}, {a}) at dimension {axis} wraps around more than once "
                f"(size {n}, input shape {input.shape}); pad at most {n}"
            )
        if mode == "replicate" and n == 0 and (b or a):
            raise ValueError(f"pad: cannot replicate-pad the empty dimension {axis} of shape {input.shape}")
    return Pad.apply(input, widths=widths, mode=mode, value=0.0, dims=k)

"""Dropout (seed 004): during training, drop each unit with probability p.

Inverted dropout: kept units are scaled by 1/(1 - p) at training time, so the expected
activation is unchanged and evaluation is the identity (no rescaling at test time):

    y = x * m / (1 - p),   m ~ Bernoulli(1 - p);      dL/dx = dL/dy * m / (1 - p)

The mask is drawn as PyTorch draws it on the CPU (a float64 uniform < 1 - p per element, from
the generator `st.manual_seed(n)` seeds), so after the same seed the mask is PyTorch's; the
backward reuses the same mask. dropout2d drops whole channels (feature
maps), one draw per (n, c). `inplace=True` multiplies the input's own memory (recorded, see
`striate.ops.inplace`).

Alpha dropout (Klambauer et al. 2017, for SELU networks) sets dropped units to SELU's negative
saturation -alpha' = -scale * alpha instead of 0 and then fixes mean and variance with an affine
map, so that zero-mean unit-variance activations stay so:

    y = a (x m + alpha' (1 - m)) + c = x (a m) + b,
    a = 1 / sqrt((alpha'^2 p + 1)(1 - p)),  b = a alpha' (m - 1) + a alpha' p;   dL/dx = dL/dy a m

with the mask m drawn exactly as dropout's (so PyTorch's after the same seed).
"""

from __future__ import annotations

import numpy as np

from striate import sampling
from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.activation import inplace_allowed
from striate.ops.inplace import apply_inplace
from striate.ops.shape import clone

ALPHA_DROPOUT_ALPHA = 1.7580993408473766  # SELU's scale * alpha: its negative saturation value


class Dropout(Function):
    """y = x * noise, where noise = mask / (1 - p) (broadcast over H, W for dropout2d)."""

    def forward(self, x, noise):
        self.noise = noise
        return x * noise

    def backward(self, g):
        return (g * self.noise,)


def _check_p(p: float, op: str) -> float:
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return p


class AlphaDropout(Function):
    """y = x * noise + shift (noise = a m, shift = b: see the module docstring);  dL/dx = g * noise."""

    def forward(self, x, noise, shift):
        self.noise = noise
        return x * noise + shift

    def backward(self, g):
        return (g * self.noise,)


def _scaled(x: Tensor, fn: type[Function], inplace: bool, **arrays: np.ndarray) -> Tensor:
    """fn(x, **arrays), or written into x's memory and recorded there (`inplace=True`)."""
    if inplace and inplace_allowed():
        return apply_inplace(x, (), lambda a: fn().forward(a, **arrays), lambda old: fn.apply(old, **arrays))
    return fn.apply(x, **arrays)


def _apply(x: Tensor, p: float, mask_shape: tuple[int, ...], inplace: bool = False) -> Tensor:
    if p == 1.0:
        noise = np.zeros(mask_shape, x.dtype)  # everything dropped; 1/(1-p) would be inf
    else:
        keep = sampling.bernoulli(mask_shape, 1.0 - p)
        noise = keep.astype(x.dtype) * (x.dtype.type(1) / x.dtype.type(1.0 - p))  # PyTorch's div_ by a scalar
    return _scaled(x, Dropout, inplace, noise=noise)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002 - PyTorch's name
                  inplace: bool = False) -> Tensor:
    """Alpha dropout (for SELU networks): dropped units take SELU's saturation value and an affine
    map keeps mean and variance; `torch.nn.functional.alpha_dropout` (note: training=False by
    default there too)."""
    p = _check_p(p, "alpha_dropout")
    if p == 0.0 or not training or input.numel() == 0:
        return input
    if input.dtype.kind != "f":
        raise TypeError(f"alpha_dropout: input must be floating point, got {input.dtype}")
    dt = input.dtype.type
    if p == 1.0:  # PyTorch multiplies by 0 (no shift)
        zeros = np.zeros(input.shape, input.dtype)
        return _scaled(input, AlphaDropout, inplace, noise=zeros, shift=zeros)
    m = sampling.bernoulli(input.shape, 1.0 - p).astype(input.dtype)
    a = 1.0 / np.sqrt((ALPHA_DROPOUT_ALPHA ** 2 * p + 1) * (1 - p))
    # PyTorch's order and float rounding: b = (m - 1) * (alpha a) + alpha a p;  noise = m * a
    shift = (m - 1) * dt(ALPHA_DROPOUT_ALPHA * a) + dt(ALPHA_DROPOUT_ALPHA * a * p)
    return _scaled(input, AlphaDropout, inplace, noise=m * dt(a), shift=shift)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1 - p) (training only).

    >>> import striate as st, striate.nn.functional as F
    >>> _ = st.manual_seed(0)
    >>> y = F.dropout(st.ones(1000), p=0.5)
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    """
    p = _check_p(p, "dropout")
    if not training:
        return input
    if input.dtype.kind != "f":
        raise TypeError(f"dropout: input must be floating point, got {input.dtype}")
    if p == 0.0:
        return input if inplace else clone(input)
    return _apply(input, p, input.shape, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels: each (n, c) feature map is dropped with probability p.

    Takes (N, C, H, W); a 3-D input is read as (N, C, L) as PyTorch does (channel-wise
    1-D dropout, one draw per (n, c)).
    """
    p = _check_p(p, "dropout2d")
    if input.ndim not in (3, 4):
        raise ValueError(
            f"dropout2d: expected a 4-D (N, C, H, W) or 3-D (N, C, L) input, got shape {input.shape}; "
            "use F.dropout for element-wise dropout"
        )
    if not training:
        return input
    if input.dtype.kind != "f":
        raise TypeError(f"dropout2d: input must be floating point, got {input.dtype}")
    if p == 0.0:
        return input if inplace else clone(input)
    return _apply(input, p, input.shape[:2] + (1,) * (input.ndim - 2), inplace)

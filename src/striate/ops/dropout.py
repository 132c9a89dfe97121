"""Dropout (seed 004): during training, drop each unit with probability p.

Inverted dropout: kept units are scaled by 1/(1 - p) at training time, so the expected
activation is unchanged and evaluation is the identity (no rescaling at test time):

    y = x * m / (1 - p),   m ~ Bernoulli(1 - p);      dL/dx = dL/dy * m / (1 - p)

The mask is drawn as PyTorch draws it on the CPU (a float64 uniform < 1 - p per element, from
the generator `st.manual_seed(n)` seeds), so after the same seed the mask is PyTorch's; the
backward reuses the same mask. dropout2d drops whole channels (feature
maps), one draw per (n, c).
"""

from __future__ import annotations

import numpy as np

from striate import sampling
from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.shape import clone


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


def _apply(x: Tensor, p: float, mask_shape: tuple[int, ...]) -> Tensor:
    if p == 1.0:
        noise = np.zeros(mask_shape, x.dtype)  # everything dropped; 1/(1-p) would be inf
    else:
        keep = sampling.bernoulli(mask_shape, 1.0 - p)
        noise = keep.astype(x.dtype) * (x.dtype.type(1) / x.dtype.type(1.0 - p))  # PyTorch's div_ by a scalar
    return Dropout.apply(x, noise=noise)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
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
        return clone(input)
    return _apply(input, p, input.shape)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
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
        return clone(input)
    return _apply(input, p, input.shape[:2] + (1,) * (input.ndim - 2))

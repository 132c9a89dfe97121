"""Dropout layers (Srivastava et al. 2014): in training, zero each unit with probability p and
scale the survivors by 1 / (1 - p) ("inverted dropout"), so nothing changes at test time.
`model.eval()` turns them into the identity."""

from __future__ import annotations

import striate.nn.functional as F
from striate.autograd.tensor import Tensor
from striate.nn.module import Module


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """y = x * m / (1 - p) with m_i ~ Bernoulli(1 - p) per element, in training mode."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Drops whole channels: m ~ Bernoulli(1 - p) per (sample, channel) of an (N, C, H, W) input."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Alpha dropout for SELU networks: dropped units take SELU's negative saturation and an affine
    map keeps zero mean and unit variance (`F.alpha_dropout`), in training mode."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.alpha_dropout(input, self.p, self.training, self.inplace)

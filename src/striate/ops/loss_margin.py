"""Margin losses on pairs: `margin_ranking_loss` and `cosine_embedding_loss`, written as PyTorch
writes them (compositions of graph ops, so their gradients are those ops' local gradients):

    margin_ranking(x1, x2, y)    = max(0, -y (x1 - x2) + margin)
    cosine_embedding(x1, x2, y)  = 1 - cos(x1, x2)               where y = 1
                                 = max(0, cos(x1, x2) - margin)   where y = -1
    cos(x1, x2) = sum(x1 x2) / sqrt((sum(x1^2) + 1e-12) (sum(x2^2) + 1e-12))   (over dim 1, or 0 for 1-D)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor
from striate.ops.elementwise import clamp, sqrt, where
from striate.ops.loss import _check_reduction
from striate.ops.loss_regression import legacy_reduction
from striate.ops.reduce import sum as _sum


def _reduced(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return _sum(loss) if reduction == "sum" else loss.mean()


def _target(target: Any, like: Tensor) -> Tensor:
    return target if isinstance(target, Tensor) else Tensor(target, dtype=like.dtype)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin): x1 should rank above x2 where y = 1, below where y = -1;
    `torch.nn.functional.margin_ranking_loss`."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = _target(target, input1)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise ValueError(f"margin_ranking_loss: all inputs should have the same number of dimensions, got "
                         f"{input1.ndim}, {input2.ndim} and {target.ndim}")
    return _reduced(clamp(-target * (input1 - input2) + margin, min=0), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) for similar pairs (y = 1), max(0, cos - margin) for dissimilar ones (y = -1);
    `torch.nn.functional.cosine_embedding_loss`."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = _target(target, input1)
    if input1.shape != input2.shape or input1.ndim not in (1, 2) or target.ndim != input1.ndim - 1:
        raise ValueError(
            "cosine_embedding_loss: expected two (N, D) inputs (or two (D,)) of the same shape and a (N,) "
            f"target (or a scalar), got {tuple(input1.shape)}, {tuple(input2.shape)} and "
            f"{tuple(target.shape)}"
        )
    dim = input1.ndim - 1
    eps = 1e-12  # PyTorch's EPSILON
    prod = _sum(input1 * input2, dim)
    denom = sqrt((_sum(input1 * input1, dim) + eps) * (_sum(input2 * input2, dim) + eps))
    cos = prod / denom
    zeros = Tensor(np.zeros(cos.shape, cos.dtype), dtype=None)
    y = target.array
    loss = where(y == 1, 1 - cos, zeros) + where(y == -1, clamp(cos - margin, min=0), zeros)
    return _reduced(loss, reduction)

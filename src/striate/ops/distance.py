"""Similarities and distances between paired vectors: `F.cosine_similarity`, `F.pairwise_distance`.

cosine similarity along `dim`, with PyTorch's eps rule (each norm floored at eps, separately):

    cos(x1, x2) = sum_k (x1_k / max(||x1||, eps)) (x2_k / max(||x2||, eps))

PyTorch floors the norms in place under no_grad, so the floor is invisible to the gradient:
d cos / d x1 = x2 / (n1' n2') - cos * x1 / (n1' n1), with n' the floored norm and n the true one
(the x1 / n1 factor is the norm's own gradient, 0 where n1 = 0). striate composes the same graph:
vector norms, one `FlooredNorm` node (forward max(n, eps), backward the identity), divisions,
a product and a sum.

pairwise distance: the p-norm of x1 - x2 + eps over the last dimension (eps keeps the
gradient of the 2-norm finite when x1 == x2),

    d(x1, x2) = ||x1 - x2 + eps||_p          d d / d x1 = -d d / d x2 = the p-norm's gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.vector_norm import vector_norm


class FlooredNorm(Function):
    """y = max(n, eps); dy/dn = 1 (PyTorch's `clamp_min_` on a clone of the norm under no_grad)."""

    def forward(self, n, *, eps):
        return np.maximum(n, n.dtype.type(eps))

    def backward(self, g):
        return (g,)


def _float_pair(x1: Any, x2: Any, op: str) -> tuple[Tensor, Tensor]:
    for name, t in (("x1", x1), ("x2", x2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a striate Tensor, got {type(t).__name__}")
    if x1.dtype.kind != "f" or x2.dtype.kind != "f":
        dtype = np.result_type(x1.dtype, x2.dtype)
        if dtype.kind != "f":  # integer inputs compute in the default float dtype, as PyTorch
            dtype = np.dtype(np.float32)
        x1, x2 = x1.type(dtype), x2.type(dtype)
    elif x1.dtype != x2.dtype:
        raise TypeError(f"{op}: x1 ({x1.dtype}) and x2 ({x2.dtype}) must have the same dtype; convert "
                        "one with .float() or .double()")
    try:
        np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise ValueError(f"{op}: the shapes of x1 {tuple(x1.shape)} and x2 {tuple(x2.shape)} do not "
                         "broadcast together") from None
    return x1, x2


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between x1 and x2 along `dim` (after broadcasting), in [-1, 1].

    >>> import striate as st, striate.nn.functional as F
    >>> F.cosine_similarity(st.tensor([[1., 0.]]), st.tensor([[1., 1.]])).tolist()  # doctest: +ELLIPSIS
    [0.707106...]
    """
    x1, x2 = _float_pair(x1, x2, "cosine_similarity")
    shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    ndim = max(len(shape), 1)
    if not -ndim <= dim < ndim:
        raise IndexError(f"cosine_similarity: dim {dim} is out of range for inputs of {len(shape)} "
                         f"dimension(s) (shapes {tuple(x1.shape)} and {tuple(x2.shape)})")
    if tuple(x1.shape) != shape:
        x1 = x1.expand(*shape)
    if tuple(x2.shape) != shape:
        x2 = x2.expand(*shape)
    n1 = FlooredNorm.apply(vector_norm(x1, 2, dim=dim, keepdim=True), eps=eps)
    n2 = FlooredNorm.apply(vector_norm(x2, 2, dim=dim, keepdim=True), eps=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dimension (of the broadcast shape), per row.

    >>> import striate as st, striate.nn.functional as F
    >>> F.pairwise_distance(st.tensor([[0., 0.]]), st.tensor([[3., 4.]]), eps=0.0).tolist()
    [5.0]
    """
    x1, x2 = _float_pair(x1, x2, "pairwise_distance")
    if max(x1.ndim, x2.ndim) == 0:
        raise ValueError("pairwise_distance: x1 and x2 must have at least one dimension (vectors or "
                         "batches of vectors), got two scalars")
    return vector_norm(x1 - x2 + eps, p, dim=-1, keepdim=keepdim)

"""Matrix products: `@` and the fully connected layer `linear`.

For Z = X W:  dL/dX = dL/dZ W^T  and  dL/dW = X^T dL/dZ.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import Function, unbroadcast
from striate.autograd.tensor import Tensor
from striate.kernels.gemm import gemm
from striate.ops import fusion
from striate.ops.elementwise import as_tensor


class MatMul(Function):
    """Z = X @ Y with NumPy's batching rules (1-D operands are promoted, then squeezed)."""

    saves_inputs = (0, 1)
    saved_for = {0: (1,), 1: (0,)}  # input i is read only for these inputs' gradients

    def forward(self, x, y):
        self.x, self.y = x, y
        return x @ y

    def backward(self, g):
        nx, ny = self.needs_input_grad
        x, y = self.x, self.y
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        # re-insert the axes NumPy squeezed out of the result (y's last, then x's second-to-last)
        g2 = g
        if y.ndim == 1:
            g2 = g2[..., None]
        if x.ndim == 1:
            g2 = g2[..., None, :]
        gx = gy = None
        if nx:
            gx = unbroadcast(g2 @ np.swapaxes(y2, -1, -2), x2.shape).reshape(x.shape)
        if ny:
            gy = unbroadcast(np.swapaxes(x2, -1, -2) @ g2, y2.shape).reshape(y.shape)
        return gx, gy


def matmul(x: Tensor, y: Any) -> Tensor:
    """Matrix product with broadcasting over batch dimensions, like `torch.matmul`."""
    if not isinstance(y, Tensor):
        y = as_tensor(y, x)
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError("matmul: both operands need at least one dimension (use * for scalars)")
    k_x = x.shape[-1]
    k_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if k_x != k_y:
        raise ValueError(
            f"matmul: shapes {x.shape} and {y.shape} do not fit: the last dimension of the "
            f"first ({k_x}) must equal the {'first' if y.ndim == 1 else 'second-to-last'} "
            f"dimension of the second ({k_y})"
        )
    try:
        return MatMul.apply(x, y)
    except ValueError:
        raise ValueError(
            f"matmul: batch dimensions of {x.shape} and {y.shape} cannot be broadcast"
        ) from None


class Linear(Function):
    """y = x W^T + b (a fully connected layer; x is (..., in), W is (out, in)).

    dL/dx = g W,  dL/dW = g^T x (summed over every leading dimension),  dL/db = sum g.
    """

    saves_inputs = (0, 1)
    saved_for = {0: (1,), 1: (0,)}  # input i is read only for these inputs' gradients

    def forward(self, x, w, b=None):
        self.x, self.w = x, w
        # leading dimensions folded into one BLAS product (x @ w.T on a permuted N-D x runs
        # NumPy's non-BLAS loop: ~100x slower on the (T, N, C) sequences of the sEMG models)
        out = gemm(x.reshape(-1, x.shape[-1]), w.T).reshape(*x.shape[:-1], w.shape[0])
        if b is not None:
            out += b
        return out

    def backward(self, g):
        needs = self.needs_input_grad
        x, w = self.x, self.w
        gx = gemm(g.reshape(-1, g.shape[-1]), w).reshape(*g.shape[:-1], w.shape[1]) if needs[0] else None
        gw = gb = None
        if needs[1] or (len(needs) > 2 and needs[2]):
            g2 = g.reshape(-1, g.shape[-1])
            if needs[1]:
                gw = gemm(g2.T, x.reshape(-1, x.shape[-1]))
            if len(needs) > 2 and needs[2]:
                gb = g2.sum(axis=0)
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """Apply y = x W^T + b. `weight` is (out_features, in_features), as in PyTorch."""
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got {weight.shape}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {input.shape} does not fit weight {weight.shape}: the "
            f"input's last dimension must be in_features={weight.shape[1]}"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias shape {bias.shape} must be ({weight.shape[0]},)")
    # nn.Sequential's Linear -> ReLU as one node (`striate.ops.fusion`)
    cls = fusion.relu_fused(Linear) if fusion.take_relu() else Linear
    return cls.apply(input, weight) if bias is None else cls.apply(input, weight, bias)

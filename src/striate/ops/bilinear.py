"""`F.bilinear`: a bilinear form per output unit, y = x1^T A x2 + b.

    y[n, o] = sum_ij x1[n, i] W[o, i, j] x2[n, j] + b[o]

Every factor enters linearly, so each gradient is the same contraction with dL/dy in its place:

    dL/dx1[n, i] = sum_oj g[n, o] W[o, i, j] x2[n, j]
    dL/dx2[n, j] = sum_oi g[n, o] W[o, i, j] x1[n, i]
    dL/dW[o, i, j] = sum_n g[n, o] x1[n, i] x2[n, j]          dL/db[o] = sum_n g[n, o]

Leading dimensions (*, in1) / (*, in2) are flattened into n and restored.
"""

from __future__ import annotations

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor


class Bilinear(Function):
    """y[n, o] = x1[n] . W[o] x2[n] + b[o], for x1 (N, I), x2 (N, J), W (O, I, J); see the module."""

    saves_inputs = (0, 1, 2)
    saved_for = {0: (1, 2), 1: (0, 2), 2: (0, 1)}

    def forward(self, x1, x2, w, b=None):
        o, i, j = w.shape
        # t[n, o, j] = sum_i x1[n, i] W[o, i, j]: one (N, I) @ (I, O*J) product
        t = (x1 @ w.transpose(1, 0, 2).reshape(i, o * j)).reshape(-1, o, j)
        y = np.matmul(t, x2[:, :, None])[:, :, 0]
        if self.needs_input_grad is not None:
            self.x1, self.x2, self.w = x1, x2, w
        return y if b is None else y + b

    def backward(self, g):
        x1, x2, w, needs = self.x1, self.x2, self.w, self.needs_input_grad
        o, i, j = w.shape
        gx1 = gx2 = gw = gb = None
        if needs[0]:
            # u[n, i, j] would be large: contract o first, (N, O) @ (O, I*J), then j against x2
            gx1 = np.matmul((g @ w.reshape(o, i * j)).reshape(-1, i, j), x2[:, :, None])[:, :, 0]
        if needs[1]:
            gx2 = np.matmul(x1[:, None, :], (g @ w.reshape(o, i * j)).reshape(-1, i, j))[:, 0, :]
        if needs[2]:
            gw = np.einsum("no,ni,nj->oij", g, x1, x2, optimize=True)
        if len(needs) == 4 and needs[3]:
            gb = g.sum(axis=0)
        return (gx1, gx2, gw, gb)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x1^T A x2 + b for x1 (*, in1), x2 (*, in2), weight (out, in1, in2), bias (out,).

    >>> import striate as st, striate.nn.functional as F
    >>> F.bilinear(st.ones(1, 2), st.ones(1, 3), st.ones(4, 2, 3)).shape
    striate.Size([1, 4])
    """
    tensors = {"input1": input1, "input2": input2, "weight": weight}
    if bias is not None:
        tensors["bias"] = bias
    for name, t in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"bilinear: {name} must be a striate Tensor, got {type(t).__name__}")
    if weight.ndim != 3:
        raise ValueError(f"bilinear: weight must be 3-D (out_features, in1_features, in2_features), got "
                         f"shape {tuple(weight.shape)}")
    out, in1, in2 = weight.shape
    if input1.ndim < 1 or input1.shape[:-1] != input2.shape[:-1] or input1.ndim != input2.ndim:
        raise ValueError(f"bilinear: input1 {tuple(input1.shape)} and input2 {tuple(input2.shape)} must "
                         "have the same leading (batch) dimensions")
    if input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise ValueError(f"bilinear: input1's last dimension ({input1.shape[-1]}) and input2's "
                         f"({input2.shape[-1]}) must match the weight's in1_features={in1} and "
                         f"in2_features={in2} (weight shape {tuple(weight.shape)})")
    if bias is not None and tuple(bias.shape) != (out,):
        raise ValueError(f"bilinear: bias must have shape ({out},), got {tuple(bias.shape)}")
    dtypes = {t.dtype for t in tensors.values()}
    if len(dtypes) != 1 or next(iter(dtypes)).kind != "f":
        raise TypeError(f"bilinear: every tensor must have the same floating dtype, got "
                        f"{ {k: str(t.dtype) for k, t in tensors.items()} }; convert with .float()")
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    args = (x1, x2, weight) if bias is None else (x1, x2, weight, bias)
    return Bilinear.apply(*args).reshape(*lead, out)

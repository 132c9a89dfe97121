"""Layer normalization (Ba, Kiros & Hinton 2016): normalize each sample over its last dimensions.

Unlike batch norm there are no batch statistics and no running estimates: for every position
of the leading dimensions, over the D values of `normalized_shape`,

    mu = mean(x),  var = mean((x - mu)^2)  (biased),  x_hat = (x - mu) / sqrt(var + eps)
    y = gamma * x_hat + beta                     (gamma, beta of shape normalized_shape)

so the layer behaves the same in training and evaluation, and for sequences of any length.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor


class LayerNorm(Function):
    """y = x_hat * gamma + beta over the last k dimensions (D values each).

    With g' = dL/dy * gamma and means over the normalized D values:
        dL/dx = invstd * (g' - mean(g') - x_hat * mean(g' * x_hat))
        dL/dgamma = sum over leading dims of dL/dy * x_hat,   dL/dbeta = sum of dL/dy
    """

    def forward(self, x, *affine, k, eps, has_weight):
        axes = tuple(range(x.ndim - k, x.ndim))
        # statistics in float64: a float32 sum over D values would cost digits of parity
        x64 = x.astype(np.float64)
        mean = x64.mean(axis=axes, keepdims=True)
        centred = x64 - mean
        var = np.mean(centred * centred, axis=axes, keepdims=True)
        invstd = 1 / np.sqrt(var + eps)
        x_hat = (centred * invstd).astype(x.dtype)
        weight = affine[0] if has_weight else None
        bias = affine[-1] if len(affine) == 2 or (affine and not has_weight) else None
        y = x_hat if weight is None else x_hat * weight
        if bias is not None:
            y = y + bias
        if self.needs_input_grad is not None:
            self.x_hat, self.invstd, self.weight, self.axes = x_hat, invstd.astype(x.dtype), weight, axes
        return y

    def backward(self, g):
        needs = self.needs_input_grad
        x_hat, axes = self.x_hat, self.axes
        lead = tuple(range(g.ndim - len(axes)))
        grads = []
        if needs[0]:
            gp = g if self.weight is None else g * self.weight
            gx = gp - gp.mean(axis=axes, keepdims=True) - x_hat * (gp * x_hat).mean(axis=axes, keepdims=True)
            grads.append(gx * self.invstd)
        else:
            grads.append(None)
        if self.weight is not None:
            grads.append((g * x_hat).sum(axis=lead) if needs[1] else None)
        if len(needs) > len(grads):
            grads.append(g.sum(axis=lead) if needs[-1] else None)
        return tuple(grads)


def _shape_tuple(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the trailing `normalized_shape` dimensions, as `torch.nn.functional.layer_norm`."""
    if not isinstance(input, Tensor):
        raise TypeError(f"layer_norm: input must be a striate Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"layer_norm: input must be floating point, got {input.dtype}")
    shape = _shape_tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise ValueError(
            f"layer_norm: normalized_shape {list(shape)} must equal the last dimensions of the input "
            f"(shape {tuple(input.shape)}); pass e.g. normalized_shape={list(input.shape[-1:])}"
        )
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != shape:
            raise ValueError(f"layer_norm: {name} must have shape {shape} (normalized_shape), "
                             f"got {tuple(t.shape)}")
        if t is not None and t.dtype != input.dtype:
            raise TypeError(f"layer_norm: {name} dtype {t.dtype} differs from input dtype {input.dtype}")
    affine = [t for t in (weight, bias) if t is not None]
    return LayerNorm.apply(input, *affine, k=k, eps=float(eps), has_weight=weight is not None)

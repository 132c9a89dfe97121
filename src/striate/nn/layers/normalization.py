"""Normalization layers: `BatchNorm1d`, `BatchNorm2d`, `LocalResponseNorm`.

Batch normalization (Ioffe & Szegedy 2015), per channel c over the batch (and spatial) axes:

    x_hat = (x - mu_B) / sqrt(var_B + eps),    y = gamma x_hat + beta

In training mode mu_B and var_B are the batch's statistics (biased variance), and the running
estimates used at test time are updated as

    running = (1 - momentum) running + momentum * batch_stat      (unbiased variance here)

With `momentum=None` the running estimates are the cumulative average over all batches seen
(factor 1 / num_batches_tracked). gamma (`weight`) starts at 1 and beta (`bias`) at 0;
`affine=False` drops both, `bias=False` (keyword) only beta.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import striate.nn.functional as F
from striate.autograd.tensor import Tensor, wrap
from striate.creation import empty
from striate.nn import init
from striate.nn.layers.linear import check_device, check_positive_int
from striate.nn.module import Module
from striate.nn.parameter import Parameter


def register_affine(module: Module, shape: tuple[int, ...], affine: bool, bias: bool, dtype: Any) -> None:
    """The learned scale `weight` and shift `bias` of a normalization layer (shape `shape`), or
    None in their places (registered so, as PyTorch does) without `affine` / `bias`."""
    module.register_parameter("weight", Parameter(empty(*shape, dtype=dtype)) if affine else None)
    module.register_parameter("bias", Parameter(empty(*shape, dtype=dtype)) if affine and bias else None)


def reset_affine(module: Module) -> None:
    """weight = 1, bias = 0: the normalization starts as the identity on normalized values."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _BatchNorm(Module):
    _expected_dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        check_device(device)
        check_positive_int(num_features, "num_features", type(self).__name__)
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1] or None, got {momentum}")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        register_affine(self, (num_features,), affine, bias, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", empty(num_features, dtype=dtype))
            self.register_buffer("running_var", empty(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", wrap(np.zeros((), np.int64), False))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        reset_affine(self)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._expected_dims:
            wanted = " or ".join(f"{d}D" for d in self._expected_dims)
            raise ValueError(f"{type(self).__name__}: expected {wanted} input (got {input.ndim}D input)")
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): input of shape {tuple(input.shape)} has "
                f"{input.shape[1]} channels at dim 1; expected {self.num_features}"
            )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.array)
        # batch statistics in training, or when there are no running estimates to use
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                            self.weight, self.bias, use_batch_stats, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs, per feature/channel C."""

    _expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs, per channel over N, H and W."""

    _expected_dims = (4,)


class LocalResponseNorm(Module):
    """Local response normalization across channels (AlexNet, Krizhevsky et al. 2012):

        b_c = a_c / (k + alpha / n * sum_{c' within n/2 of c} a_{c'}^2)^beta
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        check_positive_int(size, "size", "LocalResponseNorm")
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class LayerNorm(Module):
    """Layer normalization over the last dimensions (`normalized_shape`), as `torch.nn.LayerNorm`.

    Each sample (each time step of a sequence) is normalized by its own mean and biased variance
    over those D values, then scaled by `weight` (ones) and shifted by `bias` (zeros), both of
    shape normalized_shape (`elementwise_affine=False` drops both, `bias=False` only the shift).
    """

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        check_device(device)
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        for n in shape:
            check_positive_int(n, "normalized_shape", "LayerNorm", allow_zero=True)
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        register_affine(self, shape, elementwise_affine, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

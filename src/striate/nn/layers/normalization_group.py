"""`GroupNorm`, `InstanceNorm1d` and `InstanceNorm2d`, as in `torch.nn`.

GroupNorm (Wu & He 2018) normalizes each sample over groups of C/G channels (formulas in
`striate.ops.norm_group`); it has no running statistics and behaves the same in training and
evaluation. gamma (`weight`) starts at 1, beta (`bias`) at 0, one per channel.

InstanceNorm normalizes each channel of each sample over its positions (style transfer's
normalization). As in PyTorch, `affine` and `track_running_stats` default to False; with
`track_running_stats=True` the running estimates are updated in training and used in evaluation.
"""

from __future__ import annotations

import warnings
from typing import Any

import striate.nn.functional as F
from striate.autograd.tensor import Tensor
from striate.nn.layers.linear import check_device, check_positive_int
from striate.nn.layers.normalization import _BatchNorm, register_affine, reset_affine
from striate.nn.module import Module


class GroupNorm(Module):
    """Group normalization: `num_channels` channels in `num_groups` groups, per sample."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        check_device(device)
        check_positive_int(num_groups, "num_groups", "GroupNorm")
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        register_affine(self, (num_channels,), affine, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_BatchNorm):
    _no_batch_dims = 0  # the number of dimensions of an input without the batch axis

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        dims = (self._no_batch_dims, self._no_batch_dims + 1)
        if input.ndim not in dims:
            raise ValueError(f"{type(self).__name__}: expected {dims[0]}D or {dims[1]}D input (got "
                             f"{input.ndim}D input)")
        channels = input.shape[input.ndim - self._no_batch_dims]
        if channels != self.num_features:
            dim = input.ndim - self._no_batch_dims
            if self.affine:
                raise ValueError(f"{type(self).__name__}: expected input's size at dim={dim} to match "
                                 f"num_features ({self.num_features}), but got: {channels}.")
            warnings.warn(f"input's size at dim={dim} does not match num_features. You can silence this "
                          "warning by not passing in num_features, which is not used because affine=False",
                          stacklevel=3)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input_dim(input)
        unbatched = input.ndim == self._no_batch_dims
        x = input.unsqueeze(0) if unbatched else input
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              self.momentum if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or (C, L) inputs."""

    _no_batch_dims = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or (C, H, W) inputs."""

    _no_batch_dims = 3

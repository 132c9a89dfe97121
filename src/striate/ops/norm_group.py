"""Group normalization (Wu & He 2018) and instance normalization (Ulyanov et al. 2016).

Group norm splits the C channels of each sample into G groups of C/G channels and normalizes
each group over its channels and positions, so it needs no batch statistics:

    mu_ng = mean(x_ng),  var_ng = mean((x_ng - mu_ng)^2)  (biased),
    x_hat = (x - mu_ng) / sqrt(var_ng + eps),   y_c = gamma_c x_hat_c + beta_c

G = 1 is layer norm over (C, H, W); G = C is instance norm (each channel of each sample alone).
Instance norm is computed as PyTorch computes it: batch norm of the input viewed as one sample
with N*C channels (so running statistics, when tracked, follow batch norm's rule and are then
averaged over the batch).
"""

from __future__ import annotations

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.norm import batch_norm
from striate.ops.shape import repeat, reshape


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _group_size(shape: tuple[int, ...], groups: int) -> int:
    """C/G * H * W: the values of one group (also for an empty batch)."""
    return int(np.prod(shape[1:], dtype=np.int64)) // groups


class GroupNorm(Function):
    """y = x_hat * gamma_c + beta_c with x_hat normalized per (sample, group).

    With g' = dL/dy * gamma and means over the D = C/G * H * W values of a group:
        dL/dx = invstd * (g' - mean(g') - x_hat * mean(g' * x_hat))
        dL/dgamma_c = sum over n and positions of dL/dy * x_hat,   dL/dbeta_c = sum of dL/dy
    """

    def forward(self, x, *affine, groups, eps, has_weight):
        n = x.shape[0]
        xg = x.reshape(n, groups, _group_size(x.shape, groups))
        # statistics in float64: a float32 sum over a group would cost digits of parity
        x64 = xg.astype(np.float64)
        mean = x64.mean(axis=2, keepdims=True)
        centred = x64 - mean
        invstd = 1 / np.sqrt(np.mean(centred * centred, axis=2, keepdims=True) + eps)
        x_hat = (centred * invstd).astype(x.dtype).reshape(x.shape)
        weight = affine[0] if has_weight else None
        bias = affine[-1] if len(affine) == 2 or (affine and not has_weight) else None
        y = x_hat if weight is None else x_hat * _per_channel(weight, x.ndim)
        if bias is not None:
            y = y + _per_channel(bias, x.ndim)
        if self.needs_input_grad is not None:
            self.x_hat, self.invstd, self.groups = x_hat, invstd.astype(x.dtype), groups
            self.weight = None if weight is None else weight.copy()
        return y

    def backward(self, g):
        needs = self.needs_input_grad
        x_hat, n = self.x_hat, g.shape[0]
        grads = [None]
        if needs[0]:
            gp = g if self.weight is None else g * _per_channel(self.weight, g.ndim)
            size = _group_size(g.shape, self.groups)
            gp, xh = gp.reshape(n, self.groups, size), x_hat.reshape(n, self.groups, size)
            gx = gp - gp.mean(axis=2, keepdims=True) - xh * (gp * xh).mean(axis=2, keepdims=True)
            grads[0] = (gx * self.invstd).reshape(g.shape)
        axes = (0,) + tuple(range(2, g.ndim))
        if self.weight is not None:
            grads.append((g * x_hat).sum(axis=axes) if needs[1] else None)
        if len(needs) > len(grads):
            grads.append(g.sum(axis=axes) if needs[-1] else None)
        return tuple(grads)


def _check_affine(t: Tensor | None, name: str, c: int, input: Tensor, op: str) -> None:  # noqa: A002
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a striate Tensor or None, got {type(t).__name__}")
    if tuple(t.shape) != (c,):
        raise ValueError(f"{op}: {name} must have shape ({c},), one value per channel of the input "
                         f"{tuple(input.shape)}, got {tuple(t.shape)}")
    if t.dtype != input.dtype:
        raise TypeError(f"{op}: {name} dtype {t.dtype} differs from input dtype {input.dtype}")


def _check_input(input: Tensor, op: str) -> None:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a striate Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input of at least 2 dimensions (N, C, ...), got shape "
                         f"{tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got {input.dtype}; use .float() first")


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Group normalization of an (N, C, ...) input over `num_groups` groups of channels;
    `torch.nn.functional.group_norm`."""
    _check_input(input, "group_norm")
    c = input.shape[1]
    if int(num_groups) < 1 or c % int(num_groups):
        raise ValueError(
            f"group_norm: the number of channels ({c}, input shape {tuple(input.shape)}) must be divisible "
            f"by num_groups ({num_groups})"
        )
    for t, name in ((weight, "weight"), (bias, "bias")):
        _check_affine(t, name, c, input, "group_norm")
    affine = [t for t in (weight, bias) if t is not None]
    return GroupNorm.apply(input, *affine, groups=int(num_groups), eps=float(eps),
                           has_weight=weight is not None)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,  # noqa: A002
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Instance normalization: each channel of each sample normalized over its positions;
    `torch.nn.functional.instance_norm`. With `use_input_stats=False` the running statistics are
    used instead; with running statistics given and `use_input_stats=True` they are updated in
    place (batch norm's rule, averaged over the samples), as PyTorch does."""
    _check_input(input, "instance_norm")
    n, c = input.shape[:2]
    for t, name in ((weight, "weight"), (bias, "bias"), (running_mean, "running_mean"),
                    (running_var, "running_var")):
        if name.startswith("running") and t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"instance_norm: {name} must have shape ({c},), got {tuple(t.shape)}")
        if not name.startswith("running"):
            _check_affine(t, name, c, input, "instance_norm")
    spatial = input.numel() // max(n * c, 1)
    if use_input_stats and spatial <= 1 and input.numel():
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, got input "
                         f"size {list(input.shape)}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
    if input.numel() == 0:
        return input * 1 if weight is None else input * reshape(weight, (1, c) + (1,) * (input.ndim - 2))
    stats = [None if r is None else Tensor(np.tile(r.array, n), dtype=None)
             for r in (running_mean, running_var)]
    folded = reshape(input, (1, n * c) + tuple(input.shape[2:]))
    tiled = [None if t is None else repeat(t, (n,)) for t in (weight, bias)]
    out = batch_norm(folded, stats[0], stats[1], tiled[0], tiled[1], use_input_stats, momentum, eps)
    if use_input_stats:
        for running, tiled_stat in zip((running_mean, running_var), stats):
            if running is not None:
                running._set(tiled_stat.array.reshape(n, c).mean(axis=0).astype(running.dtype))
    return reshape(out, tuple(input.shape))

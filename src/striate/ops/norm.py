"""Normalization layers: batch normalization and AlexNet's local response normalization.

Batch norm (seed 004) normalizes each channel over the batch (and spatial positions):

    x_hat = (x - mu_B) / sqrt(var_B + eps);      y = gamma * x_hat + beta

In training mu_B, var_B are the batch statistics (biased variance) and the running estimates
move towards them: running = (1 - momentum) * running + momentum * stat, with the UNBIASED
variance for running_var (as PyTorch). In evaluation the running estimates replace them.

Local response normalization (AlexNet) divides by a power of the local energy across channels:

    y_c = x_c / (k + alpha/n * sum_{c' in window(c)} x_c'^2)^beta,   window = n channels
"""

from __future__ import annotations

import numpy as np

from striate import kernels
from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops import fusion


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) vector shaped (1, C, 1, ...) to broadcast over an ndim input."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _channels(a: np.ndarray) -> np.ndarray:
    """An (N, C, ...) array as (N, C, L): the layout batch norm's kernels walk."""
    return a.reshape(a.shape[0], a.shape[1], int(np.prod(a.shape[2:], dtype=np.int64)))


class BatchNorm(Function):
    """y = (x - mean) * invstd * gamma + beta.

    Backward in training (mean and invstd depend on x, M = values per channel):
        dL/dx = invstd * (g' - mean(g') - x_hat * mean(g' * x_hat)),  g' = dL/dy * gamma
    in evaluation (constants): dL/dx = dL/dy * gamma * invstd.
    Always dL/dgamma = sum(dL/dy * x_hat), dL/dbeta = sum(dL/dy).

    Each is one or two passes of a per-channel kernel (`striate.kernels.channel_*`, split over
    channels between threads). x_hat is not kept: with k = gamma * invstd the training dL/dx is

        dL/dx = k * g + slope * (x - mean) + shift,   slope = -k * invstd * mean(g * x_hat),
                                                      shift = -k * mean(g)

    so the backward reads g and the saved input once for the two sums and once for dL/dx.
    """

    saves_inputs = (0,)
    relu = False  # fused with the ReLU after it (`ops.fusion`): max(0, y) in the same passes

    def forward(self, x, *affine, running_mean, running_var, training, momentum, eps, has_weight):
        """Training: the batch's statistics (and running = (1 - m) running + m stat, in place);
        evaluation: the running ones."""
        if training:
            mean, var = self._batch_statistics(x, running_mean, running_var, momentum)
        else:
            mean, var = running_mean.array.astype(x.dtype), running_var.array.astype(x.dtype)
        invstd = (1 / np.sqrt(var + x.dtype.type(eps))).astype(x.dtype)
        return self._normalize(x, affine, mean, invstd, training, has_weight)

    def _normalize(self, x, affine, mean, invstd, training, has_weight):
        """y = (x - mean) * invstd * gamma + beta with the statistics given (kept for backward)."""
        weight = affine[0] if has_weight else None
        bias = affine[-1] if len(affine) == 2 or (affine and not has_weight) else None
        scale = invstd if weight is None else invstd * weight
        shift = np.zeros_like(invstd) if bias is None else bias
        y = kernels.channel_affine(_channels(x), mean, scale, shift, self.relu).reshape(x.shape)
        if self.needs_input_grad is not None:
            self.x, self.mean, self.invstd, self.weight, self.training = x, mean, invstd, weight, training
            if self.relu:
                self.relu_out = y
        return y

    @staticmethod
    def _batch_statistics(x, running_mean, running_var, momentum) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and biased variance (float64 sums); the running estimates move towards
        them, running_var towards the UNBIASED variance (as PyTorch)."""
        count = x.size // x.shape[1]
        mean64, var64 = kernels.channel_moments(_channels(x))
        mean, var = mean64.astype(x.dtype), var64.astype(x.dtype)
        update_running_stats(running_mean, running_var, mean, var, count, momentum)
        return mean, var

    def backward(self, g):
        needs = self.needs_input_grad
        k = self.invstd if self.weight is None else self.invstd * self.weight
        want_gamma = self.weight is not None and needs[1]
        want_beta = len(needs) > 1 + (self.weight is not None) and needs[-1]
        train_gx = needs[0] and self.training
        if self.relu:  # g is dL/d relu(y): dL/dy is g where relu(y) > 0 (masking inside the two
            g = fusion.relu_mask(g, self.relu_out)  # passes below measured 1.5-2x slower per pass)
        g3, x3 = _channels(g), _channels(self.x)
        sum_g = g_xhat = None
        if train_gx or want_gamma or want_beta:
            sum_g, sum_gc = kernels.channel_grad_sums(g3, x3, self.mean.astype(np.float64))
            g_xhat = sum_gc * self.invstd  # sum(g * x_hat) = invstd * sum(g * (x - mean))
        gx = None
        if train_gx:
            inv_m = 1 / (g.size // g.shape[1])
            slope, shift = (-k * self.invstd * (g_xhat * inv_m)), -k * (sum_g * inv_m)
            dtype = g.dtype
            gx = kernels.channel_affine_grad(g3, x3, self.mean, k, slope.astype(dtype), shift.astype(dtype))
            gx = gx.reshape(g.shape)
        elif needs[0]:  # evaluation: the statistics are constants
            gx = g * _per_channel(k, g.ndim)
        grads = [gx]
        if self.weight is not None:
            grads.append(g_xhat.astype(g.dtype) if want_gamma else None)
        if len(needs) > len(grads):
            grads.append(sum_g.astype(g.dtype) if want_beta else None)
        return tuple(grads)


def update_running_stats(running_mean: Tensor | None, running_var: Tensor | None, mean: np.ndarray,
                         var: np.ndarray, count: int, momentum: float) -> None:
    """running = (1 - momentum) running + momentum stat, in place; the variance made unbiased
    with the `count` values per channel the batch statistics came from."""
    m = mean.dtype.type(momentum)
    if running_mean is not None:
        running_mean._set(m * mean.astype(running_mean.dtype) + (1 - m) * running_mean.array)
    if running_var is not None:
        unbiased = var * var.dtype.type(count / (count - 1))
        running_var._set(m * unbiased.astype(running_var.dtype) + (1 - m) * running_var.array)


def _check_vector(t: Tensor | None, name: str, C: int, x: Tensor) -> None:
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"batch_norm: {name} must be a striate Tensor or None, got {type(t).__name__}")
    if t.shape != (C,):
        raise ValueError(f"batch_norm: {name} must have shape ({C},) for an input with {C} channels "
                         f"(shape {x.shape}), got {t.shape}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization over channel dimension 1 of an (N, C), (N, C, L) or (N, C, H, W) input.

    training=True: normalize with the batch mean and biased variance, and update running_mean /
    running_var IN PLACE (when given): running = (1 - momentum) * running + momentum * stat,
    running_var using the unbiased variance (sum of squares / (M - 1)).
    training=False: normalize with running_mean and running_var.
    momentum=None (cumulative average) is nn.BatchNorm's business: it passes 1/num_batches.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"batch_norm: input must be a striate Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least 2 dimensions (N, C, ...), got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"batch_norm: input must be floating point, got {input.dtype}")
    C = input.shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"),
                    (bias, "bias")):
        _check_vector(t, name, C, input)
    if momentum is None:
        raise TypeError(
            "batch_norm: momentum must be a float; momentum=None (a cumulative moving average) is handled "
            "by nn.BatchNorm, which passes momentum = 1 / num_batches_tracked"
        )
    x = input.array
    if training:
        if eps <= 0:
            raise ValueError(f"batch_norm: eps must be positive during training, got {eps}")
        count = x.size // C if C else 0
        if count <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input size "
                f"{tuple(input.shape)}; use a batch larger than 1 or call .eval()"
            )
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation (training=False) needs running_mean and running_var")
        if eps < 0:
            raise ValueError(f"batch_norm: eps must be non-negative, got {eps}")
    affine = [t for t in (weight, bias) if t is not None]
    for t in affine:
        if t.dtype != input.dtype:
            raise TypeError(f"batch_norm: weight/bias dtype {t.dtype} differs from input dtype {input.dtype}")
    # nn.Sequential's BatchNorm -> ReLU as one node (`striate.ops.fusion`)
    cls = fusion.relu_fused(BatchNorm) if fusion.take_relu() else BatchNorm
    return cls.apply(input, *affine, running_mean=running_mean, running_var=running_var,
                           training=training, momentum=momentum, eps=eps, has_weight=weight is not None)


def _channel_window_sum(a: np.ndarray, before: int, after: int) -> np.ndarray:
    """s[:, c] = sum of a[:, c - before : c + after + 1] (zero outside the channels)."""
    C = a.shape[1]
    widths = [(0, 0)] * a.ndim
    widths[1] = (before, after)
    padded = np.pad(a, widths)
    total = padded[:, 0:C].copy()
    for j in range(1, before + after + 1):
        total += padded[:, j:j + C]
    return total


class LocalResponseNorm(Function):
    """y_c = x_c / B_c^beta,  B_c = k + (alpha/n) * sum_{c' = c - n//2}^{c + (n-1)//2} x_c'^2.

    dL/dx_j = g_j / B_j^beta - (2 alpha beta / n) x_j * sum_{c: j in window(c)} g_c y_c / B_c.
    """

    saves_inputs = (0,)

    def forward(self, x, size, alpha, beta, k):
        dt = x.dtype.type
        energy = _channel_window_sum(x * x, size // 2, (size - 1) // 2) / dt(size)
        base = energy * dt(alpha) + dt(k)
        denom = base ** dt(beta)
        y = x / denom
        self.x, self.base, self.denom, self.y = x, base, denom, y
        self.options = (size, alpha, beta)
        return y

    def backward(self, g):
        size, alpha, beta = self.options
        dt = g.dtype.type
        t = g * self.y / self.base
        # the windows that contain channel j are those of channels j - (n-1)//2 .. j + n//2
        spread = _channel_window_sum(t, (size - 1) // 2, size // 2)
        return (g / self.denom - dt(2 * alpha * beta / size) * self.x * spread,)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """AlexNet's local response normalization across `size` neighbouring channels (dimension 1).

    y_c = x_c / (k + alpha/size * sum of x^2 over channels c - size//2 .. c + (size-1)//2)^beta,
    zero-padded at the ends (exactly torch.nn.functional.local_response_norm).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"local_response_norm: input must be a striate Tensor, got {type(input).__name__}")
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: needs 3 or more dimensions (N, C, ...), got {input.shape}")
    if int(size) < 1:
        raise ValueError(f"local_response_norm: size must be a positive number of channels, got {size}")
    if input.numel() == 0:
        return input
    return LocalResponseNorm.apply(input, size=int(size), alpha=float(alpha), beta=float(beta), k=float(k))

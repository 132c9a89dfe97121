"""Synchronised batch normalization: the batch statistics of the whole global batch.

By default each rank's batch norm normalizes with its own piece of the batch (R pieces of n/R:
"ghost" batches, as PyTorch's DDP). `SyncBatchNorm` sums over the ranks instead, so R ranks
compute what one process does on the whole batch. Per channel, M = values over all ranks:

    mean = (1/M) sum_r sum x,        var = (1/M) sum_r sum (x - mean)^2     (two all-reduces)

and the backward, with g = dL/dy * gamma on each rank and the sums over all ranks,

    dL/dx = invstd * (g - (1/M) sum g - x_hat (1/M) sum g x_hat)            (one all-reduce)

while dL/dgamma = sum(dL/dy x_hat) and dL/dbeta = sum(dL/dy) stay per rank: the gradient
all-reduce of data parallelism sums them with every other gradient. The running estimates
move with the global statistics (unbiased variance with M), identical on every rank.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate import kernels
from striate.autograd.tensor import Tensor
from striate.distributed.comm import Communicator, from_environment
from striate.nn.layers.normalization import BatchNorm1d, BatchNorm2d, _BatchNorm
from striate.ops.norm import BatchNorm, _channels, update_running_stats


class _SyncBatchNormFunction(BatchNorm):
    """`BatchNorm` whose training backward sums the two per-channel reductions over ranks."""

    def forward(self, x, *affine, mean, invstd, training, has_weight, comm, count):
        self.comm, self.count = comm, count
        return self._normalize(x, affine, mean, invstd, training, has_weight)

    def backward(self, g):
        if not self.training:
            return super().backward(g)
        needs = self.needs_input_grad
        k = self.invstd if self.weight is None else self.invstd * self.weight
        g3, x3 = _channels(g), _channels(self.x)
        sum_g, sum_gc = kernels.channel_grad_sums(g3, x3, self.mean.astype(np.float64))
        local_g_xhat = sum_gc * self.invstd
        sums = self.comm.allreduce_(np.concatenate([sum_g, sum_gc]))
        total_g, total_gc = sums[:len(sum_g)], sums[len(sum_g):]
        inv_m = 1 / self.count
        gx = None
        if needs[0]:
            slope = -k * self.invstd * (total_gc * self.invstd * inv_m)
            shift = -k * (total_g * inv_m)
            dtype = g.dtype
            gx = kernels.channel_affine_grad(g3, x3, self.mean, k, slope.astype(dtype), shift.astype(dtype))
            gx = gx.reshape(g.shape)
        grads = [gx]
        if self.weight is not None:
            grads.append(local_g_xhat.astype(g.dtype) if needs[1] else None)
        if len(needs) > len(grads):
            grads.append(sum_g.astype(g.dtype) if needs[-1] else None)
        return tuple(grads)


def sync_batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                    weight: Tensor | None, bias: Tensor | None, momentum: float, eps: float,
                    comm: Communicator) -> Tensor:
    """Training-mode batch norm with the statistics of all ranks' inputs together."""
    x = input._data
    x3 = _channels(x)
    local = np.concatenate([[x3.shape[0] * x3.shape[2]], x3.sum(axis=(0, 2), dtype=np.float64)])
    totals = comm.allreduce_(local)
    count = int(totals[0])
    if count <= 1:
        raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel over all ranks when "
                         f"training, got {count}; use a larger batch or call .eval()")
    mean64 = totals[1:] / count
    var64 = comm.allreduce_(np.square(x3 - mean64[:, None]).sum(axis=(0, 2)).astype(np.float64)) / count
    mean, var = mean64.astype(x.dtype), var64.astype(x.dtype)
    update_running_stats(running_mean, running_var, mean, var, count, momentum)
    invstd = (1 / np.sqrt(var + x.dtype.type(eps))).astype(x.dtype)
    affine = [t for t in (weight, bias) if t is not None]
    if any(t.dtype != input.dtype for t in affine):
        raise TypeError(f"SyncBatchNorm: weight/bias dtype {affine[0].dtype} differs from input dtype "
                        f"{input.dtype}")
    return _SyncBatchNormFunction.apply(input, *affine, mean=mean, invstd=invstd, training=True,
                                        has_weight=weight is not None, comm=comm, count=count)


class SyncBatchNorm(_BatchNorm):
    """Batch norm over the whole global batch of a data-parallel job (PyTorch's name).

    Any input rank from 2 to 5 dimensions (N, C, ...). In evaluation mode, or with one rank,
    it is exactly `BatchNorm`; its parameters and buffers have BatchNorm's names, so state
    dicts move freely between the two. `comm` defaults to `from_environment()`.
    """

    _expected_dims = (2, 3, 4, 5)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, comm: Communicator | None = None,
                 **kwargs: Any) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, **kwargs)
        self.comm = comm if comm is not None else from_environment()

    def forward(self, input: Tensor) -> Tensor:
        if not self.training or self.comm.size == 1:
            return super().forward(input)
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked._data += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._data)
        track = self.track_running_stats
        running_mean, running_var = (self.running_mean, self.running_var) if track else (None, None)
        return sync_batch_norm(input, running_mean, running_var, self.weight, self.bias, factor, self.eps,
                               self.comm)

    @classmethod
    def convert_sync_batchnorm(cls, module: Any, comm: Communicator | None = None) -> Any:
        """`module` with every BatchNorm1d/2d replaced by a SyncBatchNorm holding the same
        parameters and buffers (a BatchNorm passed directly is returned converted)."""
        if isinstance(module, (BatchNorm1d, BatchNorm2d)):
            return _converted(module, cls, comm)
        for name, child in list(module._modules.items()):
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child, comm)
        return module


def _converted(bn: _BatchNorm, cls: type, comm: Communicator | None) -> SyncBatchNorm:
    sync = cls(bn.num_features, bn.eps, bn.momentum, bn.affine, bn.track_running_stats, comm=comm)
    for name in ("weight", "bias"):
        sync._parameters[name] = bn._parameters.get(name)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        sync._buffers[name] = bn._buffers.get(name)
    sync.train(bn.training)
    return sync


def convert_sync_batchnorm(module: Any, comm: Communicator | None = None) -> Any:
    """`SyncBatchNorm.convert_sync_batchnorm` as a function."""
    return SyncBatchNorm.convert_sync_batchnorm(module, comm)


__all__ = ["SyncBatchNorm", "convert_sync_batchnorm", "sync_batch_norm"]

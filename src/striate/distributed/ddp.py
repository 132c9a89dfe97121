"""Data parallelism: every rank holds the whole model, sees its own shard of each batch, and
the ranks average their gradients before the optimizer step (Horovod, ChainerMN, PyTorch DDP).

With the local loss L_r the mean over rank r's n_r examples of a global batch of n, the
gradient of the global mean loss is

    dL/dw = sum_r (n_r / n) dL_r/dw           (= (1/R) sum_r dL_r/dw when all n_r are equal)

so one all-reduce (a sum over ranks) per step gives every rank the same gradient and, from the
same starting weights, the same update: the ranks stay identical without exchanging weights.

Buckets: the gradients are copied into a few flat buffers of about `bucket_bytes` each (several
parameters per message, one buffer per dtype), so a network's ~60 tensors cost a few messages,
not 60 latencies; each buffer is summed in place and copied back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from striate.autograd.tensor import _make
from striate.distributed.comm import Communicator, from_environment

DEFAULT_BUCKET_BYTES = 4 * 2**20


class GradientBuckets:
    """Fixed groups of parameters whose gradients travel in one message each."""

    def __init__(self, params: Iterable[Any], bucket_bytes: int = DEFAULT_BUCKET_BYTES) -> None:
        if bucket_bytes < 1:
            raise ValueError(f"bucket_bytes must be positive, got {bucket_bytes}")
        self.params = [p for p in params if p.requires_grad]
        self.buckets: list[list[Any]] = []
        open_by_dtype: dict[np.dtype, tuple[list[Any], list[int]]] = {}
        for p in self.params:  # in order, one open bucket per dtype, closed when full
            bucket, size = open_by_dtype.setdefault(p._data.dtype, ([], [0]))
            bucket.append(p)
            size[0] += p._data.nbytes
            if size[0] >= bucket_bytes:
                self.buckets.append(bucket)
                del open_by_dtype[p._data.dtype]
        self.buckets += [bucket for bucket, _ in open_by_dtype.values()]
        self._buffers = [np.empty(sum(p._data.size for p in b), dtype=b[0]._data.dtype)
                         for b in self.buckets]

    @property
    def nbytes(self) -> int:
        """Bytes one rank contributes per all-reduce of all gradients."""
        return sum(b.nbytes for b in self._buffers)

    def allreduce_(self, comm: Communicator, scale: float = 1.0) -> None:
        """grad <- sum over ranks of (scale * grad), bucket by bucket. A parameter without a
        gradient on this rank contributes zeros (and gets the others' sum)."""
        if comm.size == 1 and scale == 1.0:
            return
        for i in range(len(self.buckets)):
            comm.allreduce_(self.pack(i, scale))
            self.unpack(i)

    def pack(self, i: int, scale: float = 1.0) -> np.ndarray:
        """Bucket i's gradients (zeros for a missing one) times `scale` in its flat buffer."""
        buf, offset = self._buffers[i], 0
        for p in self.buckets[i]:
            n = p._data.size
            if p.grad is None:
                buf[offset:offset + n] = 0
            else:
                buf[offset:offset + n] = p.grad._data.reshape(-1)
            offset += n
        if scale != 1.0:
            buf *= buf.dtype.type(scale)
        return buf

    def unpack(self, i: int) -> None:
        """Bucket i's flat buffer back into its parameters' gradients."""
        buf, offset = self._buffers[i], 0
        for p in self.buckets[i]:
            n = p._data.size
            reduced = buf[offset:offset + n].reshape(p._data.shape).copy()
            if p.grad is None:
                p.grad = _make(reduced, False)
            else:
                p.grad._data = reduced
            offset += n


def broadcast_tensors(tensors: Iterable[Any], comm: Communicator, root: int = 0) -> None:
    """Every rank's `tensors` (the same list on every rank) become rank `root`'s."""
    if comm.size == 1:
        return
    for t in tensors:
        if t is None:
            continue
        # np.ascontiguousarray would turn a 0-d buffer (num_batches_tracked) into shape (1,)
        data = t._data if t._data.flags.c_contiguous else t._data.copy(order="C")
        comm.broadcast_(data, root)
        t._data = data


def broadcast_module(module: Any, comm: Communicator, root: int = 0) -> None:
    """Every rank's parameters and buffers become rank `root`'s (in state_dict order)."""
    broadcast_tensors(list(module.parameters()) + list(module.buffers()), comm, root)


class DistributedDataParallel:
    """Wrap `module` for a data-parallel loop of your own (PyTorch's DDP, without hooks):

        comm = st.distributed.from_environment()
        model = st.distributed.DistributedDataParallel(net, comm)   # rank 0's weights everywhere
        for x, y in shard_of_each_batch:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            model.allreduce_gradients()          # average over ranks, then
            opt.step()                           # the same update on every rank

    `allreduce_gradients(local_count, global_count)` weights each rank by its share of the batch
    when the shards are not of equal size. Attributes and methods other than these are the
    wrapped module's (`model.state_dict()`, `model.eval()`, ...).
    """

    def __init__(self, module: Any, comm: Communicator | None = None,
                 bucket_bytes: int = DEFAULT_BUCKET_BYTES, broadcast_weights: bool = True) -> None:
        object.__setattr__(self, "module", module)
        object.__setattr__(self, "comm", comm if comm is not None else from_environment())
        object.__setattr__(self, "buckets", GradientBuckets(module.parameters(), bucket_bytes))
        if broadcast_weights:
            broadcast_module(module, self.comm)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.module, name, value)

    def allreduce_gradients(self, local_count: int | None = None, global_count: int | None = None) -> None:
        """Replace every gradient by the average over ranks (weighted by shard sizes if given)."""
        comm = self.comm
        if local_count is None or global_count is None:
            scale = 1.0 / comm.size
        else:
            if global_count <= 0:
                raise ValueError(f"global_count must be positive, got {global_count}")
            scale = local_count / global_count
        self.buckets.allreduce_(comm, scale)

    def broadcast_buffers(self, root: int = 0) -> None:
        """Running statistics (batch norm) of rank `root` on every rank."""
        broadcast_tensors(self.module.buffers(), self.comm, root)

"""What `Trainer(..., distributed=True)` adds to the training loop on each rank.

- start: model weights and buffers of rank 0 on every rank (optionally batch norm made
  `SyncBatchNorm`); the training `DataLoader` becomes a `ShardedDataLoader` (this rank's piece
  of every global batch, in the one-process order); on ranks other than 0 the callbacks that
  print or write files (progress bar, checkpoints, history files, and any callback with
  `rank_zero_only = True`) are left out;
- every step: the loss, correct count and batch size summed over ranks (one message of three
  numbers), so logs, history, early stopping and the NaN guard agree on every rank; the local
  loss weighted by its share of the batch when the pieces are unequal; the gradients averaged
  over ranks in buckets before clipping and the optimizer step, each bucket sent while the
  backward is still computing earlier layers (`overlap.py`);
- every epoch: rank 0's running statistics copied to all ranks; validation split over ranks;
- any exception on one rank that the others cannot know about stops the whole job (MPI_Abort)
  with a message naming the rank, instead of leaving the other ranks waiting forever.
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from striate.distributed.comm import Communicator, from_environment
from striate.distributed.ddp import GradientBuckets, broadcast_module, broadcast_tensors
from striate.distributed.loader import ShardedDataLoader


class DistributedTraining:
    """The per-rank side of data-parallel training, driven by `Trainer`."""

    def __init__(self, trainer: Any, comm: Communicator | bool = True, sync_batchnorm: bool = False,
                 bucket_bytes: int | None = None, overlap: bool = True) -> None:
        self.comm = comm if isinstance(comm, Communicator) else from_environment()
        if sync_batchnorm:
            from striate.distributed.sync_batchnorm import SyncBatchNorm

            trainer.model = SyncBatchNorm.convert_sync_batchnorm(trainer.model, self.comm)
        broadcast_module(trainer.model, self.comm)
        options = {} if bucket_bytes is None else {"bucket_bytes": bucket_bytes}
        self.buckets = GradientBuckets(trainer.model.parameters(), **options)
        self.overlapped = None  # send each bucket as soon as the backward has finished it
        if overlap and self.comm.size > 1:
            from striate.distributed.overlap import OverlappedAllreduce

            self.overlapped = OverlappedAllreduce(self.buckets, self.comm)
        trainer.train_data = self._shard(trainer.train_data)
        if not self.comm.is_main:
            trainer.callbacks = [cb for cb in trainer.callbacks if not _rank_zero_only(cb)]
        self.global_count = 0
        self._loss_scale = 1.0

    def _shard(self, loader: Any) -> ShardedDataLoader:
        from striate.data.loader import DataLoader

        if isinstance(loader, ShardedDataLoader):
            if (loader.rank, loader.world_size) != (self.comm.rank, self.comm.size):
                raise ValueError(f"the training loader is sharded for rank {loader.rank} of "
                                 f"{loader.world_size}, but this is rank {self.comm.rank} of "
                                 f"{self.comm.size}")
            return loader
        if not isinstance(loader, DataLoader):
            raise TypeError("distributed training needs the training data as an st.data.DataLoader (it is "
                            f"sharded over the ranks by batch), got {type(loader).__name__}")
        return ShardedDataLoader.from_loader(loader, self.comm.rank, self.comm.size)

    # ------------------------------------------------------------------ every step
    def reduce_metrics(self, loss_value: float, correct: int, local_count: int) -> tuple[float, int]:
        """Mean loss and correct count of the global batch (the same on every rank)."""
        loss_sum, correct_sum, count = self.comm.allreduce_values(loss_value * local_count, correct,
                                                                  local_count)
        self.global_count = int(round(count))
        # rank r's loss is the mean over its n_r items; the global mean weighs it by n_r / n,
        # and the gradient average below divides by R: scale by n_r R / n (1 for equal pieces)
        self._loss_scale = local_count * self.comm.size / self.global_count
        return loss_sum / max(count, 1), int(round(correct_sum))

    def before_backward(self, loss: Any) -> Any:
        """The loss to call backward() on (weighted for unequal pieces); with overlap, the
        buckets' all-reduces are armed to start during the backward."""
        loss = loss if self._loss_scale == 1.0 else loss * self._loss_scale
        if self.overlapped is not None:
            self.overlapped.start(loss, 1.0 / self.comm.size)
        return loss

    def allreduce_gradients(self) -> None:
        """After the backward: every gradient is the average over the ranks."""
        if self.overlapped is not None:
            self.overlapped.finish()
        else:
            self.buckets.allreduce_(self.comm, 1.0 / self.comm.size)

    # ------------------------------------------------------------------ every epoch
    def sync_buffers(self, model: Any) -> None:
        """Rank 0's running statistics everywhere (what rank 0 checkpoints and validates with)."""
        broadcast_tensors(model.buffers(), self.comm)

    def evaluate(self, model: Any, data: Iterable, loss: Callable | None = None) -> dict[str, Any]:
        """Loss and accuracy over `data`, each rank evaluating every R-th batch."""
        from striate.train.trainer import evaluate

        mine = [batch for i, batch in enumerate(data) if i % self.comm.size == self.comm.rank]
        loss_sum = correct = count = 0.0
        if mine:
            result = evaluate(model, mine, loss=loss)
            count = result["n"]
            loss_sum, correct = result["loss"] * count, round(result["accuracy"] * count)
        loss_sum, correct, count = self.comm.allreduce_values(loss_sum, correct, count)
        if not count:
            raise ValueError("evaluate(): the validation data yielded no batches")
        return {"loss": loss_sum / count, "accuracy": correct / count, "n": int(count)}


@contextlib.contextmanager
def stop_all_on_error(comm: Communicator, collective: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Inside: an exception on one rank prints which rank failed and why, then MPI_Abort ends
    every rank (the others would otherwise wait in their next all-reduce forever)."""
    try:
        yield
    except collective:
        raise
    except BaseException as exc:
        if comm.size == 1:
            raise
        print(f"striate: rank {comm.rank} of {comm.size} failed; stopping all ranks.", file=sys.stderr)
        if not isinstance(exc, SystemExit):
            traceback.print_exc()
        print(f"error (rank {comm.rank}): {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        comm.abort(1)


def _rank_zero_only(callback: Any) -> bool:
    """Callbacks that print or write files run on rank 0 only."""
    from striate.train.callbacks import HistoryLogger, ModelCheckpoint, ProgressBar

    return bool(getattr(callback, "rank_zero_only", False)) or \
        isinstance(callback, (ProgressBar, ModelCheckpoint, HistoryLogger))

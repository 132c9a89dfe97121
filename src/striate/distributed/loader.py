"""Each rank's share of every batch, in the same global order as one process.

Epoch e's order is the one-process loader's permutation; global batch b is its items
[b*B, (b+1)*B) (B the global batch size), and rank r of R takes the r-th of R nearly equal
contiguous pieces of it. The R ranks together therefore train on exactly the batches one
process would, so the number of ranks may change between a run and its resumption: the loader's
state (epoch, global batches done, seed, global batch size) means the same thing for any R.

Random transforms draw from a generator seeded by (seed, epoch, batch, rank) when R > 1: each
rank augments its own piece reproducibly, but the draws are not those of one process (which
draws for the whole batch at once).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.data.loader import DataLoader


def shard_bounds(n: int, rank: int, size: int) -> tuple[int, int]:
    """[start, stop) of rank's piece of n items split into `size` nearly equal contiguous pieces
    (the first n % size pieces one item longer)."""
    base, extra = divmod(n, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


class ShardedDataLoader(DataLoader):
    """A `DataLoader` over the global batches that hands this rank only its piece of each.

    `len()`, `order()`, `state_dict()` and `batch_size` are the global loader's; `local_count(b)`
    and `global_count(b)` give the sizes of batch b's piece and of the whole batch.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, *, rank: int = 0, world_size: int = 1,
                 prefetch: bool = True) -> None:
        super().__init__(dataset, batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed,
                         prefetch=prefetch)
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        if batch_size < world_size:
            raise ValueError(f"a global batch of {batch_size} cannot be split over {world_size} ranks; "
                             f"use a batch size of at least {world_size} (ideally a multiple of it)")
        tail = len(dataset) % batch_size
        if not drop_last and 0 < tail < world_size:
            raise ValueError(
                f"the last batch holds {tail} items, fewer than the {world_size} ranks; use drop_last=True "
                "or a batch size that leaves a last batch of at least one item per rank")
        self.rank, self.world_size = int(rank), int(world_size)

    @classmethod
    def from_loader(cls, loader: DataLoader, rank: int, world_size: int) -> ShardedDataLoader:
        """The same loader (dataset, global batch, order, seed, position) sharded for `rank`."""
        sharded = cls(loader.dataset, loader.batch_size, shuffle=loader.shuffle, drop_last=loader.drop_last,
                      seed=loader.seed, rank=rank, world_size=world_size, prefetch=loader.prefetch)
        sharded.load_state_dict(loader.state_dict())
        return sharded

    def global_count(self, b: int) -> int:
        n = len(self.dataset)
        return min(self.batch_size, n - b * self.batch_size)

    def local_count(self, b: int) -> int:
        start, stop = shard_bounds(self.global_count(b), self.rank, self.world_size)
        return stop - start

    def _plan(self, epoch: int) -> list[np.ndarray]:
        pieces = []
        for batch in super()._plan(epoch):
            start, stop = shard_bounds(len(batch), self.rank, self.world_size)
            pieces.append(batch[start:stop])
        return pieces

    def _batch_rng(self, epoch: int, b: int) -> np.random.Generator:
        if self.world_size == 1:
            return super()._batch_rng(epoch, b)
        return np.random.default_rng([self.seed, epoch, b, self.rank])

"""`DistributedSampler`: each rank's share of the indices, as torch.utils.data's.

Epoch e permutes with a fresh generator seeded `seed + e` (call `set_epoch(e)` before each
epoch, as in torch), pads the list by repeating its start (or drops the tail with `drop_last`)
to a multiple of the number of replicas, and gives rank r every num_replicas-th index from r.
Without `num_replicas`/`rank` it asks `st.distributed.from_environment()` (the MPI job, or one
process).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

from striate import sampling
from striate.random import Generator
from striate.utils.data.sampler import Sampler


class DistributedSampler(Sampler):
    """Indices of rank `rank` out of `num_replicas` (module docstring)."""

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from striate.distributed import from_environment

            comm = from_environment()
            num_replicas = comm.size if num_replicas is None else num_replicas
            rank = comm.rank if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            gen = Generator().manual_seed(self.seed + self.epoch)
            indices = sampling.randperm(n, generator=gen).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - len(indices)
            indices += (indices * math.ceil(padding / len(indices)))[:padding] if padding > len(indices) \
                else indices[:padding]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose permutation the next pass uses (`seed + epoch`)."""
        self.epoch = epoch

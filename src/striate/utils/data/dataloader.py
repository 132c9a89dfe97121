"""`DataLoader` with torch.utils.data.DataLoader's signature, argument checks and order.

    from striate.utils.data import DataLoader, TensorDataset
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, num_workers=2)

Order and seeds. Every `iter(loader)` draws a `base_seed` from `generator` (default: the global
generator), then the sampler draws its own (RandomSampler: one more global draw when no
generator is given), exactly as PyTorch's `_BaseDataLoaderIter`; so after `st.manual_seed(s)`
the batches equal torch's after `torch.manual_seed(s)`, epoch after epoch, and the global stream
is left where torch leaves it (weights drawn after a loader pass still match). Worker k is
seeded `base_seed + k`, as torch's worker processes.

Workers (`num_workers > 0`) are threads (see `striate.utils.data.worker` for why): batch j is
loaded by worker j % num_workers, at most `prefetch_factor * num_workers` batches ahead, and
handed out in the sampler's order; the batches are the same as with `num_workers=0`. A worker's
exception is re-raised in the main thread with the same type, naming the worker and the batch.
`pin_memory` is accepted and does nothing (striate runs on the CPU only; torch's warning is
given, as torch gives it on a machine without an accelerator); `pin_memory_device`,
`multiprocessing_context` are accepted and do not apply to threads; `in_order=False` is
accepted and batches still come in order.

Resuming. This loader, like torch's, has no `set_epoch`/`state_dict`: with the Trainer, a run
resumed at an epoch boundary continues exactly (the trainer restores the global generator, from
which the next epoch's order is drawn); a run resumed mid-epoch sees that epoch in a new order.
`striate.data.DataLoader` resumes exactly anywhere.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from striate import sampling
from striate.random import Generator
from striate.utils.data.collate import default_collate, default_convert
from striate.utils.data.dataset import IterableDataset
from striate.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from striate.utils.data.worker import WorkerFailure, WorkerPool

_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class _InfiniteConstantSampler(Sampler):
    """An iterable dataset's sampler: None forever (the dataset decides when it ends)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


def _check_worker_options(num_workers: int, timeout: float, prefetch_factor: int | None,
                          persistent_workers: bool) -> int | None:
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                         f"multiprocessing (got {num_workers!r})")
    if timeout < 0:
        raise ValueError(f"timeout option should be non-negative (got {timeout}); 0 waits forever")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing. let "
                         "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
    if num_workers > 0 and prefetch_factor is None:
        return 2
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    return prefetch_factor


def _check_sampling_options(dataset: Any, batch_size: int | None, shuffle: bool | None, sampler: Any,
                            batch_sampler: Any, drop_last: bool) -> bool:
    """torch's checks of the mutually exclusive options; returns `shuffle` as a bool."""
    if isinstance(dataset, IterableDataset):
        if shuffle not in {False, None}:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                             f"shuffle={shuffle} (an iterable dataset decides its own order)")
        if sampler is not None:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                             f"sampler={sampler}")
        if batch_sampler is not None:
            raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                             f"but got batch_sampler={batch_sampler}")
    shuffle = bool(shuffle)
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle (the sampler decides the order: "
                         "drop shuffle=True, or use RandomSampler as the sampler)")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                             "and drop_last (the batch sampler decides them: leave those at their defaults)")
    elif batch_size is None and drop_last:
        raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                         "drop_last")
    return shuffle


class DataLoader:
    """Batches from `dataset`, with torch.utils.data.DataLoader's arguments (module docstring)."""

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Sampler | Iterable | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        self.__initialized = False
        prefetch_factor = _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError("multiprocessing_context can only be used with multi-process loading "
                             f"(num_workers > 0), but got num_workers={num_workers}")
        shuffle = _check_sampling_options(dataset, batch_size, shuffle, sampler, batch_sampler, drop_last)
        self._iterable = isinstance(dataset, IterableDataset)
        if batch_sampler is not None:
            batch_size, drop_last = None, False
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_sampler is not None else default_convert)
        self.persistent_workers = persistent_workers
        self._iterator: _LoaderIterator | None = None
        self.__initialized = True

    def __setattr__(self, attr: str, val: Any) -> None:
        if attr in _FROZEN and getattr(self, "_DataLoader__initialized", False):
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is "
                             "initialized; build a new DataLoader instead")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
            return n
        return len(self._index_sampler)

    def __iter__(self) -> _LoaderIterator:
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = _LoaderIterator(self)
            else:
                self._iterator._reset()
            return self._iterator
        return _LoaderIterator(self)

    def _fetcher(self) -> Callable[[Any], Any]:
        """A function index (or list of indices) -> collated batch; an iterable dataset's keeps
        its own iterator (one per worker)."""
        dataset, collate, auto = self.dataset, self.collate_fn, self._auto_collation
        if self._iterable:
            state: dict[str, Any] = {"iter": None, "ended": False}
            drop_last = self.drop_last

            def fetch_iterable(indices: Any) -> Any:
                if state["iter"] is None:
                    state["iter"] = iter(dataset)
                if state["ended"]:
                    raise StopIteration
                if not auto:
                    return collate(next(state["iter"]))
                data = list(_take(state["iter"], len(indices)))
                if len(data) < len(indices):
                    state["ended"] = True
                if not data or (drop_last and len(data) < len(indices)):
                    raise StopIteration
                return collate(data)

            return fetch_iterable

        def fetch_map(indices: Any) -> Any:
            if not auto:
                return collate(dataset[indices])
            if callable(getattr(dataset, "__getitems__", None)):
                return collate(dataset.__getitems__(indices))
            return collate([dataset[i] for i in indices])

        return fetch_map


def _take(it: Iterator[Any], n: int) -> Iterator[Any]:
    for _ in range(n):
        try:
            yield next(it)
        except StopIteration:
            return


class _LoaderIterator:
    """One pass over the loader (several with persistent workers); see the module docstring."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        if loader.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device "
                          "pinned memory won't be used.", stacklevel=3)
        self._sampler_iter = iter(loader._index_sampler)
        self._base_seed = sampling.random_int64(loader.generator)
        self._num_yielded = 0
        self._pool: WorkerPool | None = None
        self._fetch = None
        if loader.num_workers == 0:
            self._fetch = loader._fetcher()
        else:
            self._pool = WorkerPool(loader.num_workers, self._base_seed, loader.dataset, loader._fetcher,
                                    loader.worker_init_fn)
            self._start_epoch()

    # -------------------------------------------------------------- worker bookkeeping
    def _start_epoch(self) -> None:
        self._sent = 0          # tasks submitted this pass
        self._received = 0      # results taken this pass
        self._worker_of: dict[int, int] = {}
        self._active = [True] * self._loader.num_workers
        self._next_worker = 0
        self._sampler_done = False
        for _ in range(self._loader.prefetch_factor * self._loader.num_workers):
            self._submit_next()

    def _submit_next(self) -> None:
        if self._sampler_done or not any(self._active):
            return
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            self._sampler_done = True
            return
        n = self._loader.num_workers
        while not self._active[self._next_worker]:
            self._next_worker = (self._next_worker + 1) % n
        worker = self._next_worker
        self._next_worker = (worker + 1) % n
        self._pool.submit(worker, index)
        self._worker_of[self._sent] = worker
        self._sent += 1

    def _next_from_workers(self) -> Any:
        while self._received < self._sent:
            task = self._received
            worker = self._worker_of.pop(task)
            result = self._pool.result(worker, self._loader.timeout)
            self._received += 1
            if isinstance(result, StopIteration):  # an iterable dataset's replica ended in this worker
                self._active[worker] = False
                continue
            self._submit_next()
            if isinstance(result, WorkerFailure):
                self._shutdown()
                result.reraise(task)
            return result
        self._end_of_pass()
        raise StopIteration

    def _end_of_pass(self) -> None:
        if not self._loader.persistent_workers:
            self._shutdown()

    def _reset(self) -> None:
        """A new pass for persistent workers (torch draws no new base seed here)."""
        self._drain()
        self._sampler_iter = iter(self._loader._index_sampler)
        self._num_yielded = 0
        self._start_epoch()

    def _drain(self) -> None:
        """Collect what an abandoned pass left in flight, so the next pass starts clean."""
        while self._received < self._sent:
            self._pool.result(self._worker_of.pop(self._received), 0)
            self._received += 1

    # -------------------------------------------------------------- iteration
    def __iter__(self) -> _LoaderIterator:
        return self

    def __next__(self) -> Any:
        try:
            if self._pool is None:
                if self._fetch is None:
                    raise StopIteration
                batch = self._fetch(next(self._sampler_iter))
            else:
                if not self._pool.alive:
                    raise StopIteration
                batch = self._next_from_workers()
        except StopIteration:
            raise
        except BaseException:  # an error or Ctrl-C: no worker outlives it
            self._shutdown()
            raise
        self._num_yielded += 1
        return batch

    def __len__(self) -> int:
        return len(self._loader._index_sampler)

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def __del__(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.stop.set()

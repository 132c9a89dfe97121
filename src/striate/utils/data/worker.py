"""DataLoader workers: threads that load batches in parallel, each with PyTorch's worker seed.

Why threads and not processes. A striate dataset's work is NumPy (decoding, copying,
converting, transforming) and Numba, which release the GIL, so threads load in parallel where
the time goes; they share the dataset without pickling anything (a worker process would have
to receive the dataset and send every batch back through pickle), start in microseconds, and
cannot outlive the program: a `break`, an exception or Ctrl-C stops them (the iterator's
shutdown sets a stop event and joins them), and they are daemon threads besides. A dataset
whose `__getitem__` is pure Python holds the GIL and gains little: the batches are still right.

Each worker thread gets, as each of PyTorch's worker processes does, its own global generator
seeded `base_seed + worker_id` (`st.rand`, `st.randn`, dropout and striate's transforms inside
`__getitem__` draw from it and leave the main thread's stream alone) and a `get_worker_info()`.
Python's `random` and NumPy's global generator are process-wide and not reseeded (that would be
a hidden global effect): seed your own per worker from `get_worker_info().seed` in
`worker_init_fn` if you use them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from striate.random import Generator, _set_thread_generator

_worker = threading.local()


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker knows about itself (torch.utils.data.get_worker_info())."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


def get_worker_info() -> WorkerInfo | None:
    """This worker's WorkerInfo inside a DataLoader worker, None in the main thread."""
    return getattr(_worker, "info", None)


@dataclass
class WorkerFailure:
    """An exception raised while a worker loaded a batch, carried to the main thread."""

    worker_id: int
    exc: BaseException

    def reraise(self, task: int) -> None:
        message = (f"Caught {type(self.exc).__name__} in DataLoader worker thread {self.worker_id} while "
                   f"loading batch {task}: {self.exc}")
        try:
            err = type(self.exc)(message)
        except Exception:  # an exception type that takes other arguments
            err = RuntimeError(message)
        raise err from self.exc


_STOP = object()
_POLL = 0.1  # seconds between checks of the stop event


def put_unless_stopped(q: queue.Queue, item: Any, stop: threading.Event) -> bool:
    """Put `item` unless the consumer has gone (stop set); True when it was put."""
    while not stop.is_set():
        try:
            q.put(item, timeout=_POLL)
            return True
        except queue.Full:
            continue
    return False


def worker_loop(worker_id: int, num_workers: int, seed: int, dataset: Any, fetch: Callable[[Any], Any],
                init_fn: Callable[[int], None] | None, tasks: queue.Queue, results: queue.Queue,
                stop: threading.Event) -> None:
    """Run in a worker thread: fetch the tasks it is given, in order, until told to stop.

    `fetch(task)` returns one batch; a StopIteration (an iterable dataset's end) and any
    exception are sent back as results, so the main thread sees them in the task's place."""
    _worker.info = WorkerInfo(worker_id, num_workers, seed, dataset)
    _set_thread_generator(Generator().manual_seed(seed))
    try:
        if init_fn is not None:
            init_fn(worker_id)
        while not stop.is_set():
            try:
                task = tasks.get(timeout=_POLL)
            except queue.Empty:
                continue
            if task is _STOP:
                return
            try:
                result = fetch(task)
            except BaseException as exc:  # handed to the main thread, which re-raises it
                result = exc if isinstance(exc, StopIteration) else WorkerFailure(worker_id, exc)
            if not put_unless_stopped(results, result, stop):
                return
    except BaseException as exc:  # worker_init_fn failed: every task of this worker reports it
        failure = WorkerFailure(worker_id, exc)
        while not stop.is_set():
            try:
                task = tasks.get(timeout=_POLL)
            except queue.Empty:
                continue
            if task is _STOP or not put_unless_stopped(results, failure, stop):
                return
    finally:
        _set_thread_generator(None)
        _worker.info = None


class WorkerPool:
    """`num_workers` threads, each with its own task and result queue: task k goes to worker
    k % num_workers (skipping finished ones), so reading results in task order keeps the
    sampler's order without any reordering buffer."""

    def __init__(self, num_workers: int, base_seed: int, dataset: Any, make_fetch: Callable[[], Callable],
                 init_fn: Callable[[int], None] | None) -> None:
        self.stop = threading.Event()
        self.tasks = [queue.Queue() for _ in range(num_workers)]
        self.results = [queue.Queue() for _ in range(num_workers)]
        self.threads = []
        for w in range(num_workers):
            t = threading.Thread(target=worker_loop, name=f"striate-dataloader-{w}", daemon=True,
                                 args=(w, num_workers, base_seed + w, dataset, make_fetch(), init_fn,
                                       self.tasks[w], self.results[w], self.stop))
            t.start()
            self.threads.append(t)

    def submit(self, worker: int, task: Any) -> None:
        self.tasks[worker].put(task)

    def result(self, worker: int, timeout: float) -> Any:
        """The next result of `worker` (waiting at most `timeout` seconds if > 0)."""
        deadline_polls = None if timeout <= 0 else max(1, int(timeout / _POLL))
        polls = 0
        while True:
            try:
                return self.results[worker].get(timeout=_POLL)
            except queue.Empty:
                polls += 1
                if not self.threads[worker].is_alive():
                    raise RuntimeError(f"DataLoader worker thread {worker} exited unexpectedly") from None
                if deadline_polls is not None and polls >= deadline_polls:
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds") from None

    def shutdown(self) -> None:
        """Stop every worker and wait for them (a worker busy in __getitem__ finishes that item)."""
        self.stop.set()
        for q in self.tasks:
            q.put(_STOP)
        for t in self.threads:
            t.join()
        self.threads = []

    @property
    def alive(self) -> bool:
        return bool(self.threads) and not self.stop.is_set()

"""The training loop: mini-batch gradient descent with callbacks and exact resume.

Each step is the lecture's recipe: forward, loss, backward (gradients by backpropagation),
optional gradient clipping ("if they become too big, scale down"), an optimizer update.
Everything that decides the future of a run (weights, optimizer state, scheduler, epoch,
position in the epoch, the data order and every random state) goes into a checkpoint, so that
training 4 epochs straight and training 2, stopping and resuming for 2 give the same weights
bit for bit.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from striate import random as st_random
from striate.autograd.function import no_grad
from striate.autograd.tensor import Tensor, _make
from striate.train.callbacks import Callback, ProgressBar, step_scheduler
from striate.train.metrics import History, accuracy_count, confusion_matrix

CHECKPOINT_FORMAT = "striate-checkpoint-1"


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; training stopped before the bad update was applied."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; `checkpoint` names the resumable checkpoint that was saved."""

    def __init__(self, checkpoint: Path | None) -> None:
        super().__init__(
            f"training interrupted; resumable checkpoint saved to {checkpoint}" if checkpoint
            else "training interrupted (no checkpoint directory was given, nothing saved)"
        )
        self.checkpoint = checkpoint


def _loader_length(loader: Any) -> int:
    try:
        return len(loader)
    except TypeError:
        raise TypeError("the training data must have a length (a DataLoader or a list of batches)") from None


class Trainer:
    """Train `model` with `optimizer` on batches from `train` (a DataLoader or any re-iterable
    of (inputs, targets) batches).

    loss: a callable (output, target) -> scalar Tensor, default cross-entropy.
    scheduler: an `st.optim.lr_scheduler` stepped once per epoch (OneCycleLR: per batch;
        ReduceLROnPlateau with `scheduler_monitor`, default val_loss, or loss without validation).
    clip_grad_norm: max global gradient norm (None for no clipping).
    input_noise: std of Gaussian jitter added to each training input (seed 001), or 0.
    checkpoint_dir: where Ctrl-C and NaN guards save; also used by `save_checkpoint`.
    distributed: True (or an `st.distributed.Communicator`) for data-parallel training over the
        ranks of an MPI job (`st.distributed.DistributedTraining`); sync_batchnorm: batch norm
        over the whole global batch instead of each rank's piece.
    """

    def __init__(self, model, optimizer, train: Iterable, val: Iterable | None = None,
                 loss: Callable[[Tensor, Tensor], Tensor] | None = None, scheduler: Any = None,
                 callbacks: Sequence[Callback] = (), epochs: int = 10,
                 clip_grad_norm: float | None = None, input_noise: float = 0.0,
                 checkpoint_dir: str | os.PathLike | None = None, progress: bool = True,
                 metadata: dict[str, Any] | None = None, scheduler_monitor: str | None = None,
                 distributed: Any = False, sync_batchnorm: bool = False) -> None:
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        if loss is None:
            from striate.ops.loss import cross_entropy

            loss = cross_entropy
        self.model, self.optimizer, self.train_data, self.val_data = model, optimizer, train, val
        self.loss_fn, self.scheduler, self.epochs = loss, scheduler, epochs
        self.clip_grad_norm, self.input_noise = clip_grad_norm, float(input_noise)
        self.callbacks = list(callbacks)
        if progress and not any(isinstance(c, ProgressBar) for c in self.callbacks):
            self.callbacks.insert(0, ProgressBar())
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self._dist = None  # data parallelism over MPI ranks (issue 19)
        if distributed or sync_batchnorm:
            from striate.distributed.training import DistributedTraining

            self._dist = DistributedTraining(self, distributed or True, sync_batchnorm)
        self.metadata = dict(metadata or {})
        self.history = History()
        self.epoch = 0  # epochs completed
        self.batch_in_epoch = 0  # batches completed in the current epoch
        self.global_step = 0
        self.stop_training = False
        self.last_validation: dict[str, Any] | None = None  # evaluate() of the last epoch's val data
        self.steps_per_epoch = _loader_length(train)
        self._partial: dict[str, float] = {"loss_sum": 0.0, "correct": 0, "seen": 0, "time": 0.0}
        self._interrupt = False
        self.scheduler_monitor = scheduler_monitor or ("val_loss" if val is not None else "loss")
        self._epoch_start: float | None = None  # perf_counter() when the running epoch (re)started

    @property
    def _per_batch_scheduler(self) -> bool:
        from striate.optim.lr_scheduler import OneCycleLR

        return isinstance(self.scheduler, OneCycleLR)

    # ------------------------------------------------------------------ the loop
    def fit(self) -> History:
        """Train until `epochs` are done or a callback stops; returns the history."""
        for cb in self.callbacks:
            cb.on_train_begin(self)
        previous = signal.getsignal(signal.SIGINT)
        installed = _install_sigint(self)
        try:
            with self._stop_all_ranks_on_error(), _threads_for_training():
                while self.epoch < self.epochs and not self.stop_training:
                    self._run_epoch()
        finally:
            if installed:
                signal.signal(signal.SIGINT, previous)
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history

    def _stop_all_ranks_on_error(self):
        if self._dist is None:
            return contextlib.nullcontext()
        from striate.distributed.training import stop_all_on_error

        return stop_all_on_error(self._dist.comm, collective=(NonFiniteLossError,))

    def _batches(self):
        loader = self.train_data
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(self.epoch)
        it = iter(loader)
        if self.batch_in_epoch and hasattr(loader, "skip"):
            return loader.skip(it, self.batch_in_epoch)
        for _ in range(self.batch_in_epoch):  # resume mid-epoch: same order, skip what was done
            next(it)
        return it

    def _run_epoch(self) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(self, self.epoch)
        self.model.train()
        self._epoch_start = start = time.perf_counter()
        for x, y in self._batches():
            t0 = time.perf_counter()
            loss_value, correct = self._step(x, y)
            dt = time.perf_counter() - t0
            n = len(y) if self._dist is None else self._dist.global_count
            p = self._partial
            p["loss_sum"] += loss_value * n
            p["correct"] += correct
            p["seen"] += n
            self.batch_in_epoch += 1
            self.global_step += 1
            logs = {"loss": loss_value, "batch_accuracy": correct / max(n, 1),
                    "images_per_s": n / dt if dt > 0 else float("inf"), "lr": self.lr}
            for cb in self.callbacks:
                cb.on_batch_end(self, self.global_step, logs)
            if self._interrupt:
                raise TrainingInterrupted(self._save_interrupt_checkpoint())
        p = self._partial
        elapsed = p["time"] + time.perf_counter() - start
        logs = {"epoch": self.epoch + 1, "loss": p["loss_sum"] / max(p["seen"], 1),
                "accuracy": p["correct"] / max(p["seen"], 1), "lr": self.lr, "time": elapsed}
        if self._dist is not None:
            self._dist.sync_buffers(self.model)
        if self.val_data is not None:
            val = (evaluate if self._dist is None else self._dist.evaluate)(self.model, self.val_data,
                                                                              loss=self.loss_fn)
            logs["val_loss"], logs["val_accuracy"] = val["loss"], val["accuracy"]
            self.last_validation = val  # the whole result (confusion matrix too) for callbacks
        self.epoch += 1
        self.batch_in_epoch = 0
        self._partial = {"loss_sum": 0.0, "correct": 0, "seen": 0, "time": 0.0}
        self._epoch_start = None
        if self.scheduler is not None and not self._per_batch_scheduler:
            step_scheduler(self.scheduler, logs, self.scheduler_monitor)
        self.history.append(logs)
        for cb in self.callbacks:
            cb.on_epoch_end(self, self.epoch - 1, logs)
        if self._interrupt:
            raise TrainingInterrupted(self._save_interrupt_checkpoint())

    def _step(self, x: Any, y: Any) -> tuple[float, int]:
        # overflow on the way to a NaN loss is reported once, by the NaN guard, with its causes
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._step_unchecked(x, y)

    def _step_unchecked(self, x: Any, y: Any) -> tuple[float, int]:
        x = x if isinstance(x, Tensor) else _make(np.asarray(x, np.float32), False)
        y = y if isinstance(y, Tensor) else _make(np.asarray(y), False)
        if self.input_noise:
            noise = st_random.default_generator().standard_normal(x.shape, dtype=np.float32)
            x = _make(x._data + self.input_noise * noise, False)
        self.optimizer.zero_grad()
        out = self.model(x)
        loss = self.loss_fn(out, y)
        value = float(loss.item())
        correct = accuracy_count(out._data, y._data) if y._data.dtype.kind in "iu" else 0
        if self._dist is not None:  # the global batch's loss and count, the same on every rank
            value, correct = self._dist.reduce_metrics(value, correct, len(y))
        if not math.isfinite(value):
            self._non_finite(value)
        (loss if self._dist is None else self._dist.before_backward(loss)).backward()
        if self._dist is not None:
            self._dist.allreduce_gradients()
        if self.clip_grad_norm is not None:
            from striate.nn.utils import clip_grad_norm_

            clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
        self.optimizer.step()
        if self._per_batch_scheduler:
            self.scheduler.step()
        return value, correct

    def _non_finite(self, value: float) -> None:
        where = f"epoch {self.epoch + 1}, batch {self.batch_in_epoch + 1} (step {self.global_step + 1})"
        saved = ""
        if self.checkpoint_dir is not None and (self.checkpoint_dir / "last.safetensors").exists():
            saved = f" The last good checkpoint is {self.checkpoint_dir / 'last.safetensors'}."
        raise NonFiniteLossError(
            f"the loss became {value} at {where}, learning rate {self.lr:.4g}; training stopped "
            "before applying this update. Likely causes: a learning rate too high (try 10x "
            "lower), inputs that are not normalised, or a loss fed probabilities instead of "
            f"logits.{saved}"
        )

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue this run exactly."""
        state: dict[str, Any] = {
            "format": CHECKPOINT_FORMAT,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "global_step": self.global_step,
            "partial": self._partial_now(),
            "history": self.history.as_rows(),
            "rng": st_random.get_rng_state(),
            "callbacks": [[type(cb).__name__, cb.state_dict()] for cb in self.callbacks],
            "metadata": self.metadata,
        }
        if self.scheduler is not None:
            state["scheduler"] = self.scheduler.state_dict()
        if hasattr(self.train_data, "state_dict"):
            state["loader"] = self.train_data.state_dict()
        return state

    def _partial_now(self) -> dict[str, float]:
        """The running epoch's sums, its time so far included (kept across a mid-epoch resume)."""
        partial = dict(self._partial)
        if self._epoch_start is not None:
            partial["time"] += time.perf_counter() - self._epoch_start
        return partial

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(
                f"not a striate training checkpoint (format {state.get('format')!r}); "
                "use model.load_state_dict(st.load(path)) for a bare state dict"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])
        if "loader" in state and hasattr(self.train_data, "load_state_dict"):
            self.train_data.load_state_dict(state["loader"])
        self.epoch, self.batch_in_epoch = int(state["epoch"]), int(state["batch_in_epoch"])
        self.global_step = int(state["global_step"])
        self._partial = {k: float(v) for k, v in state["partial"].items()}
        self.history = History(state["history"])
        st_random.set_rng_state(state["rng"])
        saved = list(state.get("callbacks", []))
        for cb in self.callbacks:  # match by type, in order: the run may add a progress bar
            for i, (name, cb_state) in enumerate(saved):
                if name == type(cb).__name__:
                    cb.load_state_dict(cb_state)
                    del saved[i]
                    break

    def save_checkpoint(self, path: str | os.PathLike) -> Path:
        from striate.io import save

        if self._dist is not None and not self._dist.comm.is_main:
            return Path(path)  # the ranks are identical: rank 0 writes

        save(self.state_dict(), path)
        return Path(path)

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        from striate.io import load

        self.load_state_dict(load(path))

    def _save_interrupt_checkpoint(self) -> Path | None:
        if self.checkpoint_dir is None:
            return None
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        return self.save_checkpoint(self.checkpoint_dir / "interrupted.safetensors")


def _threads_for_training():
    """While `fit` runs, striate uses every core unless the caller chose a count with
    `st.config.set_num_threads` / `use_num_threads` (the default since issue 14; where striate
    has no private serial BLAS this also puts BLAS on one thread, as its own pool stalls between
    striate's small products). Restored when `fit` returns (no effect outside it)."""
    from striate import config

    if config._state["threads"] is not None:
        return contextlib.nullcontext()
    return config.use_num_threads(config.available_cores())


def _install_sigint(trainer: Trainer) -> bool:
    """First Ctrl-C: finish the current step, save a checkpoint, stop. Second: stop now."""
    try:
        def handler(signum, frame):
            if trainer._interrupt:
                raise KeyboardInterrupt
            trainer._interrupt = True

        signal.signal(signal.SIGINT, handler)
        return True
    except ValueError:  # not the main thread: leave Ctrl-C alone
        return False


def fit(model, train: Iterable, val: Iterable | None = None, loss: Callable | None = None,
        optimizer: Any = None, epochs: int = 10, callbacks: Sequence[Callback] = (),
        scheduler: Any = None, **options: Any) -> History:
    """Train `model` (Keras-style one call). Default optimizer: SGD(lr=0.01, momentum=0.9)."""
    if optimizer is None:
        from striate.optim import SGD

        optimizer = SGD(model.parameters(), lr=0.01, momentum=0.9)
    trainer = Trainer(model, optimizer, train, val=val, loss=loss, scheduler=scheduler,
                      callbacks=callbacks, epochs=epochs, **options)
    return trainer.fit()


def _as_batches(data: Any, batch_size: int):
    """Accept a DataLoader, a list of batches, a dataset, or an (X, y) pair of arrays."""
    if isinstance(data, tuple) and len(data) == 2 and not isinstance(data[0], tuple):
        x, y = data
        x = x._data if isinstance(x, Tensor) else np.asarray(x)
        y = y._data if isinstance(y, Tensor) else np.asarray(y)
        return ((x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(x), batch_size))
    if hasattr(data, "__getitem__") and hasattr(data, "__len__") and not hasattr(data, "batch_size") \
            and not isinstance(data, list):
        from striate.data import DataLoader

        return DataLoader(data, batch_size=batch_size)
    return data


def evaluate(model, data: Any, loss: Callable | None = None, batch_size: int = 256,
             num_classes: int | None = None) -> dict[str, Any]:
    """Accuracy, mean loss and confusion matrix of `model` on `data` (in eval mode, no graph)."""
    if loss is None:
        from striate.ops.loss import cross_entropy

        loss = cross_entropy
    was_training = getattr(model, "training", False)
    model.eval()
    loss_sum, seen, preds, targets = 0.0, 0, [], []
    try:
        with no_grad():
            for x, y in _as_batches(data, batch_size):
                x = x if isinstance(x, Tensor) else _make(np.asarray(x, np.float32), False)
                y = y if isinstance(y, Tensor) else _make(np.asarray(y), False)
                out = model(x)
                loss_sum += float(loss(out, y).item()) * len(y)
                seen += len(y)
                preds.append(out._data.argmax(axis=1))
                targets.append(y._data)
    finally:
        model.train(was_training)
    if not seen:
        raise ValueError("evaluate(): the data yielded no batches")
    pred, true = np.concatenate(preds), np.concatenate(targets)
    k = num_classes or int(max(pred.max(), true.max()) + 1)
    return {"accuracy": float((pred == true).mean()), "loss": loss_sum / seen, "n": seen,
            "confusion_matrix": confusion_matrix(true, pred, k)}

"""Callbacks: the hook points of the training loop.

The loop calls, in order, `on_train_begin`, then per epoch `on_epoch_begin`, `on_batch_end`
after every optimizer step, `on_epoch_end` (with the epoch's logs: loss, accuracy, lr, time,
val_loss, val_accuracy), and `on_train_end`. Plots, dashboards and loggers read these logs;
they never live inside the loop. A callback stops training by setting `trainer.stop_training`.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from striate.io_atomic import atomic_write_text


class Callback:
    """Base class: override the hooks you need; each receives the trainer."""

    def on_train_begin(self, trainer) -> None: ...

    def on_epoch_begin(self, trainer, epoch: int) -> None: ...

    def on_batch_end(self, trainer, step: int, logs: dict[str, float]) -> None: ...

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None: ...

    def on_train_end(self, trainer) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class LambdaCallback(Callback):
    """Wrap plain functions as a callback, e.g. `LambdaCallback(on_epoch_end=print_logs)`."""

    def __init__(self, **hooks: Any) -> None:
        for name, fn in hooks.items():
            if not name.startswith("on_"):
                raise ValueError(f"unknown hook {name!r}: hooks are named on_train_begin, on_epoch_end, ...")
            setattr(self, name, fn)


def _monitor_value(logs: dict[str, float], monitor: str) -> float:
    if monitor not in logs:
        raise KeyError(
            f"monitored metric {monitor!r} is not in the epoch logs {sorted(logs)}; "
            "monitor a val_* metric only when validation data is given"
        )
    return float(logs[monitor])


def _default_mode(monitor: str) -> str:
    return "max" if "acc" in monitor else "min"


class ProgressBar(Callback):
    """A tqdm bar per epoch with the running loss and throughput, and a one-line summary
    per epoch. When the stream is not a terminal (a log file, CI, a notebook) the bar is replaced
    by a plain progress line every `interval` seconds."""

    def __init__(self, stream=None, bar: bool | None = None, interval: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.bar_enabled = bar
        self.bar = None
        self.interval = float(interval)
        self._next_line = 0.0

    def on_epoch_begin(self, trainer, epoch: int) -> None:
        show = self.bar_enabled
        if show is None:
            show = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._next_line = time.monotonic() + self.interval
        if not show:
            return
        from tqdm.auto import tqdm

        self.bar = tqdm(total=trainer.steps_per_epoch, desc=f"epoch {epoch + 1}/{trainer.epochs}",
                        file=self.stream, leave=False, unit="batch", dynamic_ncols=True)
        self.bar.update(trainer.batch_in_epoch)

    def on_batch_end(self, trainer, step: int, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{logs['loss']:.4f}", img_s=f"{logs['images_per_s']:.0f}",
                                 refresh=False)
        elif self.interval and time.monotonic() >= self._next_line:
            self._next_line = time.monotonic() + self.interval
            print(f"epoch {trainer.epoch + 1}/{trainer.epochs}  batch {trainer.batch_in_epoch}/"
                  f"{trainer.steps_per_epoch}  loss {logs['loss']:.4f}  {logs['images_per_s']:.0f} img/s",
                  file=self.stream, flush=True)

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        parts = [f"epoch {epoch + 1}/{trainer.epochs}", f"loss {logs['loss']:.4f}",
                 f"acc {100 * logs['accuracy']:.2f}%"]
        if "val_loss" in logs:
            parts += [f"val_loss {logs['val_loss']:.4f}", f"val_acc {100 * logs['val_accuracy']:.2f}%"]
        parts += [f"lr {logs['lr']:.3g}", f"{logs['time']:.1f}s"]
        print("  ".join(parts), file=self.stream, flush=True)

    def on_train_end(self, trainer) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class EarlyStopping(Callback):
    """Stop when the monitored metric has not improved for `patience` epochs
    ("if the validation error starts to increase, just stop"), optionally restoring the
    weights of the best epoch."""

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str | None = None, restore_best_weights: bool = True) -> None:
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience}")
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.mode = mode or _default_mode(monitor)
        self.restore_best_weights = restore_best_weights
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.wait = 0
        self.best_weights: dict[str, np.ndarray] | None = None
        self.stopped_epoch: int | None = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        value = _monitor_value(logs, self.monitor)
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: np.array(v) for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True

    def on_train_end(self, trainer) -> None:
        if self.restore_best_weights and self.best_weights is not None and self.stopped_epoch is not None:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]


def step_scheduler(scheduler: Any, logs: dict[str, float], monitor: str) -> None:
    """One epoch's step of an `st.optim.lr_scheduler`: ReduceLROnPlateau is given the monitored
    metric, every other scheduler steps on its own."""
    from striate.optim.lr_scheduler import ReduceLROnPlateau as Plateau

    if isinstance(scheduler, Plateau):
        scheduler.step(_monitor_value(logs, monitor))
    else:
        scheduler.step()


class SchedulerCallback(Callback):
    """Step a learning-rate scheduler at the end of each epoch, built for the trainer's optimizer
    when training begins: `SchedulerCallback(lambda opt: StepLR(opt, 10), monitor="val_loss")`."""

    def __init__(self, build: Any, monitor: str = "val_loss") -> None:
        self.build, self.monitor = build, monitor
        self.scheduler = None
        self._pending: dict[str, Any] = {}

    def on_train_begin(self, trainer) -> None:
        if self.scheduler is None:
            self.scheduler = self.build(trainer.optimizer)
            if self._pending:
                self.scheduler.load_state_dict(self._pending)

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        step_scheduler(self.scheduler, logs, self.monitor)

    def state_dict(self) -> dict[str, Any]:
        return {} if self.scheduler is None else self.scheduler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._pending = state  # applied when the scheduler is built for the optimizer


def ReduceLROnPlateau(monitor: str = "val_loss", factor: float = 0.1, patience: int = 3,  # noqa: N802
                      mode: str | None = None, min_lr: float = 0.0, **kwargs: Any) -> SchedulerCallback:
    """Divide the learning rate when the monitored metric plateaus (AlexNet: "reduced by 10
    manually when val accuracy plateaus"): `st.optim.lr_scheduler.ReduceLROnPlateau` as a
    callback that reads the metric from the epoch logs (Keras's name and arguments)."""
    from striate.optim.lr_scheduler import ReduceLROnPlateau as Scheduler

    options = dict(mode=mode or _default_mode(monitor), factor=factor, patience=patience, min_lr=min_lr,
                   **kwargs)
    return SchedulerCallback(lambda optimizer: Scheduler(optimizer, **options), monitor=monitor)


class NoCheckpointError(FileNotFoundError):
    """No readable checkpoint in a checkpoints folder."""


class CheckpointFallbackWarning(UserWarning):
    """The newest checkpoint was corrupt or missing; an older good one was used."""


def previous_path(path: Path) -> Path:
    """Where ModelCheckpoint keeps the file that `path` replaced (last.previous.safetensors)."""
    return path.with_name(path.name.replace(".safetensors", "") + ".previous.safetensors")


def read_checkpoint(directory: str | os.PathLike, names: Sequence[str] = ("last",)) -> dict[str, Any]:
    """Load the first readable of `<name>.safetensors` / `<name>.previous.safetensors` for each
    name in turn, warning (CheckpointFallbackWarning) when it had to skip a corrupt or missing one."""
    from striate.io import StriateFileError, load

    directory = Path(directory)
    problems = []
    for name in names:
        newest = directory / f"{name}.safetensors"
        for path in (newest, previous_path(newest)):
            if not path.exists():
                continue
            try:
                state = load(path)
            except (StriateFileError, OSError) as e:
                problems.append(f"{path.name} is unreadable ({e})")
                continue
            if problems:
                warnings.warn(f"{'; '.join(problems)}: using {path} instead", CheckpointFallbackWarning,
                              stacklevel=2)
            return state
    detail = f": {'; '.join(problems)}" if problems else ""
    raise NoCheckpointError(f"no readable checkpoint ({', '.join(n + '.safetensors' for n in names)}) in "
                            f"{directory}{detail}; did the run finish an epoch?")


class ModelCheckpoint(Callback):
    """Save `last.safetensors` after every epoch and `best.safetensors` whenever the
    monitored metric improves; each is a full, resumable checkpoint written atomically, and the
    file it replaces is kept as `last.previous.safetensors` (`best.previous...`), which
    `read_checkpoint` falls back to when the newest is corrupt."""

    def __init__(self, directory: str | os.PathLike, monitor: str = "val_loss",
                 mode: str | None = None, save_last: bool = True, save_best: bool = True) -> None:
        self.directory = Path(directory)
        self.monitor = monitor
        self.mode = mode or _default_mode(monitor)
        self.save_last, self.save_best = save_last, save_best
        self.best = math.inf if self.mode == "min" else -math.inf

    @property
    def last_path(self) -> Path:
        return self.directory / "last.safetensors"

    @property
    def best_path(self) -> Path:
        return self.directory / "best.safetensors"

    def _save(self, trainer, path: Path) -> None:
        if path.exists():
            os.replace(path, previous_path(path))
        trainer.save_checkpoint(path)

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.save_last:
            self._save(trainer, self.last_path)
        if not self.save_best:
            return
        monitor = self.monitor if self.monitor in logs else "loss"
        value = float(logs[monitor])
        better = value < self.best if self.mode == "min" else value > self.best
        if better:
            self.best = value
            self._save(trainer, self.best_path)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state.get("best", self.best)


class HistoryLogger(Callback):
    """Write the history after every epoch as JSON (`history.json`) and CSV (`history.csv`)."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        history = trainer.history.as_rows()
        atomic_write_text(self.directory / "history.json", json.dumps(history, indent=1))
        columns = sorted({k for row in history for k in row}, key=lambda k: (k != "epoch", k))
        from io import StringIO

        buf = StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns)
        writer.writeheader()
        writer.writerows(history)
        atomic_write_text(self.directory / "history.csv", buf.getvalue())

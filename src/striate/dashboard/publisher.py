"""The publisher: a training callback that writes the run's events for the dashboard and applies
the page's controls between two steps. The training loop knows nothing about the dashboard.

Cost control: step events (loss, accuracy, lr, gradient norm, timings) at most every 50 ms,
growing with the run's age so a long run's log stays small. Everything else is optional work
under a budget: a "tick" (layer statistics of one real step, held-out images) at most every
second and the validation confusion matrix at an epoch's end run only while the publisher's own
time stays under `budget` (default 1%) of the training time so far. The dashboard adds little
to a run of any size, and shows less often what costs more.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from striate.dashboard import controls as ctl
from striate.dashboard import probe
from striate.dashboard.events import EventWriter
from striate.io_atomic import atomic_write_text
from striate.train.callbacks import Callback


class PredictRequest:
    def __init__(self, x: np.ndarray) -> None:
        self.x, self.done, self.result, self.error = x, threading.Event(), None, None


class DashboardCallback(Callback):
    """Publish a run to `folder/events.jsonl` and accept controls through `submit()`.

    Controls (pause/resume, lr, momentum, weight decay, batch size, checkpoint now, stop after
    this epoch) are applied between steps, logged with their step in the event log and in
    `controls.json`, and kept in the checkpoint (`state_dict`), so they survive `--resume`; lr,
    momentum and weight decay also live in the optimizer's saved groups and a new batch size in
    `config.json` (it takes effect at the next epoch start, where the loader's order is planned).
    """

    def __init__(self, folder: str | os.PathLike, tick_interval: float = 1.0,
                 step_interval: float = 0.05, probe_per_tick: int = 8, budget: float = 0.01) -> None:
        self.folder = Path(folder)
        self.tick_interval, self.step_interval = tick_interval, step_interval
        self.probe_per_tick, self.budget = probe_per_tick, budget
        self.spent = 0.0  # seconds of the publisher's optional work
        self.commands: queue.Queue = queue.Queue()
        self.controls: list[dict[str, Any]] = []
        self.paused = False
        self.running = False
        self._writer: EventWriter | None = None
        self._pending_batch_size: int | None = None
        self._stop_after_epoch = False
        self._capture: probe.LayerCapture | None = None
        self._panel: probe.ProbePanel | None = None
        self._timing_handles: list[Any] = []
        self._params: list[Any] = []  # the model's parameters, listed once per fit
        self._fwd_start = self._fwd_time = 0.0
        self._acc = {"loss": 0.0, "acc": 0.0, "n": 0, "fwd": 0.0, "step": 0.0}
        self.seen: int | None = None  # examples trained on (kept across --resume)

    # ------------------------------------------------------------------ called by the server
    def submit(self, control: dict[str, Any]) -> None:
        """Queue a checked control (see `controls.parse_control`) for the next step boundary."""
        self.commands.put(("control", control))

    def predict(self, x: np.ndarray, timeout: float = 30.0) -> np.ndarray:
        """Class probabilities of the live model for a (N, C, H, W) normalised batch, computed
        in the training thread between two steps (never while weights change)."""
        if not self.running:
            raise RuntimeError("the run is not training any more")
        request = PredictRequest(x)
        self.commands.put(("predict", request))
        if not request.done.wait(timeout):
            raise TimeoutError("the training loop did not answer within 30 s")
        if request.error is not None:
            raise RuntimeError(request.error)
        return request.result

    # ------------------------------------------------------------------ hooks of the loop
    def on_train_begin(self, trainer) -> None:
        self.running = True
        self._writer = EventWriter(self.folder)
        self._t0 = self._last_step = time.perf_counter()
        if self.seen is None:  # a run resumed without this callback's state: estimate
            self.seen = trainer.global_step * (getattr(trainer.train_data, "batch_size", 1) or 1)
        self._last_tick = 0.0
        self._params = list(trainer.model.parameters())
        self._timing_handles = [trainer.model.register_forward_pre_hook(self._fwd_begin),
                                trainer.model.register_forward_hook(self._fwd_end)]
        pool = probe.first_examples(trainer.val_data)
        self._panel = probe.ProbePanel(*pool, per_tick=self.probe_per_tick) if pool else None
        config = trainer.metadata.get("config", {})
        layers = [{"name": n, "type": type(m).__name__, "params": probe.param_count(m)}
                  for n, m in probe.leaf_modules(trainer.model)]
        self._emit({"t": "run", "step": trainer.global_step, "epoch": trainer.epoch,
                    "epochs": trainer.epochs, "steps_per_epoch": trainer.steps_per_epoch,
                    "batch_size": getattr(trainer.train_data, "batch_size", None),
                    "model": type(trainer.model).__name__, "layers": layers,
                    "params": probe.param_count(trainer.model), "config": config,
                    "classes": [str(c) for c in config.get("classes", [])],
                    "settings": ctl.optimizer_settings(trainer.optimizer), "wall": time.time()})

    def on_batch_end(self, trainer, step: int, logs: dict[str, float]) -> None:
        acc = self._acc
        n = 1
        acc["loss"] += logs["loss"]
        acc["acc"] += logs.get("batch_accuracy", 0.0)
        acc["n"] += n
        ips = logs.get("images_per_s", 0.0)
        batch = getattr(trainer.train_data, "batch_size", 1) or 1
        acc["step"] += batch / ips if ips and np.isfinite(ips) else 0.0
        acc["fwd"] += self._fwd_time
        self.seen += batch  # the epoch's last batch may be smaller: an upper bound by < 1 batch/epoch
        now = time.perf_counter()
        age = now - self._t0
        if self._capture is not None:
            self._emit({"t": "layers", "step": step, "layers": self._capture.finish()})
            self.spent += self._capture.cost  # its hooks ran inside the step
            self._capture = None
        if now - self._last_step >= max(self.step_interval, 0.002 * age):
            self._emit_step(trainer, step, batch)
            self._last_step = now
        if now - self._last_tick >= self.tick_interval and self._affordable(age):
            self._tick(trainer, step)
            self._last_tick = now
        self.spent += time.perf_counter() - now
        self._serve_commands(trainer, block=False)
        while self.paused and not trainer._interrupt:
            self._serve_commands(trainer, block=True)

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        event = {"t": "epoch", "step": trainer.global_step, **logs}
        start = time.perf_counter()
        confusion = _validation_confusion(trainer, self._affordable(start - self._t0))
        if confusion is not None:
            event["confusion"] = confusion
        self._emit(event)
        self.spent += time.perf_counter() - start
        if self._pending_batch_size is not None:
            self._apply_batch_size(trainer, self._pending_batch_size)
            self._pending_batch_size = None
        if self._stop_after_epoch:
            trainer.stop_training = True
            self._stop_after_epoch = False

    def on_train_end(self, trainer) -> None:
        self._emit({"t": "end", "step": trainer.global_step, "epoch": trainer.epoch})
        for h in self._timing_handles:
            h.remove()
        if self._capture is not None:
            self._capture.remove()
            self._capture = None
        self.running = False
        self._fail_waiting("training has ended")
        if self._writer is not None:
            self._writer.close()

    def state_dict(self) -> dict[str, Any]:
        return {"controls": list(self.controls), "seen": self.seen}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.controls = list(state.get("controls", []))
        self.seen = state.get("seen")

    # ------------------------------------------------------------------ internals
    def _affordable(self, age: float) -> bool:
        return self.spent <= self.budget * age
    def _emit(self, event: dict[str, Any]) -> None:
        if self._writer is not None:
            self._writer.write(event)

    def _fwd_begin(self, module, args) -> None:
        self._fwd_start = time.perf_counter()

    def _fwd_end(self, module, args, output) -> None:
        self._fwd_time = time.perf_counter() - self._fwd_start

    def _emit_step(self, trainer, step: int, batch: int) -> None:
        acc = self._acc
        k = max(acc["n"], 1)
        grads = [p.grad.array.ravel() for p in self._params if p.grad is not None]
        gnorm = float(np.sqrt(sum(np.dot(g, g) for g in grads))) if grads else None
        self._emit({"t": "step", "step": step, "epoch": trainer.epoch,
                    "batch": trainer.batch_in_epoch, "loss": acc["loss"] / k, "acc": acc["acc"] / k,
                    "lr": trainer.lr, "gnorm": gnorm, "seen": self.seen,
                    "fwd_ms": 1000 * acc["fwd"] / k / batch,
                    "bwd_ms": 1000 * max(acc["step"] - acc["fwd"], 0.0) / k / batch,
                    "paused": self.paused})
        self._acc = {"loss": 0.0, "acc": 0.0, "n": 0, "fwd": 0.0, "step": 0.0}

    def _tick(self, trainer, step: int) -> None:
        wd = float(trainer.optimizer.param_groups[0].get("weight_decay", 0.0))
        l2 = 0.5 * wd * sum(float(np.vdot(p.array, p.array)) for p in self._params)
        if self._panel is not None:
            self._emit({"t": "probe", "step": step, "l2_loss": l2, **self._panel.tick(trainer.model)})
        self._capture = probe.LayerCapture(trainer.model)  # hooks for the next step only

    def _serve_commands(self, trainer, block: bool) -> None:
        while True:
            try:
                kind, item = self.commands.get(timeout=0.2) if block else self.commands.get_nowait()
            except queue.Empty:
                return
            if kind == "predict":
                try:
                    item.result = probe.predict_probs(trainer.model, item.x)
                except Exception as e:  # reported to the page, training goes on
                    item.error = f"{type(e).__name__}: {e}"
                item.done.set()
            else:
                self._apply(trainer, item)
            block = False

    def _apply(self, trainer, control: dict[str, Any]) -> None:
        action = control["action"]
        record = {"step": trainer.global_step, "epoch": trainer.epoch, **control}
        if action == "pause":
            self.paused = True
        elif action == "resume":
            self.paused = False
        elif action == "set":
            record.update(ctl.apply_optimizer_settings(trainer.optimizer, control))
            if "batch_size" in control:
                self._pending_batch_size = control["batch_size"]
                record["takes_effect"] = "next epoch"
        elif action == "checkpoint":
            path = self.folder / "checkpoints" / f"manual-step{trainer.global_step}.safetensors"
            path.parent.mkdir(parents=True, exist_ok=True)
            record["path"] = str(trainer.save_checkpoint(path))
        elif action == "stop_after_epoch":
            self._stop_after_epoch = True
        self.controls.append(record)
        atomic_write_text(self.folder / "controls.json", json.dumps(self.controls, indent=1))
        self._emit({"t": "control", **record, "settings": ctl.optimizer_settings(trainer.optimizer)})
        self._emit({"t": "state", "step": trainer.global_step, "paused": self.paused})

    def _apply_batch_size(self, trainer, size: int) -> None:
        """Between epochs: the loader plans the next epoch with the new size; config.json
        follows so that `--resume` rebuilds the loader the checkpoint describes."""
        trainer.train_data.batch_size = size
        trainer.steps_per_epoch = len(trainer.train_data)
        config_path = self.folder / "config.json"
        if config_path.exists():
            config = json.loads(config_path.read_text())
            config["batch_size"] = size
            atomic_write_text(config_path, json.dumps(config, indent=1))
        if "config" in trainer.metadata:
            trainer.metadata["config"]["batch_size"] = size
        self._emit({"t": "control", "step": trainer.global_step, "epoch": trainer.epoch,
                    "action": "batch_size_applied", "batch_size": size})

    def _fail_waiting(self, reason: str) -> None:
        while True:
            try:
                kind, item = self.commands.get_nowait()
            except queue.Empty:
                return
            if kind == "predict":
                item.error = reason
                item.done.set()


def _validation_confusion(trainer, affordable: bool) -> list[list[int]] | None:
    """The validation confusion matrix: free from the trainer's own epoch-end evaluation, else
    (a trainer without it) by evaluating again when the budget allows."""
    if trainer.val_data is None:
        return None
    k = len(trainer.metadata.get("config", {}).get("classes", [])) or None
    result = getattr(trainer, "last_validation", None)
    if result is None:
        if not affordable:
            return None
        from striate.train.trainer import evaluate

        result = evaluate(trainer.model, trainer.val_data, loss=trainer.loss_fn, num_classes=k)
    matrix = np.asarray(result["confusion_matrix"])
    if k and matrix.shape[0] < k:  # evaluate() sizes it by the largest class seen
        matrix = np.pad(matrix, ((0, k - matrix.shape[0]), (0, k - matrix.shape[1])))
    return matrix.tolist()

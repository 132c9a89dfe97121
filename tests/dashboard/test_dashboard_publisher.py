"""The publisher callback on a real Trainer: events, controls between steps, resume."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from striate.dashboard import DashboardCallback
from striate.train import runs


def make(folder, epochs=1, batch_size=128, **options):
    """A digits run (1293 training images: 11 batches of 128 per epoch)."""
    cfg = runs.resolve_data(runs.RunConfig(epochs=epochs, batch_size=batch_size, **options))
    folder.mkdir(exist_ok=True)
    trainer = runs.make_trainer(cfg, folder, progress=False)
    cfg.save(folder)
    return cfg, trainer


def events(folder):
    return [json.loads(ln) for ln in (folder / "events.jsonl").read_text().splitlines()]


def test_the_dashboard_does_not_change_training(tmp_path):
    _, plain = make(tmp_path / "plain")
    plain.fit()
    _, watched = make(tmp_path / "watched")
    watched.callbacks.insert(0, DashboardCallback(tmp_path / "watched", tick_interval=0.0, step_interval=0.0,
                                                       budget=1.0))
    watched.fit()
    for (name, a), (_, b) in zip(plain.model.state_dict().items(), watched.model.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=name)
    kinds = {e["t"] for e in events(tmp_path / "watched")}
    assert {"run", "step", "layers", "probe", "epoch", "end"} <= kinds


def test_layer_statistics_describe_a_real_step(tmp_path):
    _, trainer = make(tmp_path)
    trainer.callbacks.insert(0, DashboardCallback(tmp_path, tick_interval=0.0, budget=1.0))
    trainer.fit()
    evs = events(tmp_path)
    layers = next(e for e in evs if e["t"] == "layers")["layers"]
    by_name = {row["name"]: row for row in layers}
    conv = by_name["conv1"]
    assert conv["params"] == 156 and conv["shape"] == [6, 28, 28]
    for key in ("act", "agrad", "w", "wgrad"):
        assert conv[key]["min"] <= conv[key]["mean"] <= conv[key]["max"]
        assert sum(conv[key]["hist"]) > 0
    assert 0 < conv["ratio"] < 1 and conv["map"]["c"] == 6
    assert (conv["filters"]["c"], conv["filters"]["h"], conv["filters"]["w"]) == (6, 5, 5)
    assert 0 <= by_name["relu1"]["dead"] <= 1
    probe = next(e for e in evs if e["t"] == "probe")
    top = [p for _, p in probe["items"][0]["top"]]
    assert len(probe["items"]) == 8 and top == sorted(top, reverse=True) and 0.1 <= top[0] <= 1
    epoch = next(e for e in evs if e["t"] == "epoch")
    assert np.asarray(epoch["confusion"]).shape == (10, 10) and np.sum(epoch["confusion"]) == 144
    step = next(e for e in evs if e["t"] == "step")
    assert step["fwd_ms"] > 0 and step["bwd_ms"] > 0 and step["gnorm"] > 0


def test_optional_work_stays_within_its_budget(tmp_path):
    _, trainer = make(tmp_path)
    cb = DashboardCallback(tmp_path, tick_interval=0.0, budget=0.0)
    trainer.callbacks.insert(0, cb)
    trainer.fit()
    kinds = [e["t"] for e in events(tmp_path)]
    assert kinds.count("layers") == 1 and kinds.count("probe") == 1  # the first tick only
    assert kinds.count("step") >= 2
    assert "confusion" in events(tmp_path)[-2]  # free: the trainer's own validation pass
    assert cb.spent > 0


def test_controls_are_applied_logged_and_survive_resume(tmp_path):
    cfg, trainer = make(tmp_path, epochs=2)
    cb = DashboardCallback(tmp_path)
    trainer.callbacks.insert(0, cb)
    cb.submit({"action": "set", "lr": 0.0123, "momentum": 0.8, "weight_decay": 1e-4, "batch_size": 256})
    trainer.fit()
    group = trainer.optimizer.param_groups[0]
    assert group["lr"] == 0.0123 and group["betas"][0] == 0.8 and group["weight_decay"] == 1e-4
    assert [r["lr"] for r in trainer.history.as_rows()] == [0.0123, 0.0123]
    logged = json.loads((tmp_path / "controls.json").read_text())
    assert logged[0]["step"] == 1 and logged[0]["lr"] == 0.0123
    # the batch size takes effect at the next epoch: 1293 examples = 11 batches of 128, then 6 of 256
    assert trainer.global_step == 11 + 6 and trainer.train_data.batch_size == 256
    assert json.loads((tmp_path / "config.json").read_text())["batch_size"] == 256

    cfg = runs.RunConfig.load(tmp_path)
    cfg.epochs = 3
    resumed = runs.make_trainer(cfg, tmp_path, progress=False)
    cb2 = DashboardCallback(tmp_path)
    resumed.callbacks.insert(0, cb2)
    resumed.load_checkpoint(tmp_path / "checkpoints" / "last.safetensors")
    assert cb2.controls == cb.controls
    assert resumed.optimizer.param_groups[0]["lr"] == 0.0123
    assert resumed.optimizer.param_groups[0]["betas"][0] == 0.8
    resumed.epochs = 3
    resumed.fit()
    assert resumed.global_step == 11 + 6 + 6


def test_pause_checkpoint_predict_and_stop_after_epoch(tmp_path):
    _, trainer = make(tmp_path, epochs=3)
    cb = DashboardCallback(tmp_path)
    trainer.callbacks.insert(0, cb)
    cb.submit({"action": "pause"})
    thread = threading.Thread(target=trainer.fit)
    thread.start()
    deadline = time.monotonic() + 60
    while not cb.paused and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cb.paused
    step = trainer.global_step
    time.sleep(0.5)
    assert trainer.global_step == step == 1
    probs = cb.predict(np.zeros((2, 1, 32, 32), np.float32))  # answered while paused
    assert probs.shape == (2, 10) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    cb.submit({"action": "checkpoint"})
    cb.submit({"action": "stop_after_epoch"})
    cb.submit({"action": "resume"})
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert trainer.epoch == 1 and (tmp_path / "checkpoints" / "manual-step1.safetensors").exists()
    actions = [c["action"] for c in json.loads((tmp_path / "controls.json").read_text())]
    assert actions == ["pause", "checkpoint", "stop_after_epoch", "resume"]
    with pytest.raises(RuntimeError, match="not training"):
        cb.predict(np.zeros((1, 1, 32, 32), np.float32))
    # a finished run (`striate dashboard RUN`) answers from its last checkpoint
    from striate.dashboard import RunSource

    probs = RunSource(tmp_path, cb).predict(np.zeros((1, 1, 32, 32), np.float32))
    assert probs.shape == (1, 10) and abs(probs.sum() - 1) < 1e-5

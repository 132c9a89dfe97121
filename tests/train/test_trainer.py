"""The training loop: accuracy on digits, exact resume, early stopping, plateau schedule,
NaN guard, random restarts."""

from __future__ import annotations

import numpy as np
import pytest

import striate as st
import striate.nn as nn
from striate.data import DataLoader
from striate.data.datasets import ArrayDataset
from striate.train import (
    EarlyStopping,
    ModelCheckpoint,
    NonFiniteLossError,
    ReduceLROnPlateau,
    Trainer,
    evaluate,
    random_restarts,
    runs,
)


@pytest.fixture(scope="module")
def digits_8x8():
    x, y, _ = runs.load_arrays("digits", train=True)
    xt, yt, _ = runs.load_arrays("digits", train=False)
    mean, std = float(x.mean()), float(x.std())
    return (x - mean) / std, y, (xt - mean) / std, yt


def small_net():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Dropout(0.2), nn.Linear(8 * 4 * 4, 10))


def make(data, epochs, seed=0, callbacks=(), lr=0.05, scheduler=None, **kw):
    x, y, xt, yt = data
    st.manual_seed(seed)
    model = small_net()
    opt = st.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    if scheduler == "plateau":
        scheduler = st.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    loader = DataLoader(ArrayDataset(x, y), batch_size=64, shuffle=True, seed=seed)
    val = DataLoader(ArrayDataset(xt, yt), batch_size=256)
    return Trainer(model, opt, loader, val=val, epochs=epochs, callbacks=list(callbacks),
                   progress=False, scheduler=scheduler, **kw)


def test_lenet5_reaches_95_percent_on_digits(tmp_path):
    # On PyTorch's random stream (weights as torch.manual_seed(s) gives them) the last-epoch test
    # accuracy after 8 epochs was 94.7 / 97.2 / 96.9 / 95.8% for seeds 0-3, after 12 epochs
    # 96.1 / 96.4 / 96.9 / 95.8%: 12 epochs clear 95% without choosing a seed.
    cfg = runs.RunConfig(epochs=12, seed=0)
    trainer = runs.make_trainer(cfg, tmp_path, progress=False)
    trainer.fit()
    result = runs.test_metrics(cfg, trainer.model)
    assert result["accuracy"] >= 0.95, result["accuracy"]
    assert result["confusion_matrix"].sum() == result["n"] == 360
    history = trainer.history
    assert len(history) == cfg.epochs and history["loss"][-1] < history["loss"][0]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"} <= set(history.rows[0])


def test_resume_is_bitwise_identical(digits_8x8, tmp_path):
    straight = make(digits_8x8, epochs=4)
    straight.fit()

    first = make(digits_8x8, epochs=2, callbacks=[ModelCheckpoint(tmp_path)])
    first.fit()
    st.manual_seed(12345)  # a fresh process would start from another random state
    second = make(digits_8x8, epochs=4, seed=999)
    second.load_checkpoint(tmp_path / "last.safetensors")
    assert second.epoch == 2
    second.fit()
    a, b = straight.model.state_dict(), second.model.state_dict()
    for k in a:
        assert np.array_equal(np.asarray(a[k]), np.asarray(b[k])), k
    assert straight.history["loss"] == second.history["loss"]


def test_resume_mid_epoch_is_bitwise_identical(digits_8x8, tmp_path):
    straight = make(digits_8x8, epochs=2)
    straight.fit()
    stopper = make(digits_8x8, epochs=2)

    class StopAt(st.train.Callback):
        def on_batch_end(self, trainer, step, logs):
            if step == 7:
                trainer.save_checkpoint(tmp_path / "mid.safetensors")

    stopper.callbacks.append(StopAt())
    stopper.fit()
    resumed = make(digits_8x8, epochs=2, seed=5)
    resumed.load_checkpoint(tmp_path / "mid.safetensors")
    assert (resumed.epoch, resumed.batch_in_epoch) == (0, 7)
    resumed.fit()
    for k, v in straight.model.state_dict().items():
        assert np.array_equal(np.asarray(v), np.asarray(resumed.model.state_dict()[k])), k


def test_early_stopping_restores_best_weights(digits_8x8):
    stopper = EarlyStopping(monitor="val_loss", patience=1)
    # lr so high that validation loss gets worse after the first epochs
    trainer = make(digits_8x8, epochs=30, lr=0.9, callbacks=[stopper])
    seen = {}

    class Snap(st.train.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            seen[epoch] = {k: np.array(v) for k, v in trainer.model.state_dict().items()}

    trainer.callbacks.append(Snap())
    trainer.fit()
    assert stopper.stopped_epoch is not None and len(trainer.history) < 30
    best = seen[stopper.best_epoch]
    for k, v in trainer.model.state_dict().items():
        assert np.array_equal(np.asarray(v), best[k]), k
    val_losses = trainer.history["val_loss"]
    assert min(val_losses) == val_losses[stopper.best_epoch]


def test_reduce_lr_on_plateau_lowers_the_rate(digits_8x8):
    cb = ReduceLROnPlateau(monitor="val_loss", factor=0.1, patience=0)
    trainer = make(digits_8x8, epochs=6, lr=0.9, callbacks=[cb])
    trainer.fit()
    lrs = trainer.history["lr"]
    assert lrs[0] == pytest.approx(0.9)
    assert trainer.lr < 0.9 * 0.5


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the training diverges on purpose
def test_nan_guard_names_step_and_causes(digits_8x8, tmp_path):
    trainer = make(digits_8x8, epochs=3, lr=1e6, callbacks=[ModelCheckpoint(tmp_path)],
                   checkpoint_dir=tmp_path)
    with pytest.raises(NonFiniteLossError, match=r"epoch \d+, batch \d+.*learning rate"):
        trainer.fit()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the training diverges on purpose
def test_nan_guard_keeps_last_good_checkpoint(digits_8x8, tmp_path):
    trainer = make(digits_8x8, epochs=3, callbacks=[ModelCheckpoint(tmp_path)], checkpoint_dir=tmp_path)

    class Explode(st.train.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            for g in trainer.optimizer.param_groups:
                g["lr"] = 1e8

    trainer.callbacks.append(Explode())
    with pytest.raises(NonFiniteLossError, match="last good checkpoint"):
        trainer.fit()
    state = st.load(tmp_path / "last.safetensors")
    assert state["epoch"] == 1
    for v in state["model"].values():
        assert np.isfinite(np.asarray(v, dtype=np.float64)).all()


def test_random_restarts_keep_the_best(digits_8x8):
    x, y, xt, yt = digits_8x8

    def build():
        model = small_net()
        return model, st.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def train(model, opt):
        loader = DataLoader(ArrayDataset(x[:300], y[:300]), batch_size=50, shuffle=True, seed=0)
        return Trainer(model, opt, loader, epochs=1, progress=False).fit()

    best, results = random_restarts(3, build, train, monitor="loss", mode="min")
    values = [r["value"] for r in results]
    assert len(set(values)) == 3  # different seeds, different results
    best_loss = evaluate(best, (x[:300], y[:300]))["loss"]
    chosen = results[int(np.argmin(values))]
    assert chosen["value"] == min(values)
    assert np.isfinite(best_loss)


def test_evaluate_reports_accuracy_loss_and_confusion(digits_8x8):
    x, y, xt, yt = digits_8x8
    trainer = make(digits_8x8, epochs=2)
    trainer.fit()
    result = evaluate(trainer.model, (xt, yt), num_classes=10)
    cm = result["confusion_matrix"]
    assert cm.shape == (10, 10) and cm.sum() == len(yt)
    assert result["accuracy"] == pytest.approx(np.trace(cm) / cm.sum())
    assert result["loss"] > 0

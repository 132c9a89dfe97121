"""Run folders: what `striate train` writes and `striate evaluate` / `predict` read.

A run folder holds
    config.json         every option of the run (enough to rebuild model, data and optimizer)
    checkpoints/        last.safetensors, best.safetensors (full resumable checkpoints)
    history.json/.csv   per-epoch metrics
    result.json         the test metrics of the finished run (accuracy, loss, confusion matrix)
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from striate.train.run_config import NotARunError, ResumeConflictError, RunConfig

__all__ = ["ModelDoesNotFitError", "NotARunError", "ResumeConflictError", "RunConfig", "load_model",
           "load_run", "make_trainer", "prepare_data", "resolve_data", "test_metrics"]

# Input side length each model family was designed for; data of another size is padded
# (a difference of a few pixels, as LeCun padded 28x28 MNIST to 32x32) or resized.
MODEL_INPUT_SIDE = {"lenet5": 32, "lenet5_modern": 32, "mnist_convnet": 28, "convnetjs_cifar": 32,
                    "resnet18_cifar": 32, "resnet18": 32, "resnet34": 32, "resnet50": 32}

MIRROR_SAFE = {"fashion_mnist", "fashion-mnist", "cifar10"}

# RunConfig fields that are model constructor options (mnist_convnet's size options)
SIZE_OPTIONS = ("width", "dropout", "hidden", "convs_per_block", "kernel_size")


DATASETS = {"digits": "Digits", "mnist": "MNIST", "fashion_mnist": "FashionMNIST",
            "fashion-mnist": "FashionMNIST", "cifar10": "CIFAR10"}


class ModelDoesNotFitError(ValueError):
    """The model cannot run on the run's data at the chosen input size."""


# ---------------------------------------------------------------------------- data
def load_arrays(name: str, train: bool, root: str | None = None, download: bool = False
                ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A dataset split as (X float32 NCHW in [0, 1], y int64, class names)."""
    from striate.data import datasets

    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(sorted(DATASETS))}")
    cls = getattr(datasets, DATASETS[name])
    ds = cls(root=root, train=train, download=True) if download else cls(root=root, train=train)
    x, y = ds.arrays()
    return x, y, list(getattr(ds, "classes", [str(i) for i in range(int(y.max()) + 1)]))


def fit_side(x: np.ndarray, side: int) -> np.ndarray:
    """Bring NCHW images to side x side: centred zero padding for a small difference, else
    bilinear resizing (8x8 digits -> 32x32 for LeNet-5)."""
    h, w = x.shape[2:]
    if (h, w) == (side, side):
        return x
    dh, dw = side - h, side - w
    if 0 < dh <= 4 and dh == dw and dh % 2 == 0:
        p = dh // 2
        return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    from striate.data.transforms import Resize

    return np.asarray(Resize((side, side))(x), dtype=np.float32)


def channel_stats(x: np.ndarray) -> tuple[list[float], list[float]]:
    mean = x.mean(axis=(0, 2, 3), dtype=np.float64)
    std = x.std(axis=(0, 2, 3), dtype=np.float64)
    return [float(m) for m in mean], [float(s) if s > 0 else 1.0 for s in std]


def normalise(x: np.ndarray, cfg: RunConfig) -> np.ndarray:
    mean = np.asarray(cfg.mean, np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(cfg.std, np.float32).reshape(1, -1, 1, 1)
    return ((x - mean) / std).astype(np.float32)


def dark_background(x: np.ndarray) -> bool:
    """Whether images have a dark background (MNIST, digits: bright strokes on black): the mean of
    their border pixels is below the middle of the range."""
    border = np.concatenate([x[:, :, 0, :], x[:, :, -1, :], x[:, :, :, 0], x[:, :, :, -1]], axis=-1)
    return bool(border.mean() < 0.5)


def resolve_data(cfg: RunConfig, train_arrays: tuple | None = None) -> RunConfig:
    """`cfg` with the values measured from its training data (input size, channels, classes,
    normalisation, how to rebuild the model) filled in: a new config, `cfg` is not changed."""
    if cfg.input_side and cfg.mean and cfg.model_spec:
        return cfg
    x, y, classes = train_arrays or load_arrays(cfg.dataset, True, cfg.data_root, cfg.download)
    side = cfg.input_side or cfg.resize or MODEL_INPUT_SIDE.get(cfg.model, x.shape[2])
    mean, std = channel_stats(fit_side(x, side))
    out = replace(cfg, input_side=int(side), in_channels=int(x.shape[1]), num_classes=int(y.max()) + 1,
                  classes=list(classes), mean=mean, std=std, dark_background=dark_background(x))
    return replace(out, model_spec=out.model_spec or model_spec(out))


def preprocess(x: np.ndarray, cfg: RunConfig) -> np.ndarray:
    """The run's fixed preprocessing of NCHW images in [0, 1]: its size, then its normalisation."""
    return normalise(fit_side(x, cfg.input_side), cfg)


def prepare_data(cfg: RunConfig, train: bool = True) -> tuple[RunConfig, np.ndarray, np.ndarray]:
    """Load a split; returns the resolved config and the preprocessed (x, y)."""
    x, y, classes = load_arrays(cfg.dataset, train, cfg.data_root, cfg.download)
    cfg = resolve_data(cfg, (x, y, classes) if train else None)
    return cfg, preprocess(x, cfg), y.astype(np.int64)


def prepare(cfg: RunConfig, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """Load a split and apply the run's fixed preprocessing (size, normalisation)."""
    _, x, y = prepare_data(cfg, train)
    return x, y


# ---------------------------------------------------------------------------- model, optimizer
def model_spec(cfg: RunConfig) -> dict[str, Any]:
    """How to rebuild the run's model: `st.models.get_model(spec["name"], **spec["kwargs"])`."""
    kwargs: dict[str, Any] = {"num_classes": cfg.num_classes, "in_channels": cfg.in_channels}
    defaults = RunConfig()
    for name in SIZE_OPTIONS:  # passed only when set, so models without the option still build
        if getattr(cfg, name) != getattr(defaults, name):
            kwargs[name] = getattr(cfg, name)
    return {"name": cfg.model, "kwargs": kwargs}


def build_model(cfg: RunConfig):
    from striate import models

    spec = cfg.model_spec or model_spec(cfg)
    return models.get_model(spec["name"], **spec["kwargs"])


def check_model_fits(cfg: RunConfig, model) -> None:
    """Run one blank example through `model`; raise ModelDoesNotFitError naming the size it needs."""
    from striate import models
    from striate.autograd.function import no_grad
    from striate.creation import zeros

    was_training = model.training
    model.eval()
    try:
        with no_grad(), np.errstate(all="ignore"):
            model(zeros(1, cfg.in_channels, cfg.input_side, cfg.input_side))
    except (ValueError, RuntimeError, IndexError) as e:
        c, h, w = models.default_input_size(cfg.model)
        raise ModelDoesNotFitError(
            f"model {cfg.model} cannot run on {cfg.dataset}'s images at {cfg.input_side}x{cfg.input_side} "
            f"({e}); it was designed for {h}x{w}: add --resize {h} (slow on a CPU), or choose a model "
            f"made for small images: {', '.join(sorted(MODEL_INPUT_SIDE))}") from None
    finally:
        model.train(was_training)


def build_optimizer(cfg: RunConfig, params):
    from striate import optim

    name = cfg.optimizer.lower()
    if name == "sgd":
        return optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    table = {"adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad,
             "adadelta": optim.Adadelta}
    if name not in table:
        raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose sgd, adam, adamw, rmsprop, "
                         "adagrad or adadelta")
    return table[name](params, lr=cfg.lr, weight_decay=cfg.weight_decay)


# The command line's schedule names: each builds a schedule over `epochs` epochs (the run's, or
# what remains of it when a resume changed the schedule).
SCHEDULERS = {
    "none": lambda sch, opt, cfg, epochs, steps: None,
    "step": lambda sch, opt, cfg, epochs, steps: sch.StepLR(opt, step_size=max(1, epochs // 3), gamma=0.1),
    "cosine": lambda sch, opt, cfg, epochs, steps: sch.CosineAnnealingLR(opt, T_max=epochs),
    "plateau": lambda sch, opt, cfg, epochs, steps: sch.ReduceLROnPlateau(opt, mode="min", factor=0.1,
                                                                          patience=2),
    "onecycle": lambda sch, opt, cfg, epochs, steps: sch.OneCycleLR(opt, max_lr=cfg.lr, epochs=epochs,
                                                                    steps_per_epoch=steps),
}


def check_names(cfg: RunConfig) -> None:
    """Refuse unknown model, dataset, optimizer and schedule names before anything is loaded."""
    from striate import models

    models.default_input_size(cfg.model)  # ValueError naming the models
    if cfg.model == "unet":
        raise ValueError("unet is a segmentation model (one class per pixel); `striate train` trains "
                         "classifiers: choose another --model")
    if cfg.dataset not in DATASETS:
        raise ValueError(f"unknown dataset {cfg.dataset!r}; choose one of {', '.join(sorted(DATASETS))}")
    if cfg.scheduler.lower() not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {cfg.scheduler!r}; choose {', '.join(SCHEDULERS)}")
    if cfg.optimizer.lower() not in ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta"):
        raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose sgd, adam, adamw, rmsprop, "
                         "adagrad or adadelta")
    if cfg.kernel_size and cfg.kernel_size % 2 == 0:
        raise ValueError(f"--kernel-size must be odd, got {cfg.kernel_size}")


def build_scheduler(cfg: RunConfig, optimizer, steps_per_epoch: int, epochs: int | None = None):
    from striate.optim import lr_scheduler as sch

    name = cfg.scheduler.lower()
    if name not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {cfg.scheduler!r}; choose {', '.join(SCHEDULERS)}")
    return SCHEDULERS[name](sch, optimizer, cfg, epochs or cfg.epochs, steps_per_epoch)


def split_validation(x: np.ndarray, y: np.ndarray, fraction: float, seed: int):
    """A deterministic, seeded validation split taken from the training set."""
    if not fraction:
        return (x, y), None
    if not 0 < fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {fraction}")
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = max(1, int(round(len(x) * fraction)))
    val, tr = order[:n_val], order[n_val:]
    return (x[tr], y[tr]), (x[val], y[val])


# ---------------------------------------------------------------------------- the run
def seeded_model(cfg: RunConfig):
    """The run's model with the initial weights its seed gives (the global stream is seeded
    first, so a run and its rebuilds start from the same weights)."""
    from striate import random as st_random

    st_random.manual_seed(cfg.seed)
    return build_model(cfg)


def make_trainer(cfg: RunConfig, folder: Path, progress: bool = True, data: tuple | None = None,
                 comm: Any = None, model: Any = None):
    """Build data, model, optimizer, scheduler and callbacks for `cfg` (fresh or resumed).

    `data`: the (resolved cfg, x, y) of `prepare_data`, when the caller has loaded them already.
    The trainer's `metadata["config"]` is the resolved config. `comm`: an
    `st.distributed.Communicator` of more than one rank trains data-parallel. `model`: the
    `seeded_model(cfg)` the caller built already (to check that it fits), not built twice."""
    from striate.data import DataLoader
    from striate.data.datasets import ArrayDataset
    from striate.train.callbacks import EarlyStopping, HistoryLogger, ModelCheckpoint
    from striate.train.trainer import Trainer

    cfg, x, y = data or prepare_data(cfg, train=True)
    (xt, yt), val = split_validation(x, y, cfg.val_fraction, cfg.seed)
    transform = None
    if cfg.augment:
        from striate.data import transforms as T

        # ConvNetJS's shifts of up to 2 px; mirror images too where a mirrored item is still
        # the same class (clothes, CIFAR objects; not digits)
        transform = T.RandomCrop(cfg.input_side, padding=2, seed=cfg.seed)
        if cfg.dataset in MIRROR_SAFE:
            transform = T.Compose([transform, T.RandomHorizontalFlip(seed=cfg.seed + 1)])
    train_loader = DataLoader(ArrayDataset(xt, yt, transform=transform), batch_size=cfg.batch_size,
                              shuffle=True, seed=cfg.seed)
    val_loader = DataLoader(ArrayDataset(*val), batch_size=256) if val is not None else None
    model = seeded_model(cfg) if model is None else model  # nothing above draws from the stream
    optimizer = build_optimizer(cfg, model.parameters())
    scheduler = build_scheduler(cfg, optimizer, len(train_loader))
    monitor = "val_accuracy" if val_loader is not None else "accuracy"
    callbacks = [ModelCheckpoint(folder / "checkpoints", monitor=monitor), HistoryLogger(folder)]
    if cfg.early_stopping:
        callbacks.append(EarlyStopping(monitor=monitor, patience=cfg.early_stopping))
    return Trainer(model, optimizer, train_loader, val=val_loader, scheduler=scheduler,
                   callbacks=callbacks, epochs=cfg.epochs, clip_grad_norm=cfg.clip_grad,
                   input_noise=cfg.jitter, checkpoint_dir=folder / "checkpoints", progress=progress,
                   metadata={"config": asdict(cfg)}, sync_batchnorm=cfg.sync_batchnorm,
                   distributed=comm if comm is not None and comm.size > 1 else False)


def resume_trainer(cfg: RunConfig, folder: Path, state: dict[str, Any], progress: bool = True,
                   comm: Any = None, attach: Any = None):
    """A trainer that continues the run in `folder` from checkpoint `state`, with the options
    that `cfg.resumes` records as changed at this resume applied (a changed epoch count,
    learning rate or schedule starts a new schedule over the remaining epochs at the new rate).
    `comm`: data-parallel ranks (see `make_trainer`); `attach(trainer)` adds callbacks (the
    dashboard) before the checkpoint's callback states are loaded."""
    trainer = make_trainer(cfg, folder, progress=progress, comm=comm)
    if attach is not None:
        attach(trainer)
    changed = cfg.resumes[-1]["changed"] if cfg.resumes and \
        cfg.resumes[-1]["at_epoch"] == int(state["epoch"]) else {}
    if int(state["epoch"]) >= cfg.epochs and "epochs" in changed:
        raise ResumeConflictError(f"the run has done {state['epoch']} epochs already; --epochs must be more "
                             "than that to extend it")
    if {"epochs", "lr", "scheduler"} & set(changed):
        state = {k: v for k, v in state.items() if k != "scheduler"}
    trainer.load_state_dict(state)
    if {"epochs", "lr", "scheduler"} & set(changed):
        for group in trainer.optimizer.param_groups:
            group.pop("initial_lr", None)
            if "lr" in changed:
                group["lr"] = cfg.lr
        remaining = max(1, cfg.epochs - trainer.epoch)
        trainer.scheduler = build_scheduler(cfg, trainer.optimizer, trainer.steps_per_epoch, remaining)
    return trainer


def new_run_folder(base: str | os.PathLike, cfg: RunConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = Path(base) / f"{cfg.model}-{cfg.dataset}-{stamp}"
    n = 1
    while folder.exists():
        n += 1
        folder = Path(base) / f"{cfg.model}-{cfg.dataset}-{stamp}-{n}"
    folder.mkdir(parents=True)
    return folder


def load_model(folder: str | os.PathLike, which: str = "best"):
    """(config, model) of a run: the model rebuilt from config.json with the weights of its best
    (or last) checkpoint; a corrupt checkpoint falls back to the previous good one with a warning."""
    from striate.train.callbacks import read_checkpoint

    folder = Path(folder)
    cfg = RunConfig.load(folder)
    if not cfg.model_spec:  # a run folder of an older striate
        cfg = replace(cfg, model_spec=model_spec(cfg))
    model = build_model(cfg)
    names = [which, "last"] if which != "last" else ["last"]
    state = read_checkpoint(folder / "checkpoints", names)
    model.load_state_dict(state.get("model", state))
    model.eval()
    return cfg, model


def load_run(folder: str | os.PathLike, which: str = "best"):
    """The model of a run folder with its weights (`st.train.load_run("runs/lenet5_modern-...")`)."""
    return load_model(folder, which)[1]


def test_metrics(cfg: RunConfig, model) -> dict[str, Any]:
    from striate.train.trainer import evaluate

    x, y = prepare(cfg, train=False)
    return evaluate(model, (x, y), batch_size=256, num_classes=cfg.num_classes)

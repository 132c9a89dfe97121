"""Run folders: what `striate train` writes and `striate evaluate` / `predict` read.

A run folder holds
    config.json         every option of the run (enough to rebuild model, data and optimizer)
    checkpoints/        last.safetensors, best.safetensors (full resumable checkpoints)
    history.json/.csv   per-epoch metrics
    result.json         the test metrics of the finished run (accuracy, loss, confusion matrix)
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from striate.io_atomic import atomic_write_text

# Input side length each model family was designed for; data of another size is padded
# (a difference of a few pixels, as LeCun padded 28x28 MNIST to 32x32) or resized.
MODEL_INPUT_SIDE = {"lenet5": 32, "mnist_convnet": 28, "convnetjs_cifar": 32, "resnet18_cifar": 32,
                    "resnet18": 32, "resnet34": 32, "resnet50": 32}


MIRROR_SAFE = {"fashion_mnist", "fashion-mnist", "cifar10"}

# RunConfig fields that are model constructor options (mnist_convnet's size options)
SIZE_OPTIONS = ("width", "dropout", "hidden", "convs_per_block", "kernel_size")


@dataclass
class RunConfig:
    """Every option of a training run, saved as config.json."""

    model: str = "lenet5"
    variant: str = "modern"
    dataset: str = "digits"
    data_root: str | None = None
    epochs: int = 20
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 0.001
    momentum: float = 0.9
    weight_decay: float = 0.0
    scheduler: str = "none"
    val_fraction: float = 0.1
    early_stopping: int = 0
    augment: bool = False
    jitter: float = 0.0
    clip_grad: float | None = None
    seed: int = 0
    width: int = 1
    dropout: float = 0.0
    hidden: int = 0
    convs_per_block: int = 1
    kernel_size: int = 0
    sync_batchnorm: bool = False  # data-parallel runs: batch norm over the global batch (issue 19)
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    input_side: int = 0
    num_classes: int = 0
    in_channels: int = 0
    classes: list[str] = field(default_factory=list)

    def save(self, folder: Path) -> None:
        atomic_write_text(folder / "config.json", json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, folder: Path) -> RunConfig:
        path = Path(folder) / "config.json"
        if not path.exists():
            raise FileNotFoundError(
                f"{folder} is not a striate run folder (no config.json); pass the folder that "
                "`striate train` printed"
            )
        data = json.loads(path.read_text())
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


# ---------------------------------------------------------------------------- data
def load_arrays(name: str, train: bool, root: str | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A dataset split as (X float32 NCHW in [0, 1], y int64, class names)."""
    from striate.data import datasets

    registry = {"digits": datasets.Digits, "mnist": datasets.MNIST,
                "fashion_mnist": datasets.FashionMNIST, "fashion-mnist": datasets.FashionMNIST,
                "cifar10": datasets.CIFAR10}
    if name not in registry:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(registry)}")
    ds = registry[name](root=root, train=train)
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


def prepare(cfg: RunConfig, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """Load a split and apply the run's fixed preprocessing (size, normalisation)."""
    x, y, classes = load_arrays(cfg.dataset, train, cfg.data_root)
    if not cfg.input_side:
        cfg.input_side = MODEL_INPUT_SIDE.get(cfg.model, x.shape[2])
        cfg.in_channels, cfg.num_classes = int(x.shape[1]), int(y.max()) + 1
        cfg.classes = classes
    x = fit_side(x, cfg.input_side)
    if not cfg.mean:
        cfg.mean, cfg.std = channel_stats(x)
    return normalise(x, cfg), y.astype(np.int64)


# ---------------------------------------------------------------------------- model, optimizer
def build_model(cfg: RunConfig):
    from striate import models

    kwargs: dict[str, Any] = {"num_classes": cfg.num_classes, "in_channels": cfg.in_channels}
    if cfg.model == "lenet5":
        kwargs["variant"] = cfg.variant
    defaults = RunConfig()
    for name in SIZE_OPTIONS:  # passed only when set, so models without the option still build
        if getattr(cfg, name) != getattr(defaults, name):
            kwargs[name] = getattr(cfg, name)
    return models.get_model(cfg.model, **kwargs)


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


def build_scheduler(cfg: RunConfig, optimizer, steps_per_epoch: int):
    from striate.optim import lr_scheduler as sch

    name = cfg.scheduler.lower()
    if name == "none":
        return None
    if name == "step":
        return sch.StepLR(optimizer, step_size=max(1, cfg.epochs // 3), gamma=0.1)
    if name == "cosine":
        return sch.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    if name == "plateau":
        return sch.ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=2)
    if name == "onecycle":
        return sch.OneCycleLR(optimizer, max_lr=cfg.lr, epochs=cfg.epochs, steps_per_epoch=steps_per_epoch)
    raise ValueError(f"unknown scheduler {cfg.scheduler!r}; choose none, step, cosine, plateau, onecycle")


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
def make_trainer(cfg: RunConfig, folder: Path, progress: bool = True, comm: Any = None):
    """Build data, model, optimizer, scheduler and callbacks for `cfg` (fresh or resumed).
    `comm`: an `st.distributed.Communicator` of more than one rank trains data-parallel."""
    from striate import random as st_random
    from striate.data import DataLoader
    from striate.data.datasets import ArrayDataset
    from striate.train.callbacks import EarlyStopping, HistoryLogger, ModelCheckpoint
    from striate.train.trainer import Trainer

    st_random.manual_seed(cfg.seed)
    x, y = prepare(cfg, train=True)
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
    model = build_model(cfg)
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


def new_run_folder(base: str | os.PathLike, cfg: RunConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = Path(base) / f"{cfg.model}-{cfg.dataset}-{stamp}"
    n = 1
    while folder.exists():
        n += 1
        folder = Path(base) / f"{cfg.model}-{cfg.dataset}-{stamp}-{n}"
    folder.mkdir(parents=True)
    return folder


def load_model(folder: Path, which: str = "best"):
    """The model of a finished run, with the weights of its best (or last) checkpoint."""
    from striate.io import load

    cfg = RunConfig.load(folder)
    model = build_model(cfg)
    path = folder / "checkpoints" / f"{which}.safetensors"
    if not path.exists():
        path = folder / "checkpoints" / "last.safetensors"
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint in {folder / 'checkpoints'}; did the run finish an epoch?")
    state = load(path)
    model.load_state_dict(state.get("model", state))
    model.eval()
    return cfg, model


def test_metrics(cfg: RunConfig, model) -> dict[str, Any]:
    from striate.train.trainer import evaluate

    x, y = prepare(cfg, train=False)
    return evaluate(model, (x, y), batch_size=256, num_classes=cfg.num_classes)

"""`RunConfig`: every option of a training run, in one place.

Each option is one dataclass field that carries its default, its help text and whether it may
change when a run is resumed. `striate train`'s flags are generated from these fields (so a
default lives only here), `RunConfig.from_args` reads back the flags the user actually gave,
and `RunConfig.resumed_with` applies the changeable ones to a saved run and names the others.

Fields marked `derived` are not options: they are what the run measured from its training data
(input size, channels, classes, normalisation) and are filled in by `runs.resolve_data`, which
returns a new config instead of changing the one it was given.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from striate.io_atomic import atomic_write_text

# what may change when a run is resumed: how long and how fast it goes on, never what it is
RESUMABLE = "resume"  # the flag may change on --resume; the change is recorded in `resumes`
FIXED = "fixed"  # refused on --resume: it would make a different run


def option(default: Any, help: str, *, on_resume: str = FIXED, flag: str | None = None, **argparse_kw: Any):
    """A run option: a dataclass field with its command-line help and its resume policy."""
    meta = {"help": help, "on_resume": on_resume, "flag": flag, "argparse": argparse_kw}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


def derived(default_factory=None, default: Any = None):
    """A value the run measures from its data; not a command-line option."""
    meta = {"derived": True}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or a positive number, got {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


# argparse names the type in its message: "invalid integer value: 'x'"
for _fn, _name in ((_positive_int, "integer"), (_non_negative_int, "integer"), (_positive_float, "number"),
                   (_non_negative_float, "number"), (_fraction, "number")):
    _fn.__name__ = _name


@dataclass
class RunConfig:
    """Every option of a training run, saved as config.json."""

    model: str = option("lenet5_modern", "model name from st.models; `striate train --help` lists "
                        "which fit which dataset")
    dataset: str = option("digits", "digits (embedded), mnist, fashion_mnist, cifar10")
    data_root: str | None = option(None, "folder holding the dataset files", on_resume=RESUMABLE)
    download: bool = option(False, "download the dataset if it is not found (needs internet; checked "
                            "against its published checksum)", on_resume=RESUMABLE, action="store_true")
    resize: int = option(0, "bring images to SIDE x SIDE pixels (0: the model's own input size)",
                         metavar="SIDE", type=_non_negative_int)
    epochs: int = option(20, "passes over the training set", on_resume=RESUMABLE, type=_positive_int)
    batch_size: int = option(32, "mini-batch size", type=_positive_int)
    optimizer: str = option("adam", "sgd, adam, adamw, rmsprop, adagrad, adadelta")
    lr: float = option(0.001, "learning rate", on_resume=RESUMABLE, type=_positive_float)
    momentum: float = option(0.9, "SGD/RMSprop momentum", type=_non_negative_float)
    weight_decay: float = option(0.0, "L2 weight decay", type=_non_negative_float)
    scheduler: str = option("none", "learning-rate schedule: none, step, cosine, plateau, onecycle",
                            on_resume=RESUMABLE)
    val_fraction: float = option(0.1, "fraction of the training set held out for validation",
                                 type=_fraction)
    early_stopping: int = option(0, "stop after PATIENCE epochs without validation improvement (0: off)",
                                 on_resume=RESUMABLE, metavar="PATIENCE", type=_non_negative_int)
    augment: bool = option(False, "random shifts of up to 2 px (ConvNetJS), plus mirroring for "
                           "clothes/objects", action="store_true")
    jitter: float = option(0.0, "std of Gaussian input noise", type=_non_negative_float)
    clip_grad: float | None = option(None, "clip the global gradient norm", on_resume=RESUMABLE,
                                     metavar="NORM", type=_positive_float)
    seed: int = option(0, "random seed", type=int)
    width: int = option(1, "channel multiplier (mnist_convnet)", type=_positive_int)
    dropout: float = option(0.0, "dropout before the classifier (mnist_convnet)", type=_fraction)
    hidden: int = option(0, "units of a fully connected hidden layer before the classifier "
                         "(mnist_convnet; 0: none)", type=_non_negative_int)
    convs_per_block: int = option(1, "Conv-BN-ReLU layers before each pool (mnist_convnet)",
                                  type=_positive_int)
    kernel_size: int = option(0, "odd filter size (mnist_convnet; 0: the model's own, 5)",
                              type=_non_negative_int)
    sync_batchnorm: bool = option(False, "under mpirun: batch norm statistics over the whole global batch "
                                  "(default: per rank)", flag="--sync-bn", action="store_true")
    # measured from the training data (see runs.resolve_data)
    mean: list[float] = derived(list)
    std: list[float] = derived(list)
    input_side: int = derived(default=0)
    num_classes: int = derived(default=0)
    in_channels: int = derived(default=0)
    classes: list[str] = derived(list)
    dark_background: bool = derived(default=True)
    # how to rebuild the model: {"name": ..., "kwargs": {...}} (see runs.model_spec)
    model_spec: dict[str, Any] = derived(dict)
    # each resume that changed an option: {"at_epoch": E, "changed": {name: [old, new]}}
    resumes: list[dict[str, Any]] = derived(list)

    # ------------------------------------------------------------------ files
    def save(self, folder: Path) -> None:
        atomic_write_text(Path(folder) / "config.json", json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, folder: Path) -> RunConfig:
        path = Path(folder) / "config.json"
        if not path.is_file():
            raise NotARunError(f"{folder} is not a striate run folder (no config.json); pass a folder "
                               "that `striate train` printed as 'run folder: ...'")
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise NotARunError(f"{path} is not readable JSON ({e}); the run folder is damaged") from None
        if not isinstance(data, dict):
            raise NotARunError(f"{path} does not hold a run configuration")
        data = _upgrade(data)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    # ------------------------------------------------------------------ command line
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """One flag per option, with the default from the field (flags not given stay unset)."""
        for f in fields(cls):
            if f.metadata.get("derived"):
                continue
            meta = f.metadata
            default = f.default if f.default is not MISSING else f.default_factory()
            kw = dict(meta["argparse"])
            if kw.get("action") != "store_true":
                kw.setdefault("type", _TYPES.get(f.type, str))
            suffix = "" if kw.get("action") == "store_true" else f" (default {default})"
            resume = "; may change on --resume" if meta["on_resume"] == RESUMABLE else ""
            parser.add_argument(meta["flag"] or "--" + f.name.replace("_", "-"), dest=f.name,
                                default=argparse.SUPPRESS, help=meta["help"] + suffix + resume, **kw)

    @classmethod
    def given(cls, args: argparse.Namespace) -> dict[str, Any]:
        """The options the user gave on the command line (not the defaults)."""
        return {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunConfig:
        return cls(**cls.given(args))

    def resumed_with(self, changes: dict[str, Any], at_epoch: int) -> RunConfig:
        """This run with the options a resume may change applied and recorded; refuses the others."""
        actual = {k: v for k, v in changes.items() if getattr(self, k) != v}
        fixed = sorted(k for k in actual if _field(k).metadata.get("on_resume") != RESUMABLE)
        if fixed:
            names = ", ".join("--" + k.replace("_", "-") for k in fixed)
            allowed = ", ".join("--" + f.name.replace("_", "-") for f in fields(self)
                                if f.metadata.get("on_resume") == RESUMABLE)
            raise ResumeConflictError(f"{names} cannot change when resuming (it would be a different run); "
                                 f"on --resume only {allowed} may change. Start a new run instead")
        if not actual:
            return self
        record = {"at_epoch": at_epoch, "changed": {k: [getattr(self, k), v] for k, v in actual.items()}}
        return replace(self, **actual, resumes=[*self.resumes, record])


class NotARunError(FileNotFoundError):
    """A folder that is not a run folder written by `striate train`."""


class ResumeConflictError(ValueError):
    """`--resume` with an option that would change what the run is."""


_TYPES = {"int": int, "float": float, "str": str, "str | None": str, "float | None": float}


def _field(name: str):
    return next(f for f in fields(RunConfig) if f.name == name)


def _upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """Read config.json files of older striate versions: lenet5 + variant 'modern' is now
    'lenet5_modern' (one name, one model)."""
    data = dict(data)
    variant = data.pop("variant", None)
    if data.get("model") == "lenet5" and variant == "modern":
        data["model"] = "lenet5_modern"
    return data

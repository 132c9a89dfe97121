"""CIFAR-100 (Krizhevsky 2009): 32x32 colour images of 100 classes ("fine" labels) grouped into 20
superclasses ("coarse" labels), 50,000 train + 10,000 test, in CIFAR-10's two distributions:

* binary (`cifar-100-binary/`): `train.bin`, `test.bin`, records of 1 coarse-label byte, 1
  fine-label byte, 3,072 pixel bytes (red, green, blue planes); names in
  `fine_label_names.txt` and `coarse_label_names.txt`.
* Python (`cifar-100-python/`, what torchvision downloads): `train`, `test` and `meta`, pickled
  dicts {b'data': uint8 (N, 3072), b'fine_labels': [...], b'coarse_labels': [...]} and
  {b'fine_label_names', b'coarse_label_names'}, read with `safepickle` (nothing executed).

torchvision's targets are the fine labels; `target_type="coarse"` gives the superclasses instead
(both are kept: `ds.fine_targets`, `ds.coarse_targets`, `ds.coarse_classes`).
Sources (Toronto) and published MD5s:
    https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz  03b5dce01913d631647c71ecec9e9cb8
    https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz  eb9058c3a382ffc7106e4002c42a8d85
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from striate.data.datasets.base import ArrayDataset, DataFileError, check_labels
from striate.data.datasets.cifar import CIFAR10
from striate.data.datasets.safepickle import safe_load

__all__ = ["CIFAR100"]

RECORD_BYTES_100 = 2 + 3 * 32 * 32
FORMATS_100 = {
    "binary": {
        "folder": "cifar-100-binary",
        "train": ["train.bin"],
        "test": ["test.bin"],
        "meta": "fine_label_names.txt",
        "extra": ["coarse_label_names.txt"],
        "archive": "cifar-100-binary.tar.gz",
        "url": "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
        "md5": "03b5dce01913d631647c71ecec9e9cb8",
    },
    "python": {
        "folder": "cifar-100-python",
        "train": ["train"],
        "test": ["test"],
        "meta": "meta",
        "archive": "cifar-100-python.tar.gz",
        "url": "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        "md5": "eb9058c3a382ffc7106e4002c42a8d85",
    },
}


def read_binary_100(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """records [coarse, fine, 3072 pixels] -> (N, 32, 32, 3) uint8, fine labels, coarse labels."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD_BYTES_100:
        raise DataFileError(path, f"{raw.size} bytes is not a whole number of {RECORD_BYTES_100}-byte "
                                  "records (the file is truncated or not CIFAR-100's binary format)")
    records = raw.reshape(-1, RECORD_BYTES_100)
    images = records[:, 2:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    fine, coarse = check_labels(records[:, 1], 100, path), check_labels(records[:, 0], 20, path)
    return np.ascontiguousarray(images), fine, coarse


def _plain_keys(obj: Any, path: Path) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise DataFileError(path, f"expected a pickled dict, found {type(obj).__name__}")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def read_python_100(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pickled `train` / `test` file, read safely -> images, fine labels, coarse labels."""
    batch = _plain_keys(safe_load(path), path)
    missing = {"data", "fine_labels", "coarse_labels"} - set(batch)
    if missing:
        raise DataFileError(path, f"a CIFAR-100 file needs keys data, fine_labels, coarse_labels; "
                                  f"missing {sorted(missing)}")
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataFileError(path, f"'data' must be a uint8 array of shape (N, 3072), got {got}")
    labels = []
    for key, n_classes in (("fine_labels", 100), ("coarse_labels", 20)):
        values = np.asarray(batch[key])
        if values.shape != (len(data),) or values.dtype.kind not in "iu":
            raise DataFileError(path, f"'{key}' must be {len(data)} integers, got {values.dtype} "
                                      f"{values.shape}")
        labels.append(check_labels(values, n_classes, path))
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels[0], labels[1]


def _class_names(folder: Path, fmt: str) -> tuple[list[str], list[str]]:
    """(fine names, coarse names) from the meta file(s); numbers when they are absent."""
    fine, coarse = [str(i) for i in range(100)], [str(i) for i in range(20)]
    if fmt == "binary":
        found = []
        for name in ("fine_label_names.txt", "coarse_label_names.txt"):
            path = folder / name
            text = path.read_text(encoding="latin1") if path.is_file() else ""
            found.append([line.strip() for line in text.splitlines() if line.strip()])
    else:
        path = folder / "meta"
        meta = _plain_keys(safe_load(path), path) if path.is_file() else {}
        found = [[n.decode("latin1") if isinstance(n, bytes) else str(n) for n in meta.get(key, [])]
                 for key in ("fine_label_names", "coarse_label_names")]
    return (found[0] if len(found[0]) == 100 else fine), (found[1] if len(found[1]) == 20 else coarse)


class CIFAR100(CIFAR10):  # a subclass, as in torchvision (CIFAR-10's file search and extraction)
    """CIFAR-100: `ds[i]` is a (3, 32, 32) float32 image in [0, 1] and its fine class 0..99 (or
    its superclass 0..19 with `target_type="coarse"`). `ds.data` is (N, 32, 32, 3) uint8."""

    name = "CIFAR100"
    folder = "cifar-100"
    formats = FORMATS_100

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True, download: bool = False,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 format: str | None = None, target_type: str = "fine") -> None:
        if format not in (None, "binary", "python"):
            raise ValueError(f"format must be None, 'binary' or 'python', got {format!r}")
        if target_type not in ("fine", "coarse"):
            raise ValueError(f"target_type must be 'fine' (100 classes) or 'coarse' (20 superclasses), "
                             f"got {target_type!r}")
        fmt, folder = self._locate(root, download, format)
        spec = self.formats[fmt]
        read = read_binary_100 if fmt == "binary" else read_python_100
        parts = [read(folder / name) for name in (spec["train"] if train else spec["test"])]
        images, fine, coarse = (np.concatenate([p[k] for p in parts]) for k in range(3))
        fine_names, coarse_names = _class_names(folder, fmt)
        targets, classes = (fine, fine_names) if target_type == "fine" else (coarse, coarse_names)
        ArrayDataset.__init__(self, images, targets, transform, target_transform, classes=classes,
                              channels_last=True)
        self.fine_targets, self.coarse_targets = fine, coarse
        self.fine_classes, self.coarse_classes = fine_names, coarse_names
        self.root, self.train, self.format, self.target_type = folder, bool(train), fmt, target_type

"""MNIST's relatives in its IDX format: Kuzushiji-MNIST and QMNIST.

KMNIST (Clanuwat et al. 2018; CC BY-SA 4.0): 28x28 grey images of 10 cursive Japanese (Kuzushiji)
characters, MNIST's four file names and layout, from the authors' site (CODH); MD5s as torchvision's:
    train-images-idx3-ubyte.gz  bdb82020997e1d708af4cf47b453dcf7
    train-labels-idx1-ubyte.gz  e144d726b3acfaa3e44228e80efcd344
    t10k-images-idx3-ubyte.gz   5c965bf0a639b31b8f53240b1b52f4d7
    t10k-labels-idx1-ubyte.gz   7320c461ea6c1c855c0b718fb2a4b134

QMNIST (Yadav & Bottou 2019): MNIST's training set reconstructed from NIST, with a 60,000-image
test set. Images `qmnist-{train,test}-images-idx3-ubyte` (uint8 N x 28 x 28); labels
`qmnist-{train,test}-labels-idx2-int`, an IDX int32 N x 8 matrix per image: class, NIST
series, writer id, digit index, NIST class, global index, duplicate, unused. `what` picks
'train', 'test' (60k), 'test10k' (its first 10,000: MNIST's test images), 'test50k' (the
rest) or 'nist' (all NIST digits, `xnist-*.xz`). `compat=True` makes the target the class, as
MNIST's; `compat=False` the whole row (an int64 tensor of 8), as torchvision.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from striate.data.datasets.base import (
    ArrayDataset,
    DataFileError,
    _as_array,
    _as_tensor,
    check_labels,
    checked_index,
    download,
    download_dir,
    not_found,
    search_dirs,
    transform_batch,
)
from striate.data.datasets.idx import read_idx
from striate.data.datasets.mnist import MNIST

__all__ = ["KMNIST", "QMNIST"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: `ds[i]` is a (1, 28, 28) float32 image in [0, 1] and its class 0..9."""

    name = "KMNIST"
    folder = "kmnist"
    torchvision_folder = "KMNIST"
    mirrors = ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",)
    md5 = {
        "train-images-idx3-ubyte.gz": "bdb82020997e1d708af4cf47b453dcf7",
        "train-labels-idx1-ubyte.gz": "e144d726b3acfaa3e44228e80efcd344",
        "t10k-images-idx3-ubyte.gz": "5c965bf0a639b31b8f53240b1b52f4d7",
        "t10k-labels-idx1-ubyte.gz": "7320c461ea6c1c855c0b718fb2a4b134",
    }
    class_names = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


_QMNIST_URL = "https://raw.githubusercontent.com/facebookresearch/qmnist/master/"
# subset -> ((images file, MD5 of its compressed download), (labels file, MD5)), suffix of the download
_QMNIST_FILES = {
    "train": ((("qmnist-train-images-idx3-ubyte", "ed72d4157d28c017586c42bc6afe6370"),
               ("qmnist-train-labels-idx2-int", "0058f8dd561b90ffdd0f734c6a30e5e4")), ".gz"),
    "test": ((("qmnist-test-images-idx3-ubyte", "1394631089c404de565df7b7aeaf9412"),
              ("qmnist-test-labels-idx2-int", "5b5b05890a5e13444e108efe57b788aa")), ".gz"),
    "nist": ((("xnist-images-idx3-ubyte", "7f124b3b8ab81486c9d8c2749c17f834"),
              ("xnist-labels-idx2-int", "5ed0e788978e45d4a8bd4b7caec3d79d")), ".xz"),
}
_SUBSETS = {"train": "train", "test": "test", "test10k": "test", "test50k": "test", "nist": "nist"}


def _existing(folder: Path, name: str, suffix: str) -> Path | None:
    for candidate in (folder / name, folder / (name + suffix)):
        if candidate.is_file():
            return candidate
    return None


class QMNIST(ArrayDataset):
    """QMNIST (see the module docstring): `ds[i]` is a (1, 28, 28) float32 image in [0, 1] and its
    class (`compat=True`) or its 8 label columns (`compat=False`). `ds.data` is uint8 (N, 28, 28),
    `ds.targets` int64: the classes (compat) or the (N, 8) matrix, as torchvision's."""

    name = "QMNIST"
    folder = "qmnist"
    torchvision_folder = "QMNIST"
    class_names = MNIST.class_names

    def __init__(self, root: str | os.PathLike | None = None, what: str | None = None, compat: bool = True,
                 train: bool = True, download: bool = False, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        what = ("train" if train else "test") if what is None else what
        if what not in _SUBSETS:
            raise ValueError(f"Unknown value '{what}' for argument what. "
                             f"Valid values are {{{', '.join(_SUBSETS)}}}.")
        (images_file, labels_file), suffix = _QMNIST_FILES[_SUBSETS[what]]
        folder = self._locate(root, download, _SUBSETS[what])
        images_path = _existing(folder, images_file[0], suffix)
        labels_path = _existing(folder, labels_file[0], suffix)
        images, rows = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise DataFileError(images_path, f"expected uint8 images (N, H, W), got {images.dtype} "
                                             f"{images.shape}")
        if rows.ndim != 2 or rows.dtype.kind != "i" or len(rows) != len(images):
            raise DataFileError(labels_path, "expected an int32 matrix with one row per image "
                                             f"({len(images)}), got {rows.dtype} {rows.shape}")
        if what == "test10k":
            images, rows = images[:10000], rows[:10000]
        elif what == "test50k":
            images, rows = images[10000:], rows[10000:]
        classes = check_labels(rows[:, 0], 10, labels_path)
        super().__init__(images, classes, transform, target_transform, classes=self.class_names)
        self.compat = bool(compat)
        if not self.compat:
            self.targets = rows.astype(np.int64)
        self.what, self.root, self.train = what, folder, bool(train)

    @classmethod
    def _locate(cls, root: str | os.PathLike | None, allow_download: bool, subset: str) -> Path:
        files, suffix = _QMNIST_FILES[subset]
        dirs = search_dirs(cls.folder, root, cls.torchvision_folder)
        for d in dirs:
            if all(_existing(d, name, suffix) for name, _ in files):
                return d
        target = download_dir(cls.folder, root)
        if not allow_download:
            raise not_found(cls.name, dirs, [f"{name}({suffix})" for name, _ in files], target)
        for name, md5 in files:
            if not (target / (name + suffix)).exists():
                download(_QMNIST_URL + name + suffix, target / (name + suffix), md5, "md5")
        return target

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        if self.compat:
            return super().__getitem__(index)
        i = checked_index(self, index)
        image = self._float_images(self.data[i:i + 1])[0]
        if self.transform is not None:
            image = self.transform(image)
        target: Any = _as_tensor(self.targets[i].copy())
        if self.target_transform is not None:
            target = self.target_transform(target)
        return _as_tensor(image), target

    def get_batch(self, indices: Any, rng: np.random.Generator | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """As ArrayDataset's; with `compat=False` the labels are the (B, 8) rows, each row passed to
        `target_transform` as an int64 tensor (what `ds[i]` gives it)."""
        if self.compat or self.target_transform is None:
            return super().get_batch(indices, rng)
        idx = np.asarray(indices, dtype=np.int64)
        x = transform_batch(self.transform, self._float_images(self.data[idx]), rng)
        rows = [_as_array(self.target_transform(_as_tensor(self.targets[i].copy()))) for i in idx]
        return x, np.stack([np.asarray(r) for r in rows])

    def _split_name(self) -> str | None:
        return self.what

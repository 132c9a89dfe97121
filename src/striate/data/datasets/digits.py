"""`Digits`: 1,797 handwritten digits, 8x8 pixels, shipped inside striate (no download).

Provenance: scikit-learn's bundled `load_digits()` data (BSD-3-Clause), which is the test part
of the UCI "Optical Recognition of Handwritten Digits" set (optdigits, Alpaydin & Kaynak 1998,
CC BY 4.0): 32x32 bitmaps of 43 writers, counted in non-overlapping 4x4 blocks, so each pixel
is an integer 0..16. striate stores them once as two gzip'd IDX files in `striate/data/files/`
(`build_digits_files` below regenerates them byte for byte from scikit-learn at development
time; scikit-learn is not needed at run time) and checks their SHA-256 on every load.

The split is fixed and documented: scikit-learn's
`train_test_split(images, target, test_size=0.2, random_state=0)`, i.e. 1,437 training and 360
test images, frozen into the file order (training images first, in the order that call
returns them, then the test images), so no random generator runs at load time and the split
cannot drift with a NumPy version. Pixels are scaled to [0, 1] by dividing by 16.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from striate.data.datasets.base import ArrayDataset, check_labels, verify_checksum
from striate.data.datasets.idx import read_idx, write_idx

FILES_DIR = Path(__file__).resolve().parent.parent / "files"
IMAGES_FILE = "digits-images-idx3-ubyte.gz"
LABELS_FILE = "digits-labels-idx1-ubyte.gz"
SHA256 = {
    IMAGES_FILE: "cf73dfe9116f8b5d4cd018e19e25a06eab3da38ee0e7084446ea56726a716cbb",
    LABELS_FILE: "4ee1ef0fa1ff359efda774622f19466ffd8662912f8cda736153b11cf3dc8bb5",
}
NUM_TRAIN, NUM_TEST = 1437, 360
SPLIT_SEED = 0


class Digits(ArrayDataset):
    """scikit-learn's 8x8 handwritten digits (1,437 train / 360 test), embedded in striate.

    `ds[i]` is a (1, 8, 8) float32 image in [0, 1] (pixel counts 0..16 divided by 16) and its
    digit 0..9. `ds.data` is the raw (N, 8, 8) uint8 array of counts 0..16, `ds.targets` int64.
    `root` and `download` are accepted for the common dataset signature and unused: the data
    ship inside the package. LeNet-5 wants 32x32 inputs: `transform=transforms.Resize(32)`.

        >>> ds = Digits(train=True)
        >>> len(ds), ds[0][0].shape
        (1437, (1, 8, 8))
    """

    name = "Digits"

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True, download: bool = False,
                 transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        images, labels = load_digits_arrays()
        part = slice(0, NUM_TRAIN) if train else slice(NUM_TRAIN, None)
        super().__init__(images[part], labels[part], transform, target_transform,
                         classes=[str(d) for d in range(10)], scale=16.0)
        self.train = bool(train)
        self.root = FILES_DIR


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 images (uint8 counts 0..16, shape (1797, 8, 8)) and labels, training split first."""
    paths = {name: FILES_DIR / name for name in SHA256}
    for name, path in paths.items():
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: the striate installation is incomplete; "
                                    "reinstall striate (the digits data ship inside the package)")
        verify_checksum(path, SHA256[name], "sha256")
    images = read_idx(paths[IMAGES_FILE])
    labels = check_labels(read_idx(paths[LABELS_FILE]), 10, paths[LABELS_FILE])
    if images.shape != (NUM_TRAIN + NUM_TEST, 8, 8) or labels.shape != (NUM_TRAIN + NUM_TEST,):
        raise ValueError(f"digits files have shapes {images.shape} and {labels.shape}, expected "
                         f"({NUM_TRAIN + NUM_TEST}, 8, 8) and ({NUM_TRAIN + NUM_TEST},)")
    return images, labels


def digits(train: bool = True, transform: Callable | None = None, **kwargs: Any) -> Digits:
    """`Digits(train=train, transform=transform)`: the embedded 8x8 digits."""
    return Digits(train=train, transform=transform, **kwargs)


def build_digits_files(out_dir: str | os.PathLike = FILES_DIR) -> dict[str, str]:
    """Development tool: regenerate the embedded files from scikit-learn; returns their SHA-256.

    Needs scikit-learn (a dev-time tool, never imported at run time). The output is
    deterministic (gzip without a time stamp), so the digests must equal `SHA256` above.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from striate.data.datasets.base import file_digest

    bunch = load_digits()
    images = bunch.images.astype(np.uint8)  # integer counts 0..16 stored as float64 by sklearn
    if not np.array_equal(images, bunch.images):
        raise ValueError("scikit-learn's digits are no longer integers 0..16; the format assumption broke")
    x_tr, x_te, y_tr, y_te = train_test_split(images, bunch.target, test_size=0.2, random_state=SPLIT_SEED)
    out = Path(out_dir)
    write_idx(out / IMAGES_FILE, np.concatenate([x_tr, x_te]))
    write_idx(out / LABELS_FILE, np.concatenate([y_tr, y_te]).astype(np.uint8))
    return {name: file_digest(out / name, "sha256") for name in (IMAGES_FILE, LABELS_FILE)}

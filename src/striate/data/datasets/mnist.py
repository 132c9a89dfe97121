"""MNIST and Fashion-MNIST: 28x28 grey images in the IDX format, 60,000 train + 10,000 test.

Both ship as four files, `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
`t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, plain or `.gz` (also accepted: the
`train-images.idx3-ubyte` spelling some unpackers produce). Downloads are checked against the
MD5 digests their authors publish (the same ones torchvision uses):

MNIST (LeCun, Cortes, Burges), from torchvision's mirror, then yann.lecun.com:
    train-images-idx3-ubyte.gz  f68b3c2dcbeaaa9fbdd348bbdeb94873
    train-labels-idx1-ubyte.gz  d53e105ee54ea40749a09fcbcd1e9432
    t10k-images-idx3-ubyte.gz   9fb629c4189551a2d022fa330f9573f3
    t10k-labels-idx1-ubyte.gz   ec29112dd5afa0611ce80d1b7f02629c
Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; MIT), from the zalandoresearch GitHub repository,
then the authors' S3 site:
    train-images-idx3-ubyte.gz  8d4fb7e6c68d591d4c3dfef9ec88bf0d
    train-labels-idx1-ubyte.gz  25c81989df183df01b3e8a0aad5dffbe
    t10k-images-idx3-ubyte.gz   bef4ecab320f06d8554ea6380940ec79
    t10k-labels-idx1-ubyte.gz   bb300cfdad3c16e7a12a480ee83cd310

Files found on disk are not checksummed (Debian's dataset-fashion-mnist recompresses the .gz
files, so their digests differ from the published ones while the images are identical); they
are checked structurally instead: IDX magic, shapes, counts, label range.
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
    check_labels,
    download,
    download_dir,
    not_found,
    search_dirs,
)
from striate.data.datasets.idx import read_idx


class MNIST(ArrayDataset):
    """MNIST handwritten digits: `ds[i]` is a (1, 28, 28) float32 image in [0, 1] and its digit.

    `ds.data` is the raw (N, 28, 28) uint8 array (torchvision's layout), `ds.targets` int64.
    See `striate.data.datasets.base` for where the files are looked for.

        >>> train = MNIST(root="data", train=True, download=True)   # doctest: +SKIP
    """

    name = "MNIST"
    folder = "mnist"                      # striate's folder name under every search root
    torchvision_folder = "MNIST"          # torchvision keeps files in root/MNIST/raw
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
    md5 = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    class_names = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
                   "7 - seven", "8 - eight", "9 - nine"]
    install_hint: str | None = None

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True, download: bool = False,
                 transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        stem = "train" if train else "t10k"
        folder = self._locate(stem, root, download)
        images_path = _find(folder, stem, "images", 3)
        labels_path = _find(folder, stem, "labels", 1)
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise DataFileError(images_path, f"expected uint8 images of shape (N, H, W), got {images.dtype} "
                                             f"{images.shape}")
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise DataFileError(labels_path, f"expected uint8 labels of shape (N,), got {labels.dtype} "
                                             f"{labels.shape}")
        if len(images) != len(labels):
            raise DataFileError(labels_path, f"{len(labels)} labels for {len(images)} images "
                                             f"in {images_path}")
        labels = check_labels(labels, len(self.class_names), labels_path)
        super().__init__(images, labels, transform, target_transform, classes=self.class_names)
        self.root = folder
        self.train = bool(train)

    @classmethod
    def _locate(cls, stem: str, root: str | os.PathLike | None, allow_download: bool) -> Path:
        dirs = search_dirs(cls.folder, root, cls.torchvision_folder)
        for d in dirs:
            if _find(d, stem, "images", 3, required=False) and _find(d, stem, "labels", 1, required=False):
                return d
        wanted = [f"{stem}-images-idx3-ubyte(.gz)", f"{stem}-labels-idx1-ubyte(.gz)"]
        target = download_dir(cls.folder, root)
        if not allow_download:
            raise not_found(cls.name, dirs, wanted, target, cls.install_hint)
        for kind, nd in (("images", 3), ("labels", 1)):
            name = f"{stem}-{kind}-idx{nd}-ubyte.gz"
            if not (target / name).exists():
                download([m + name for m in cls.mirrors], target / name, cls.md5[name], "md5")
        return target


def _find(folder: Path, stem: str, kind: str, ndim: int, required: bool = True) -> Path | None:
    for name in (f"{stem}-{kind}-idx{ndim}-ubyte", f"{stem}-{kind}.idx{ndim}-ubyte"):
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.is_file():
                return candidate
    if required:
        raise FileNotFoundError(f"{folder}: no {stem}-{kind}-idx{ndim}-ubyte(.gz)")
    return None


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): 28x28 grey images of 10 kinds of clothing, MNIST's format."""

    name = "FashionMNIST"
    folder = "fashion-mnist"              # Debian's dataset-fashion-mnist: /usr/share/datasets/fashion-mnist
    torchvision_folder = "FashionMNIST"
    mirrors = ("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
               "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")
    md5 = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                   "Bag", "Ankle boot"]
    install_hint = "on Debian/Ubuntu: apt-get install dataset-fashion-mnist"


def mnist(train: bool = True, transform: Callable | None = None, **kwargs: Any) -> MNIST:
    return MNIST(train=train, transform=transform, **kwargs)


def fashion_mnist(train: bool = True, transform: Callable | None = None, **kwargs: Any) -> FashionMNIST:
    return FashionMNIST(train=train, transform=transform, **kwargs)

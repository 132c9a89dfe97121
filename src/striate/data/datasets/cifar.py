"""CIFAR-10 (Krizhevsky 2009): 32x32 colour images of 10 classes, 50,000 train + 10,000 test.

Both of the authors' distributions are read:

* binary (`cifar-10-batches-bin/`, the default download): `data_batch_1.bin` .. `_5.bin` and
  `test_batch.bin`, each 10,000 records of 1 label byte + 3,072 pixel bytes (1,024 red, then
  green, then blue, rows top to bottom); class names in `batches.meta.txt`.
* Python (`cifar-10-batches-py/`, what torchvision downloads): `data_batch_1` .. `_5`,
  `test_batch`, pickled dicts {b'data': uint8 (10000, 3072), b'labels': [...]}. They are read
  with `safepickle`, a pickle interpreter that builds only plain data and NumPy arrays and
  refuses everything else: nothing in the file is ever executed.

Sources (Toronto, the authors' page) and their published MD5s:
    https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz  c32a1d4ab5d03f1284b67883e8d87530
    https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz  c58f30108f718f92721af3b95e74349a
A downloaded archive is verified, then only the expected member files are extracted (into a
temporary folder renamed into place), and the archive is deleted.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
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
    make_readable,
    not_found,
    search_dirs,
)
from striate.data.datasets.safepickle import safe_load

RECORD_BYTES = 1 + 3 * 32 * 32
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
FORMATS = {
    "binary": {
        "folder": "cifar-10-batches-bin",
        "train": [f"data_batch_{i}.bin" for i in range(1, 6)],
        "test": ["test_batch.bin"],
        "meta": "batches.meta.txt",
        "archive": "cifar-10-binary.tar.gz",
        "url": "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        "md5": "c32a1d4ab5d03f1284b67883e8d87530",
    },
    "python": {
        "folder": "cifar-10-batches-py",
        "train": [f"data_batch_{i}" for i in range(1, 6)],
        "test": ["test_batch"],
        "meta": "batches.meta",
        "archive": "cifar-10-python.tar.gz",
        "url": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "md5": "c58f30108f718f92721af3b95e74349a",
    },
}


class CIFAR10(ArrayDataset):
    """CIFAR-10: `ds[i]` is a (3, 32, 32) float32 image in [0, 1] and its class 0..9.

    `ds.data` is the raw (N, 32, 32, 3) uint8 array (torchvision's channels-last layout),
    `ds.targets` int64. `format=None` reads whichever distribution is found (binary first);
    `'binary'` or `'python'` insists on one (and is what `download=True` fetches).
    """

    name = "CIFAR10"
    folder = "cifar-10"
    formats = FORMATS

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True, download: bool = False,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 format: str | None = None) -> None:
        if format not in (None, "binary", "python"):
            raise ValueError(f"format must be None, 'binary' or 'python', got {format!r}")
        fmt, folder = self._locate(root, download, format)
        spec = FORMATS[fmt]
        names = spec["train"] if train else spec["test"]
        read = read_binary_batch if fmt == "binary" else read_python_batch
        parts = [read(folder / name) for name in names]
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        classes = _read_classes(folder / spec["meta"], fmt)
        super().__init__(images, labels, transform, target_transform, classes=classes, channels_last=True)
        self.root = folder
        self.train = bool(train)
        self.format = fmt

    @classmethod
    def _locate(cls, root: str | os.PathLike | None, allow_download: bool, fmt: str | None
                ) -> tuple[str, Path]:
        formats = [fmt] if fmt else ["binary", "python"]
        dirs = search_dirs(cls.folder, root)
        for d in dirs:
            for f in formats:
                spec = cls.formats[f]
                sub = d / spec["folder"]
                if all((sub / n).is_file() for n in spec["train"] + spec["test"]):
                    return f, sub
        for d in dirs:  # an archive someone downloaded by hand: extract it once
            for f in formats:
                archive = d / cls.formats[f]["archive"]
                if archive.is_file():
                    dest = d if os.access(d, os.W_OK) else download_dir(cls.folder, root)
                    return f, extract_cifar(archive, dest, f, cls.formats)
        target = download_dir(cls.folder, root)
        wanted = [f"{cls.formats[f]['folder']}/ or {cls.formats[f]['archive']}" for f in formats]
        if not allow_download:
            raise not_found(cls.name, dirs, wanted, target)
        f = formats[0]
        spec = cls.formats[f]
        archive = download(spec["url"], target / spec["archive"], spec["md5"], "md5")
        folder = extract_cifar(archive, target, f, cls.formats)
        archive.unlink()
        return f, folder


def read_binary_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """One binary batch: records of [label byte, 3072 pixel bytes] -> (N, 32, 32, 3) uint8, labels."""
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD_BYTES:
        whole, extra = divmod(raw.size, RECORD_BYTES)
        raise DataFileError(path, f"{raw.size} bytes is not a whole number of {RECORD_BYTES}-byte records "
                                  f"({whole} records and {extra} bytes: the last record is cut short, "
                                  "the file is truncated)")
    records = raw.reshape(-1, RECORD_BYTES)
    labels = check_labels(records[:, 0], 10, path)
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def read_python_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch, read safely -> (N, 32, 32, 3) uint8, labels."""
    path = Path(path)
    batch = safe_load(path)
    if not isinstance(batch, dict):
        raise DataFileError(path, f"expected a pickled dict, found {type(batch).__name__}")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise DataFileError(path, f"a CIFAR-10 batch needs keys 'data' and 'labels', found {sorted(batch)}")
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataFileError(path, f"'data' must be a uint8 array of shape (N, 3072), got {got}")
    labels = np.asarray(batch["labels"])
    if labels.ndim != 1 or len(labels) != len(data) or labels.dtype.kind not in "iu":
        raise DataFileError(path, f"'labels' must be {len(data)} integers, got {labels.dtype} {labels.shape}")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), check_labels(labels, 10, path)


def _read_classes(meta: Path, fmt: str) -> list[str]:
    if not meta.is_file():
        return list(CLASSES)
    if fmt == "binary":
        names = [line.strip() for line in meta.read_text(encoding="latin1").splitlines() if line.strip()]
    else:
        obj = safe_load(meta)
        raw = obj.get("label_names", obj.get(b"label_names")) if isinstance(obj, dict) else None
        names = [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in raw] if raw else []
    return names if len(names) == 10 else list(CLASSES)


def extract_cifar(archive: str | os.PathLike, dest: str | os.PathLike, fmt: str,
                  formats: dict[str, dict[str, Any]] = FORMATS) -> Path:
    """Extract exactly the expected regular files of a CIFAR archive into `dest/<folder>`.

    Nothing else in the archive is touched (no links, no paths outside the folder); the files go
    to a temporary folder that is renamed into place, so a failure leaves nothing half-written.
    """
    spec = formats[fmt]
    archive, dest = Path(archive), Path(dest)
    final = dest / spec["folder"]
    optional = [spec["meta"], *spec.get("extra", [])]  # class-name files
    wanted = spec["train"] + spec["test"] + optional
    if final.exists():
        missing = [n for n in spec["train"] + spec["test"] if not (final / n).is_file()]
        raise DataFileError(final, f"exists but is incomplete (missing {', '.join(missing) or 'nothing'}); "
                                   "remove the folder so striate can extract the archive again")
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec['folder']}.", dir=dest))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for name in wanted:
                try:
                    member = tar.getmember(f"{spec['folder']}/{name}")
                except KeyError:
                    if name in optional:
                        continue
                    raise DataFileError(archive, f"the archive has no {spec['folder']}/{name}") from None
                if not member.isfile():
                    raise DataFileError(archive, f"{member.name} is not a regular file")
                source = tar.extractfile(member)
                if source is None:
                    raise DataFileError(archive, f"cannot read {member.name}")
                with source, open(tmp / name, "wb") as out:
                    shutil.copyfileobj(source, out)
        os.chmod(tmp, 0o755)
        for f in tmp.iterdir():
            make_readable(f)
        os.replace(tmp, final)
    except (tarfile.TarError, EOFError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataFileError(archive, f"not a readable .tar.gz archive ({exc})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def cifar10(train: bool = True, transform: Callable | None = None, **kwargs: Any) -> CIFAR10:
    return CIFAR10(train=train, transform=transform, **kwargs)

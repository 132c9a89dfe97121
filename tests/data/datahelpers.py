"""Helpers for the data tests: small files in each real format, and an isolated search path."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from striate.data.datasets import base
from striate.data.datasets.idx import idx_bytes


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No $STRIATE_DATA, a private user cache and an empty 'system' dataset folder."""
    monkeypatch.delenv("STRIATE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    system = tmp_path / "usr-share-datasets"
    monkeypatch.setattr(base, "SYSTEM_DATASET_DIR", system)
    return tmp_path


def write_mnist(folder: Path, n_train: int = 30, n_test: int = 12, gz: bool = True, seed: int = 0,
                spelling: str = "-") -> dict[str, np.ndarray]:
    """MNIST-format IDX files (28x28 uint8 images, labels 0..9) in `folder`."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for stem, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        for kind, arr, nd in (("images", images, 3), ("labels", labels, 1)):
            name = f"{stem}-{kind}{spelling}idx{nd}-ubyte" + (".gz" if gz else "")
            raw = idx_bytes(arr)
            (folder / name).write_bytes(gzip.compress(raw) if gz else raw)
        out[stem] = (images, labels)
    return out


def cifar_arrays(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n random CIFAR records as the distribution stores them: (n, 3072) plane-major bytes, labels."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 3072), dtype=np.uint8), rng.integers(0, 10, size=n)


CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar_binary(folder: Path, per_batch: int = 4) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    sub = folder / "cifar-10-batches-bin"
    sub.mkdir(parents=True, exist_ok=True)
    out = {}
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for k, name in enumerate(names):
        data, labels = cifar_arrays(per_batch, k)
        records = np.concatenate([labels.astype(np.uint8)[:, None], data], axis=1)
        (sub / name).write_bytes(records.tobytes())
        out[name] = (data, labels)
    (sub / "batches.meta.txt").write_text("\n".join(CIFAR_CLASSES) + "\n\n")
    return out


def write_cifar_python(folder: Path, per_batch: int = 4, protocol: int = 2
                       ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Pickled batches written with the standard pickle module (writing is fine; reading is safe)."""
    sub = folder / "cifar-10-batches-py"
    sub.mkdir(parents=True, exist_ok=True)
    out = {}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for k, name in enumerate(names):
        data, labels = cifar_arrays(per_batch, 100 + k)
        batch = {b"batch_label": b"batch " + name.encode(), b"labels": [int(v) for v in labels],
                 b"data": data, b"filenames": [f"img_{i}.png".encode() for i in range(per_batch)]}
        (sub / name).write_bytes(pickle.dumps(batch, protocol=protocol))
        out[name] = (data, labels)
    meta = {b"num_cases_per_batch": per_batch, b"label_names": [c.encode() for c in CIFAR_CLASSES],
            b"num_vis": 3072}
    (sub / "batches.meta").write_bytes(pickle.dumps(meta, protocol=protocol))
    return out


def tar_folder(folder: Path, archive: Path, extra: dict[str, bytes] | None = None) -> Path:
    """A .tar.gz of `folder` (members named folder.name/...), plus optional extra members."""
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


def leftovers(folder: Path) -> list[str]:
    """Temporary or partial files left in `folder` (hidden names are striate's temp files)."""
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))

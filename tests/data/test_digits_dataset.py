"""The embedded 8x8 digits: size, split, values, checksum, provenance."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import striate as st
import striate.data.datasets.digits as digits_mod
from striate.data.datasets import ChecksumError, Digits


def test_sizes_and_values():
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) == 1437 and len(test) == 360 and len(train) + len(test) == 1797
    assert train.data.shape == (1437, 8, 8) and train.data.dtype == np.uint8
    assert train.data.max() == 16 and train.data.min() == 0
    image, label = train[0]
    assert image.shape == (1, 8, 8) and image.dtype == np.float32 and isinstance(label, int)
    np.testing.assert_array_equal(image.numpy()[0], train.data[0] / np.float32(16))
    X, y = test.arrays()
    assert X.shape == (360, 1, 8, 8) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() >= 0.0 and X.max() == 1.0
    assert train.classes == [str(d) for d in range(10)]
    assert set(np.unique(train.targets)) == set(range(10)) and set(np.unique(test.targets)) == set(range(10))


def test_split_is_deterministic_and_disjoint():
    st.manual_seed(123)  # the split never depends on the global generator
    a = Digits(train=True)
    st.manual_seed(7)
    b = Digits(train=True)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.targets, b.targets)
    train, test = Digits(train=True).data.reshape(-1, 64), Digits(train=False).data.reshape(-1, 64)
    # the 1797 images of scikit-learn's set contain exact duplicates; compare as multisets
    together = np.concatenate([train, test])
    assert together.shape == (1797, 64)


def test_split_is_scikit_learns_train_test_split():
    sklearn_datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn (dev tool) not installed")
    from sklearn.model_selection import train_test_split

    bunch = sklearn_datasets.load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(bunch.images, bunch.target, test_size=0.2, random_state=0)
    np.testing.assert_array_equal(Digits(train=True).data, x_tr)
    np.testing.assert_array_equal(Digits(train=False).data, x_te)
    np.testing.assert_array_equal(Digits(train=True).targets, y_tr)
    np.testing.assert_array_equal(Digits(train=False).targets, y_te)


def test_embedded_files_rebuild_byte_for_byte(tmp_path):
    pytest.importorskip("sklearn", reason="scikit-learn (dev tool) not installed")
    assert digits_mod.build_digits_files(tmp_path) == digits_mod.SHA256


def test_checksum_is_checked_on_load(tmp_path, monkeypatch):
    files = tmp_path / "files"
    shutil.copytree(digits_mod.FILES_DIR, files)
    monkeypatch.setattr(digits_mod, "FILES_DIR", files)
    assert len(Digits()) == 1437
    path = files / digits_mod.LABELS_FILE
    raw = bytearray(path.read_bytes())
    raw[-12] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ChecksumError, match="sha256 checksum mismatch") as err:
        Digits()
    assert digits_mod.LABELS_FILE in str(err.value)
    path.unlink()
    with pytest.raises(FileNotFoundError, match="reinstall striate"):
        Digits()


def test_lowercase_helper_and_transform():
    from striate.data import digits, transforms

    ds = digits(train=False, transform=transforms.Resize(32))
    image, _ = ds[5]
    assert image.shape == (1, 32, 32) and image.dtype == np.float32
    X, _ = ds.arrays()
    assert X.shape == (360, 1, 32, 32)
    np.testing.assert_allclose(X[5], image.numpy(), rtol=0, atol=1e-6)
    assert "Transform: Resize(size=32" in repr(ds)

"""FakeData, KMNIST, QMNIST, CIFAR-100 and SVHN on small files the tests write in the real formats
(IDX, CIFAR-100's binary records and pickles, MATLAB v5 written by SciPy), and FakeData against
torchvision's generator rule run in PyTorch."""

from __future__ import annotations

import gzip
import lzma
import pickle
import tarfile

import numpy as np
import pytest
import torch
from datahelpers import isolated, tar_folder, write_mnist  # noqa: F401 - `isolated` is a fixture

import striate as st
from striate.data import DataLoader
from striate.data.datasets import (
    CIFAR100,
    KMNIST,
    QMNIST,
    SVHN,
    DataFileError,
    DatasetNotFoundError,
    FakeData,
)
from striate.data.datasets.idx import idx_bytes
from striate.data.datasets.matlab import read_mat


# ---- FakeData
def test_fakedata_is_torchvisions_rule():
    ds = FakeData(size=6, image_size=(3, 9, 11), num_classes=5, random_offset=7)
    before = torch.get_rng_state()
    st.manual_seed(11)
    for i in range(len(ds)):
        image, target = ds[i]
        torch.manual_seed(i + 7)  # torchvision's __getitem__, then ToPILImage, then ToTensor
        img = torch.randn(3, 9, 11)
        expected_target = torch.randint(0, 5, size=(1,), dtype=torch.long)[0].item()
        expected = img.mul(255).byte().float() / 255
        torch.set_rng_state(before)
        assert target == expected_target
        assert image.shape == (3, 9, 11) and image.dtype == st.float32
        np.testing.assert_array_equal(image.numpy(), expected.numpy())
    torch.manual_seed(11)
    assert st.rand(3).tolist() == torch.rand(3).tolist()  # the global stream was left alone
    with pytest.raises(IndexError):
        ds[6]
    grey = FakeData(size=3, image_size=(1, 4, 4), transform=lambda x: x * 2, target_transform=lambda t: -t)
    image, target = grey[1]
    assert image.shape == (1, 4, 4) and float(image.max()) <= 2 and target <= 0
    batches = list(DataLoader(FakeData(size=5, image_size=(3, 4, 4)), batch_size=2))
    assert [tuple(b[0].shape) for b in batches] == [(2, 3, 4, 4), (2, 3, 4, 4), (1, 3, 4, 4)]
    with pytest.raises(ValueError, match="image_size"):
        FakeData(image_size=(4, 4))


# ---- KMNIST, QMNIST
def test_kmnist_reads_torchvisions_folder(isolated):  # noqa: F811
    written = write_mnist(isolated / "data" / "KMNIST" / "raw", n_train=7, n_test=3)
    train = KMNIST(root=isolated / "data")
    test = KMNIST(root=isolated / "data", train=False)
    assert len(train) == 7 and len(test) == 3 and train.classes[:3] == ["o", "ki", "su"]
    np.testing.assert_array_equal(train.data, written["train"][0])
    image, label = test[2]
    assert image.shape == (1, 28, 28) and label == int(written["t10k"][1][2])
    with pytest.raises(DatasetNotFoundError, match="KMNIST"):
        KMNIST(root=isolated / "elsewhere")


def write_qmnist(folder, what, n, compress):
    rng = np.random.default_rng(len(what))
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    rows = rng.integers(0, 1000, (n, 8)).astype(np.int32)
    rows[:, 0] = rng.integers(0, 10, n)
    prefix = "xnist" if what == "nist" else f"qmnist-{what}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx2-int", rows)):
        raw = idx_bytes(arr)
        if compress == "gz":
            (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
        elif compress == "xz":
            (folder / (name + ".xz")).write_bytes(lzma.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return images, rows


def test_qmnist_subsets_and_compat(isolated):  # noqa: F811
    raw = isolated / "data" / "QMNIST" / "raw"
    train_images, train_rows = write_qmnist(raw, "train", 9, "gz")
    test_images, test_rows = write_qmnist(raw, "test", 10005, None)
    _, nist_rows = write_qmnist(raw, "nist", 4, "xz")
    root = isolated / "data"
    train = QMNIST(root)
    assert len(train) == 9 and train[3][1] == int(train_rows[3, 0])
    np.testing.assert_array_equal(train.data, train_images)
    assert len(QMNIST(root, train=False)) == 10005
    test10k, test50k = QMNIST(root, what="test10k"), QMNIST(root, what="test50k")
    assert len(test10k) == 10000 and len(test50k) == 5
    np.testing.assert_array_equal(test50k.data, test_images[10000:])
    full = QMNIST(root, what="nist", compat=False)
    image, row = full[1]
    assert image.shape == (1, 28, 28) and row.dtype == st.int64
    np.testing.assert_array_equal(row.numpy(), nist_rows[1])
    assert full.targets.shape == (4, 8)
    shifted = QMNIST(root, what="nist", compat=False, target_transform=lambda row: row + 1)
    x, y = shifted.get_batch([0, 2])
    assert x.shape == (2, 1, 28, 28) and y.shape == (2, 8)
    np.testing.assert_array_equal(y, nist_rows[[0, 2]] + 1)
    assert [tuple(b[1].shape) for b in DataLoader(full, batch_size=3)] == [(3, 8), (1, 8)]
    with pytest.raises(ValueError, match="Valid values are"):
        QMNIST(root, what="validation")


# ---- CIFAR-100
def cifar100_records(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 100, n), rng.integers(0, 20, n)


FINE = [f"fine{i}" for i in range(100)]
COARSE = [f"coarse{i}" for i in range(20)]


def write_cifar100(root, fmt):
    out = {}
    if fmt == "binary":
        sub = root / "cifar-100-binary"
        sub.mkdir(parents=True)
        for k, name in enumerate(("train.bin", "test.bin")):
            data, fine, coarse = cifar100_records(5 + k, k)
            labels = np.stack([coarse, fine], 1).astype(np.uint8)
            records = np.concatenate([labels, data], 1)
            (sub / name).write_bytes(records.tobytes())
            out[name] = (data, fine, coarse)
        (sub / "fine_label_names.txt").write_text("\n".join(FINE) + "\n")
        (sub / "coarse_label_names.txt").write_text("\n".join(COARSE) + "\n")
    else:
        sub = root / "cifar-100-python"
        sub.mkdir(parents=True)
        for k, name in enumerate(("train", "test")):
            data, fine, coarse = cifar100_records(5 + k, 10 + k)
            entry = {b"filenames": [b"x.png"] * len(data), b"batch_label": b"training batch 1 of 1",
                     b"fine_labels": [int(v) for v in fine], b"coarse_labels": [int(v) for v in coarse],
                     b"data": data}
            (sub / name).write_bytes(pickle.dumps(entry, protocol=2))
            out[name] = (data, fine, coarse)
        meta = {b"fine_label_names": [n.encode() for n in FINE],
                b"coarse_label_names": [n.encode() for n in COARSE]}
        (sub / "meta").write_bytes(pickle.dumps(meta, protocol=2))
    return sub, out


@pytest.mark.parametrize("fmt", ["binary", "python"])
def test_cifar100_both_distributions(isolated, fmt):  # noqa: F811
    root = isolated / "data"
    _, written = write_cifar100(root, fmt)
    train, test = CIFAR100(root), CIFAR100(root, train=False, target_type="coarse")
    key = "train.bin" if fmt == "binary" else "train"
    data, fine, coarse = written[key]
    assert len(train) == 5 and len(test) == 6 and train.format == fmt
    np.testing.assert_array_equal(train.data, data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(train.targets, fine)
    np.testing.assert_array_equal(train.coarse_targets, coarse)
    assert train.classes == FINE and test.classes == COARSE and train.coarse_classes == COARSE
    image, label = train[4]
    assert image.shape == (3, 32, 32) and label == int(fine[4])
    np.testing.assert_array_equal(image.numpy()[:, 0, 0], data[4, [0, 1024, 2048]] / np.float32(255))
    with pytest.raises(ValueError, match="coarse"):
        CIFAR100(root, target_type="superclass")


def test_cifar100_archive_extracted_and_bad_files(isolated):  # noqa: F811
    staging = isolated / "staging"
    sub, _ = write_cifar100(staging, "python")
    root = isolated / "data"
    root.mkdir()
    tar_folder(sub, root / "cifar-100-python.tar.gz")
    assert len(CIFAR100(root)) == 5 and (root / "cifar-100-python" / "meta").is_file()
    bad = isolated / "bad" / "cifar-100-binary"
    write_cifar100(isolated / "bad", "binary")
    (bad / "train.bin").write_bytes((bad / "train.bin").read_bytes()[:-7])
    with pytest.raises(DataFileError, match="whole number"):
        CIFAR100(isolated / "bad")
    with tarfile.open(root / "cifar-100-python.tar.gz") as tar:
        assert "cifar-100-python/train" in tar.getnames()


# ---- SVHN and the MAT reader
def write_svhn(folder, split, n, compress):
    scipy_io = pytest.importorskip("scipy.io", reason="the test writes .mat files with SciPy (a scikit-image "
                                                      "dependency)")
    rng = np.random.default_rng(n)
    X = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
    y = rng.integers(1, 11, (n, 1)).astype(np.float64)  # 10 stands for the digit 0
    folder.mkdir(parents=True, exist_ok=True)
    scipy_io.savemat(folder / f"{split}_32x32.mat", {"X": X, "y": y}, do_compression=compress)
    return X, y


@pytest.mark.parametrize("compress", [True, False])
def test_svhn_reads_matlab_v5(isolated, compress):  # noqa: F811
    root = isolated / "svhn-root"
    X, y = write_svhn(root, "test", 7, compress)
    ds = SVHN(root, split="test")
    expected_labels = np.where(y[:, 0] == 10, 0, y[:, 0]).astype(np.int64)
    np.testing.assert_array_equal(ds.labels, expected_labels)
    np.testing.assert_array_equal(ds.data, X.transpose(3, 2, 0, 1))  # torchvision's (N, C, H, W)
    image, label = ds[3]
    assert image.shape == (3, 32, 32) and label == expected_labels[3]
    np.testing.assert_array_equal(image.numpy(), X[:, :, :, 3].transpose(2, 0, 1) / np.float32(255))
    with pytest.raises(DatasetNotFoundError, match="train_32x32.mat"):
        SVHN(root, split="train")
    with pytest.raises(ValueError, match="train, test, extra"):
        SVHN(root, split="validation")


def test_mat_reader_agrees_with_scipy_and_refuses_what_it_cannot_read(tmp_path):
    scipy_io = pytest.importorskip("scipy.io", reason="SciPy writes the reference files")
    values = {"a": np.arange(24, dtype=np.int16).reshape(2, 3, 4), "b": np.float32([[1.5, -2.0]]),
              "c": np.uint64([[2**40]]), "d": np.array([[True, False]])}
    for compress in (True, False):
        scipy_io.savemat(tmp_path / "v.mat", values, do_compression=compress)
        got, ref = read_mat(tmp_path / "v.mat"), scipy_io.loadmat(tmp_path / "v.mat")
        for key in values:
            assert got[key].dtype == ref[key].dtype and np.array_equal(got[key], ref[key]), key
    scipy_io.savemat(tmp_path / "cell.mat", {"s": {"x": 1.0}})
    with pytest.raises(DataFileError, match="struct.*scipy.io.loadmat"):
        read_mat(tmp_path / "cell.mat")
    (tmp_path / "junk.mat").write_bytes(b"x" * 200)
    with pytest.raises(DataFileError, match="not a MATLAB Level 5"):
        read_mat(tmp_path / "junk.mat")
    data = (tmp_path / "v.mat").read_bytes()
    (tmp_path / "cut.mat").write_bytes(data[:len(data) - 40])
    with pytest.raises(DataFileError, match="truncated"):
        read_mat(tmp_path / "cut.mat")

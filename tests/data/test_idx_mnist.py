"""IDX reading and the MNIST / Fashion-MNIST datasets on small files written here."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from datahelpers import isolated, write_mnist  # noqa: F401 - `isolated` is a fixture

from striate.autograd.tensor import Tensor
from striate.data.datasets import MNIST, DataFileError, DatasetNotFoundError, FashionMNIST
from striate.data.datasets.idx import idx_bytes, parse_idx, read_idx, write_idx


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, dtype, gz):
    arr = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    if dtype == "u1":
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / ("a.idx" + (".gz" if gz else "")), arr)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype).newbyteorder("=") and np.array_equal(back, arr)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == gz


def test_idx_header_is_big_endian():
    raw = idx_bytes(np.zeros((60000, 28, 28), np.uint8))
    assert raw[:4] == b"\x00\x00\x08\x03"
    assert raw[4:8] == (60000).to_bytes(4, "big") and raw[8:12] == (28).to_bytes(4, "big")


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_loads_train_and_test(isolated, gz):  # noqa: F811
    root = isolated / "data"
    written = write_mnist(root, n_train=30, n_test=12, gz=gz)
    train, test = MNIST(root=root, train=True), MNIST(root=root, train=False)
    assert len(train) == 30 and len(test) == 12
    assert train.data.shape == (30, 28, 28) and train.data.dtype == np.uint8
    assert train.targets.dtype == np.int64 and np.array_equal(train.targets, written["train"][1])
    assert np.array_equal(test.data, written["t10k"][0])
    image, label = train[3]
    assert isinstance(image, Tensor) and image.shape == (1, 28, 28) and image.dtype == np.float32
    assert label == int(written["train"][1][3]) and isinstance(label, int)
    # torchvision's ToTensor: float32(x) / 255 in float32
    expected = written["train"][0][3].astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(image.numpy()[0], expected)
    assert image.numpy().min() >= 0 and image.numpy().max() <= 1
    assert train.classes[0] == "0 - zero" and len(train.classes) == 10
    assert train[-1][1] == int(written["train"][1][-1])
    with pytest.raises(IndexError, match="out of range"):
        train[30]


def test_arrays_and_get_batch_match_items(isolated):  # noqa: F811
    root = isolated / "data"
    write_mnist(root, n_train=20)
    ds = MNIST(root=root)
    X, y = ds.arrays()
    assert X.shape == (20, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    for i in (0, 7, 19):
        np.testing.assert_array_equal(X[i], ds[i][0].numpy())
        assert y[i] == ds[i][1]
    xb, yb = ds.get_batch([5, 2, 5])
    np.testing.assert_array_equal(xb, X[[5, 2, 5]])
    np.testing.assert_array_equal(yb, y[[5, 2, 5]])


def test_repr_like_torchvision(isolated):  # noqa: F811
    root = isolated / "data"
    write_mnist(root)
    text = repr(MNIST(root=root, train=False))
    assert text.splitlines()[0] == "Dataset MNIST"
    assert "Number of datapoints: 12" in text and f"Root location: {root}" in text and "Split: Test" in text


def test_layouts_torchvision_and_dot_spelling(isolated):  # noqa: F811
    root = isolated / "data"
    write_mnist(root / "MNIST" / "raw", n_train=9)                   # torchvision's root/MNIST/raw
    assert len(MNIST(root=root)) == 9
    write_mnist(root / "fashion-mnist", n_train=7, spelling=".")      # train-images.idx3-ubyte.gz
    assert len(FashionMNIST(root=root)) == 7
    assert FashionMNIST(root=root).classes[0] == "T-shirt/top"


def test_search_order_root_env_cache_system(isolated, monkeypatch):  # noqa: F811
    from striate.data.datasets import base

    write_mnist(base.SYSTEM_DATASET_DIR / "mnist", n_train=4)
    assert len(MNIST()) == 4 and MNIST().root == base.SYSTEM_DATASET_DIR / "mnist"
    write_mnist(base.cache_dir() / "mnist", n_train=5)
    assert len(MNIST()) == 5
    monkeypatch.setenv("STRIATE_DATA", str(isolated / "env"))
    write_mnist(isolated / "env" / "mnist", n_train=6)
    assert len(MNIST()) == 6
    write_mnist(isolated / "explicit", n_train=7)
    assert len(MNIST(root=isolated / "explicit")) == 7


def test_not_found_lists_every_folder_and_the_fix(isolated):  # noqa: F811
    from striate.data.datasets import base

    with pytest.raises(DatasetNotFoundError) as err:
        FashionMNIST(root=isolated / "nowhere")
    msg = str(err.value)
    for folder in (isolated / "nowhere", isolated / "nowhere" / "fashion-mnist",
                   isolated / "nowhere" / "FashionMNIST" / "raw", base.cache_dir() / "fashion-mnist",
                   base.SYSTEM_DATASET_DIR / "fashion-mnist"):
        assert str(folder) in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "download=True" in msg
    assert "train-images-idx3-ubyte" in msg


def _write(path, raw, gz):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw) if gz else raw)


@pytest.mark.parametrize("gz", [False, True])
def test_wrong_magic_names_file_and_problem(isolated, gz):  # noqa: F811
    root = isolated / "data"
    write_mnist(root, gz=gz)
    name = "train-images-idx3-ubyte" + (".gz" if gz else "")
    raw = bytearray(idx_bytes(np.zeros((30, 28, 28), np.uint8)))
    raw[0:2] = b"\x12\x34"
    _write(root / name, bytes(raw), gz)
    with pytest.raises(DataFileError, match="wrong IDX magic number") as err:
        MNIST(root=root)
    assert str(root / name) in str(err.value)


def test_truncated_images_file(isolated):  # noqa: F811
    root = isolated / "data"
    write_mnist(root, gz=False)
    raw = idx_bytes(np.zeros((30, 28, 28), np.uint8))[:-100]
    _write(root / "train-images-idx3-ubyte", raw, False)
    with pytest.raises(DataFileError, match=r"truncated.*\(30, 28, 28\)") as err:
        MNIST(root=root)
    assert "train-images-idx3-ubyte" in str(err.value)


def test_truncated_gzip_stream(isolated):  # noqa: F811
    root = isolated / "data"
    write_mnist(root, gz=True)
    path = root / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataFileError, match="gzip stream is corrupt or truncated"):
        MNIST(root=root)


def test_label_out_of_range(isolated):  # noqa: F811
    root = isolated / "data"
    write_mnist(root, gz=False)
    labels = np.zeros(30, np.uint8)
    labels[17] = 12
    _write(root / "train-labels-idx1-ubyte", idx_bytes(labels), False)
    with pytest.raises(DataFileError, match="label 12 at position 17 is out of range 0..9") as err:
        MNIST(root=root)
    assert "train-labels-idx1-ubyte" in str(err.value)


def test_count_mismatch_and_wrong_shape(isolated):  # noqa: F811
    root = isolated / "data"
    write_mnist(root, gz=False)
    _write(root / "train-labels-idx1-ubyte", idx_bytes(np.zeros(29, np.uint8)), False)
    with pytest.raises(DataFileError, match="29 labels for 30 images"):
        MNIST(root=root)
    _write(root / "train-labels-idx1-ubyte", idx_bytes(np.zeros((30, 2), np.uint8)), False)
    with pytest.raises(DataFileError, match=r"labels of shape \(N,\)"):
        MNIST(root=root)


def test_parse_idx_rejects_garbage():
    with pytest.raises(DataFileError, match="too short"):
        parse_idx(b"\x00\x00")
    with pytest.raises(DataFileError, match="unknown IDX type code 0x07"):
        parse_idx(b"\x00\x00\x07\x01\x00\x00\x00\x01\x05")
    with pytest.raises(DataFileError, match="unexpected bytes after"):
        parse_idx(idx_bytes(np.zeros(3, np.uint8)) + b"\x00")
    with pytest.raises(DataFileError, match="truncated header"):
        parse_idx(b"\x00\x00\x08\x03\x00\x00")

"""CIFAR-10 in both distributions (binary records, pickled batches read safely) on small files."""

from __future__ import annotations

import os
import pickle
import tarfile

import numpy as np
import pytest
from datahelpers import (  # noqa: F401 - `isolated` is a fixture
    CIFAR_CLASSES,
    isolated,
    leftovers,
    tar_folder,
    write_cifar_binary,
    write_cifar_python,
)

from striate.data.datasets import CIFAR10, DataFileError, DatasetNotFoundError, UnsafePickleError
from striate.data.datasets import cifar as cifar_mod
from striate.data.datasets.safepickle import safe_load, safe_loads


def _expected_hwc(data: np.ndarray) -> np.ndarray:
    # 1024 red bytes, then green, then blue, each row-major: (3, 32, 32) -> HWC
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def test_binary_distribution(isolated):  # noqa: F811
    root = isolated / "data"
    written = write_cifar_binary(root, per_batch=4)
    train, test = CIFAR10(root=root, train=True), CIFAR10(root=root, train=False)
    assert len(train) == 20 and len(test) == 4 and train.format == "binary"
    assert train.data.shape == (20, 32, 32, 3) and train.data.dtype == np.uint8
    batches = [written[f"data_batch_{i}.bin"] for i in range(1, 6)]
    np.testing.assert_array_equal(train.data, _expected_hwc(np.concatenate([b[0] for b in batches])))
    np.testing.assert_array_equal(train.targets, np.concatenate([b[1] for b in batches]))
    assert train.targets.dtype == np.int64
    image, label = test[2]
    assert image.shape == (3, 32, 32) and image.dtype == np.float32
    red = written["test_batch.bin"][0][2, :1024].reshape(32, 32)
    np.testing.assert_array_equal(image.numpy()[0], red.astype(np.float32) / np.float32(255))
    assert label == int(written["test_batch.bin"][1][2])
    assert train.classes == CIFAR_CLASSES
    X, y = train.arrays()
    assert X.shape == (20, 3, 32, 32) and X.dtype == np.float32
    np.testing.assert_array_equal(X[7], train[7][0].numpy())


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_python_distribution_read_safely(isolated, protocol):  # noqa: F811
    root = isolated / "data"
    written = write_cifar_python(root, per_batch=3, protocol=protocol)
    train, test = CIFAR10(root=root, train=True), CIFAR10(root=root, train=False)
    assert train.format == "python" and len(train) == 15 and len(test) == 3
    batches = [written[f"data_batch_{i}"] for i in range(1, 6)]
    np.testing.assert_array_equal(train.data, _expected_hwc(np.concatenate([b[0] for b in batches])))
    np.testing.assert_array_equal(train.targets, np.concatenate([b[1] for b in batches]))
    assert train.classes == CIFAR_CLASSES


def test_binary_preferred_and_format_forced(isolated):  # noqa: F811
    root = isolated / "data"
    write_cifar_binary(root)
    write_cifar_python(root)
    assert CIFAR10(root=root).format == "binary"
    assert CIFAR10(root=root, format="python").format == "python"
    with pytest.raises(ValueError, match="format must be"):
        CIFAR10(root=root, format="matlab")


def test_record_cut_short(isolated):  # noqa: F811
    root = isolated / "data"
    write_cifar_binary(root)
    path = root / "cifar-10-batches-bin" / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataFileError, match="last record is cut short") as err:
        CIFAR10(root=root)
    assert "data_batch_3.bin" in str(err.value) and "3073-byte records" in str(err.value)


def test_binary_label_out_of_range(isolated):  # noqa: F811
    root = isolated / "data"
    write_cifar_binary(root)
    path = root / "cifar-10-batches-bin" / "test_batch.bin"
    raw = bytearray(path.read_bytes())
    raw[3073] = 10  # the second record's label byte
    path.write_bytes(bytes(raw))
    with pytest.raises(DataFileError, match="label 10 at position 1 is out of range") as err:
        CIFAR10(root=root, train=False)
    assert "test_batch.bin" in str(err.value)


class _RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_refused_without_executing(isolated):  # noqa: F811
    root = isolated / "data"
    write_cifar_python(root)
    marker = isolated / "pwned"
    evil = {b"data": _RunsShell(marker), b"labels": [0]}
    path = root / "cifar-10-batches-py" / "data_batch_2"
    for protocol in (0, 2, 5):
        path.write_bytes(pickle.dumps(evil, protocol=protocol))
        with pytest.raises(UnsafePickleError, match="system") as err:
            CIFAR10(root=root, format="python")
        assert "data_batch_2" in str(err.value)
        assert not marker.exists()


@pytest.mark.parametrize("payload", [
    b"cbuiltins\neval\n(S'1+1'\ntR.",                        # GLOBAL + REDUCE on eval
    b"\x80\x04\x8c\x08builtins\x8c\x04exec\x93\x8c\x011\x85R.",  # STACK_GLOBAL exec
    b"(cos\nsystem\nS'true'\no.",                            # OBJ opcode
    b"(S'x'\nios\nsystem\n.",                                # INST opcode
])
def test_code_running_opcodes_refused(payload):
    with pytest.raises(UnsafePickleError, match="refused to unpickle"):
        safe_loads(payload, "evil.pkl")


def test_safe_pickle_reads_plain_data_and_arrays():
    arrays = {"u8": np.arange(12, dtype=np.uint8).reshape(3, 4), "f64be": np.arange(6, dtype=">f8"),
              "fortran": np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3))}
    obj = {"a": [1, -2, 2**70, 1.5, None, True, "text", b"\x00\xff"], "t": (1, (2,)), **arrays}
    for protocol in range(6):
        back = safe_loads(pickle.dumps(obj, protocol=protocol))
        assert back["a"] == obj["a"] and back["t"] == obj["t"]
        for k, v in arrays.items():
            assert np.array_equal(back[k], v) and back[k].dtype == v.dtype.newbyteorder("=")
    with pytest.raises(UnsafePickleError):
        safe_loads(pickle.dumps(np.array([object()], dtype=object)))


def test_python_batch_with_wrong_content(isolated):  # noqa: F811
    root = isolated / "data"
    write_cifar_python(root)
    path = root / "cifar-10-batches-py" / "data_batch_1"
    path.write_bytes(pickle.dumps({b"pixels": np.zeros((2, 3072), np.uint8)}))
    with pytest.raises(DataFileError, match="needs keys 'data' and 'labels'"):
        CIFAR10(root=root)
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(DataFileError, match=r"shape \(N, 3072\)"):
        CIFAR10(root=root)
    path.write_bytes(b"\x80\x02}q\x00(")  # cut short
    with pytest.raises(DataFileError, match="not a readable pickle"):
        safe_load(path)


def test_archive_found_is_extracted_safely(isolated):  # noqa: F811
    staging = isolated / "staging"
    written = write_cifar_binary(staging)
    root = isolated / "data"
    root.mkdir()
    tar_folder(staging / "cifar-10-batches-bin", root / "cifar-10-binary.tar.gz",
               extra={"../escape.txt": b"x", "cifar-10-batches-bin/readme.html": b"<html>"})
    ds = CIFAR10(root=root, train=False)
    assert len(ds) == 4 and ds.root == root / "cifar-10-batches-bin"
    np.testing.assert_array_equal(ds.targets, written["test_batch.bin"][1])
    assert not (isolated / "escape.txt").exists()                       # only expected members
    assert not (root / "cifar-10-batches-bin" / "readme.html").exists()
    assert leftovers(root) == []


def test_archive_with_a_link_member_is_refused(isolated):  # noqa: F811
    staging = isolated / "staging"
    write_cifar_binary(staging)
    archive = isolated / "data" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        for name in sorted(os.listdir(staging / "cifar-10-batches-bin")):
            if name == "data_batch_1.bin":
                info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
                info.type = tarfile.SYMTYPE
                info.linkname = "/etc/passwd"
                tar.addfile(info)
            else:
                tar.add(staging / "cifar-10-batches-bin" / name, arcname=f"cifar-10-batches-bin/{name}")
    with pytest.raises(DataFileError, match="not a regular file"):
        CIFAR10(root=isolated / "data")
    assert leftovers(isolated / "data") == [] and not (isolated / "data" / "cifar-10-batches-bin").exists()


def test_download_binary_archive(isolated, monkeypatch):  # noqa: F811
    import hashlib

    staging = isolated / "staging"
    written = write_cifar_binary(staging)
    archive = tar_folder(staging / "cifar-10-batches-bin", isolated / "served.tar.gz")
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    spec = dict(cifar_mod.FORMATS["binary"], url=archive.as_uri(), md5=md5)
    monkeypatch.setitem(cifar_mod.FORMATS, "binary", spec)
    root = isolated / "data"
    with pytest.raises(DatasetNotFoundError, match="download=True"):
        CIFAR10(root=root)
    ds = CIFAR10(root=root, train=True, download=True)
    assert len(ds) == 20 and ds.root == root / "cifar-10" / "cifar-10-batches-bin"
    np.testing.assert_array_equal(ds.targets[:4], written["data_batch_1.bin"][1])
    assert not (root / "cifar-10" / "cifar-10-binary.tar.gz").exists()   # archive removed after extraction
    assert leftovers(root / "cifar-10") == []


def test_download_with_wrong_md5_leaves_nothing(isolated, monkeypatch):  # noqa: F811
    staging = isolated / "staging"
    write_cifar_binary(staging)
    archive = tar_folder(staging / "cifar-10-batches-bin", isolated / "served.tar.gz")
    spec = dict(cifar_mod.FORMATS["binary"], url=archive.as_uri(), md5="0" * 32)
    monkeypatch.setitem(cifar_mod.FORMATS, "binary", spec)
    root = isolated / "data"
    with pytest.raises(OSError, match="checksum mismatch"):
        CIFAR10(root=root, download=True)
    assert list((root / "cifar-10").iterdir()) == []


def test_corrupt_archive(isolated):  # noqa: F811
    root = isolated / "data"
    root.mkdir()
    (root / "cifar-10-binary.tar.gz").write_bytes(b"\x1f\x8b" + bytes(50))
    with pytest.raises(DataFileError, match="not a readable .tar.gz"):
        CIFAR10(root=root)
    assert leftovers(root) == []


def test_archive_missing_a_batch_names_it(isolated):  # noqa: F811
    staging = isolated / "staging"
    write_cifar_binary(staging)
    (staging / "cifar-10-batches-bin" / "data_batch_4.bin").unlink()
    root = isolated / "data"
    root.mkdir()
    tar_folder(staging / "cifar-10-batches-bin", root / "cifar-10-binary.tar.gz")
    with pytest.raises(DataFileError, match="has no cifar-10-batches-bin/data_batch_4.bin"):
        CIFAR10(root=root)
    assert leftovers(root) == [] and not (root / "cifar-10-batches-bin").exists()

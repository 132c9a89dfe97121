"""Downloads: verified against the published checksum, written atomically, no partial files.

The machine has no internet, so the sources are local `file://` URLs and openers that fail."""

from __future__ import annotations

import gzip
import hashlib
import io

import numpy as np
import pytest
from datahelpers import isolated, leftovers, write_mnist  # noqa: F401 - `isolated` is a fixture

from striate.data.datasets import (
    MNIST,
    ChecksumError,
    DatasetNotFoundError,
    DownloadError,
    FashionMNIST,
    base,
)
from striate.data.datasets.base import download, verify_checksum


def _served(tmp_path, payload: bytes = b"striate " * 1000):
    src = tmp_path / "server" / "file.bin"
    src.parent.mkdir(parents=True)
    src.write_bytes(payload)
    return src, payload


@pytest.mark.parametrize("algorithm", ["md5", "sha256"])
def test_download_file_url_verified(tmp_path, algorithm):
    src, payload = _served(tmp_path)
    digest = hashlib.new(algorithm, payload).hexdigest()
    dest = tmp_path / "out" / "file.bin"
    assert download(src.as_uri(), dest, digest, algorithm) == dest
    assert dest.read_bytes() == payload and leftovers(dest.parent) == []
    assert (dest.stat().st_mode & 0o777) == 0o644
    verify_checksum(dest, digest, algorithm)


def test_checksum_mismatch_leaves_no_file(tmp_path):
    src, payload = _served(tmp_path)
    dest = tmp_path / "out" / "file.bin"
    with pytest.raises(DownloadError, match="checksum mismatch") as err:
        download(src.as_uri(), dest, "0" * 32, "md5")
    assert "no partial file was kept" in str(err.value) and src.as_uri() in str(err.value)
    assert not dest.exists() and leftovers(dest.parent) == []


class _Response(io.BytesIO):
    """A response that delivers some bytes and then fails, like a dropped connection."""

    def __init__(self, data: bytes, fail_after: int | None = None):
        super().__init__(data)
        self.fail_after = fail_after
        self.headers = {"Content-Length": str(len(data))}

    def read(self, n=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        return super().read(min(n, 1000) if n and n > 0 else 1000)


def test_failed_download_midway_leaves_no_partial_file(tmp_path):
    payload = bytes(range(256)) * 40
    dest = tmp_path / "out" / "file.bin"
    with pytest.raises(DownloadError, match="connection reset"):
        download("https://example.invalid/file.bin", dest, hashlib.md5(payload).hexdigest(), "md5",
                 opener=lambda url: _Response(payload, fail_after=3000))
    assert not dest.exists() and leftovers(dest.parent) == []


def test_falls_back_to_the_next_mirror(tmp_path):
    payload = b"good bytes"
    calls = []

    def opener(url):
        calls.append(url)
        if "first" in url:
            raise OSError("host unreachable")
        if "second" in url:
            return _Response(b"bad bytes!")
        return _Response(payload)

    dest = tmp_path / "f.bin"
    download(["https://first/f", "https://second/f", "https://third/f"], dest,
             hashlib.sha256(payload).hexdigest(), "sha256", opener=opener)
    assert calls == ["https://first/f", "https://second/f", "https://third/f"]
    assert dest.read_bytes() == payload and leftovers(tmp_path) == []


def test_existing_file_is_not_replaced_by_a_failed_download(tmp_path):
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"old")
    with pytest.raises(DownloadError):
        download("https://x/f", dest, "0" * 32, "md5", opener=lambda url: _Response(b"new"))
    assert dest.read_bytes() == b"old"


def test_verify_checksum_names_the_file(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    with pytest.raises(ChecksumError, match="sha256 checksum mismatch") as err:
        verify_checksum(path, "f" * 64)
    assert str(path) in str(err.value)


def _serve_mnist(tmp_path, monkeypatch, cls):
    """Write MNIST files into a served folder and point `cls` at it with their real MD5s."""
    server = tmp_path / "mirror"
    written = write_mnist(server, n_train=11, n_test=5, gz=True)
    md5 = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in server.iterdir()}
    monkeypatch.setattr(cls, "mirrors", ("https://unreachable.invalid/", server.as_uri() + "/"))
    monkeypatch.setattr(cls, "md5", md5)
    return written


def test_mnist_download_into_root(isolated, monkeypatch):  # noqa: F811
    written = _serve_mnist(isolated, monkeypatch, MNIST)
    monkeypatch.setattr(base, "_urlopen", _no_network_except_files)
    root = isolated / "data"
    with pytest.raises(DatasetNotFoundError, match="pass download=True"):
        MNIST(root=root)
    ds = MNIST(root=root, train=False, download=True)
    assert len(ds) == 5 and ds.root == root / "mnist"
    np.testing.assert_array_equal(ds.data, written["t10k"][0])
    assert sorted(p.name for p in (root / "mnist").iterdir()) == ["t10k-images-idx3-ubyte.gz",
                                                                   "t10k-labels-idx1-ubyte.gz"]
    assert len(MNIST(root=root, train=False)) == 5  # found now, no download


def test_download_goes_to_the_cache_without_root(isolated, monkeypatch):  # noqa: F811
    _serve_mnist(isolated, monkeypatch, FashionMNIST)
    monkeypatch.setattr(base, "_urlopen", _no_network_except_files)
    ds = FashionMNIST(download=True)
    assert ds.root == base.cache_dir() / "fashion-mnist"
    assert str(ds.root).startswith(str(isolated / "xdg-cache"))


def test_download_with_corrupt_mirror_copy(isolated, monkeypatch):  # noqa: F811
    _serve_mnist(isolated, monkeypatch, MNIST)
    monkeypatch.setattr(base, "_urlopen", _no_network_except_files)
    served = isolated / "mirror" / "train-images-idx3-ubyte.gz"
    served.write_bytes(gzip.compress(b"tampered"))
    root = isolated / "data"
    with pytest.raises(DownloadError, match="train-images-idx3-ubyte.gz"):
        MNIST(root=root, download=True)
    assert not (root / "mnist" / "train-images-idx3-ubyte.gz").exists()
    assert leftovers(root / "mnist") == []


def _no_network_except_files(url):
    import urllib.request

    if not url.startswith("file:"):
        raise OSError(f"no network in tests: {url}")
    return urllib.request.urlopen(url)


def test_published_checksums_are_recorded():
    # The canonical digests as their authors publish them (also in torchvision).
    assert MNIST.md5["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert FashionMNIST.md5["t10k-labels-idx1-ubyte.gz"] == "bb300cfdad3c16e7a12a480ee83cd310"
    from striate.data.datasets.cifar import FORMATS

    assert FORMATS["binary"]["md5"] == "c32a1d4ab5d03f1284b67883e8d87530"
    assert FORMATS["python"]["md5"] == "c58f30108f718f92721af3b95e74349a"
    assert FORMATS["binary"]["url"].startswith("https://www.cs.toronto.edu/~kriz/")

"""ImageFolder on PNG files written here with Pillow."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from striate.data import DataLoader
from striate.data import transforms as T
from striate.data.datasets import DataFileError, ImageFolder

Image = pytest.importorskip("PIL.Image", reason="Pillow (the 'images' extra) is not installed")


def _write_tree(root, sizes=None):
    rng = np.random.default_rng(0)
    written = {}
    for cls, n in (("dog", 2), ("cat", 3)):
        (root / cls).mkdir(parents=True)
        for i in range(n):
            h, w = (sizes or {}).get((cls, i), (6, 5))
            arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / cls / f"{i:02d}.png")
            written[(cls, i)] = arr
    (root / "cat" / "notes.txt").write_text("not an image")
    return written


def test_classes_sorted_and_items(tmp_path):
    written = _write_tree(tmp_path)
    ds = ImageFolder(tmp_path)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 5 and list(ds.targets) == [0, 0, 0, 1, 1] and ds.targets.dtype == np.int64
    image, label = ds[3]
    assert image.shape == (3, 6, 5) and image.dtype == np.float32 and label == 1
    expected = written[("dog", 0)].transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(image.numpy(), expected)
    assert ds.data.shape == (5, 6, 5, 3) and ds.data.dtype == np.uint8
    x, y = next(iter(DataLoader(ds, batch_size=5)))
    assert x.shape == (5, 3, 6, 5) and list(y.numpy()) == [0, 0, 0, 1, 1]
    assert "Dataset ImageFolder" in repr(ds) and "Number of datapoints: 5" in repr(ds)


def test_grey_mode_and_transform(tmp_path):
    _write_tree(tmp_path)
    ds = ImageFolder(tmp_path, transform=T.Resize((8, 8)), mode="L")
    image, _ = ds[0]
    assert image.shape == (1, 8, 8)


def test_mixed_sizes_need_a_resize(tmp_path):
    _write_tree(tmp_path, sizes={("cat", 1): (9, 7)})
    with pytest.raises(ValueError, match="different sizes"):
        next(iter(DataLoader(ImageFolder(tmp_path), batch_size=5)))
    with pytest.raises(ValueError, match="different sizes"):
        ImageFolder(tmp_path).data
    x, _ = next(iter(DataLoader(ImageFolder(tmp_path, transform=T.Resize((4, 4))), batch_size=5)))
    assert x.shape == (5, 3, 4, 4)


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        ImageFolder(tmp_path / "missing")
    (tmp_path / "empty_root").mkdir()
    with pytest.raises(FileNotFoundError, match="no class subfolders"):
        ImageFolder(tmp_path / "empty_root")
    (tmp_path / "tree" / "a").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no image files .* a under"):
        ImageFolder(tmp_path / "tree")
    (tmp_path / "tree" / "a" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataFileError, match="broken.png: cannot read the image"):
        ImageFolder(tmp_path / "tree")[0]


def test_missing_pillow_message(tmp_path, monkeypatch):
    _write_tree(tmp_path)
    ds = ImageFolder(tmp_path)
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install striate\[images\]"):
        ds[0]

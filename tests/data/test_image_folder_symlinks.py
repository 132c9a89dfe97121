"""ImageFolder refuses symbolic links that lead outside its root unless told to follow them."""

from __future__ import annotations

import numpy as np
import pytest

from striate.data.datasets import ImageFolder
from striate.data.datasets.base import DataFileError

Image = pytest.importorskip("PIL.Image", reason="ImageFolder reads images with Pillow")


def _png(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(path)


def test_links_outside_the_root_are_refused_unless_followed(tmp_path):
    root, outside = tmp_path / "data", tmp_path / "elsewhere"
    _png(root / "cat" / "a.png")
    _png(outside / "dog" / "b.png")
    _png(outside / "c.png")
    (root / "dog").symlink_to(outside / "dog", target_is_directory=True)  # a class from elsewhere
    with pytest.raises(DataFileError, match="links outside the dataset root.*follow_symlinks=True"):
        ImageFolder(root)
    assert ImageFolder(root, follow_symlinks=True).classes == ["cat", "dog"]
    (root / "dog").unlink()
    (root / "cat" / "c.png").symlink_to(outside / "c.png")  # a file from elsewhere
    with pytest.raises(DataFileError, match="c.png"):
        ImageFolder(root)
    assert len(ImageFolder(root, follow_symlinks=True)) == 2


def test_links_inside_the_root_are_fine(tmp_path):
    root = tmp_path / "data"
    _png(root / "cat" / "a.png")
    (root / "cat" / "b.png").symlink_to(root / "cat" / "a.png")
    assert len(ImageFolder(root)) == 2

"""The real Fashion-MNIST from Debian's dataset-fashion-mnist, when installed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from striate.data import DataLoader
from striate.data.datasets import FashionMNIST

SYSTEM = Path("/usr/share/datasets/fashion-mnist")
pytestmark = pytest.mark.skipif(
    not (SYSTEM / "train-images-idx3-ubyte.gz").is_file(),
    reason=f"Fashion-MNIST is not installed in {SYSTEM} (apt-get install dataset-fashion-mnist)",
)


def test_loads_60000_plus_10000_from_the_system_folder(monkeypatch):
    monkeypatch.delenv("STRIATE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/nonexistent-striate-test-cache")
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    assert train.root == SYSTEM and test.root == SYSTEM
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert train.data.dtype == np.uint8
    assert np.array_equal(np.bincount(train.targets), [6000] * 10)
    assert np.array_equal(np.bincount(test.targets), [1000] * 10)
    assert train.classes[9] == "Ankle boot"
    # the first training image is an ankle boot, label 9 (a known fact of the data set)
    assert int(train.targets[0]) == 9
    x, y = next(iter(DataLoader(test, batch_size=256)))
    assert x.shape == (256, 1, 28, 28) and float(x.numpy().max()) <= 1.0

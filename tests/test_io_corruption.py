"""Corrupt checkpoints: truncation at every 1/16 of the file and a flipped bit at 64 random
positions (header and tensor data) are each a clear `StriateFileError`, never a silently
different model; ModelCheckpoint's previous file is the fallback, with a warning."""

from __future__ import annotations

import random

import numpy as np
import pytest

import striate as st
import striate.nn as nn
from striate.io import StriateFileError
from striate.train.callbacks import (
    CheckpointFallbackWarning,
    ModelCheckpoint,
    NoCheckpointError,
    previous_path,
    read_checkpoint,
)


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    st.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
    opt = st.optim.Adam(model.parameters())
    model(st.randn(2, 1, 8, 8)).sum().backward()
    opt.step()
    path = tmp_path_factory.mktemp("ckpt") / "good.safetensors"
    st.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    return path.read_bytes()


def _header_end(data: bytes) -> int:
    return 8 + int.from_bytes(data[:8], "little")


def _refused(tmp_path, data: bytes, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(StriateFileError) as e:
        st.load(path)
    assert str(path) in str(e.value)  # the error names the file
    return str(e.value)


def test_truncation_at_every_sixteenth_is_refused(tmp_path, checkpoint_bytes):
    n = len(checkpoint_bytes)
    for k in range(16):
        _refused(tmp_path, checkpoint_bytes[: k * n // 16], f"cut{k}.safetensors")


def test_a_flipped_bit_anywhere_is_refused(tmp_path, checkpoint_bytes):
    rng = random.Random(64)
    header_end = _header_end(checkpoint_bytes)
    # half in the header (length, JSON with shapes, offsets, structure, digest), half in the data
    positions = [rng.randrange(header_end) for _ in range(32)]
    positions += [rng.randrange(header_end, len(checkpoint_bytes)) for _ in range(32)]
    messages = set()
    for i, pos in enumerate(positions):
        data = bytearray(checkpoint_bytes)
        data[pos] ^= 1 << rng.randrange(8)
        messages.add(_refused(tmp_path, bytes(data), f"flip{i}.safetensors").split(": ", 1)[1][:40])
    assert any("digest" in m for m in messages) or len(messages) > 1


def test_data_flip_names_the_digest(tmp_path, checkpoint_bytes):
    data = bytearray(checkpoint_bytes)
    data[-5] ^= 0x10  # inside the last tensor's bytes
    assert "do not match the digest" in _refused(tmp_path, bytes(data), "flip.safetensors")


class _Saver:
    """The part of a Trainer that ModelCheckpoint uses."""

    def __init__(self):
        self.value = 0

    def save_checkpoint(self, path):
        st.save({"value": self.value, "w": np.full(3, self.value, np.float32)}, path)


def test_model_checkpoint_keeps_the_previous_file_and_readers_fall_back(tmp_path):
    saver, cb = _Saver(), ModelCheckpoint(tmp_path, monitor="loss")
    for epoch in range(3):
        saver.value = epoch
        cb.on_epoch_end(saver, epoch, {"loss": 1.0 - epoch})
    assert read_checkpoint(tmp_path, ["last"])["value"] == 2
    assert st.load(previous_path(cb.last_path))["value"] == 1
    data = bytearray(cb.last_path.read_bytes())
    data[-2] ^= 0x01
    cb.last_path.write_bytes(bytes(data))
    with pytest.warns(CheckpointFallbackWarning, match="last.safetensors is unreadable"):
        assert read_checkpoint(tmp_path, ["last"])["value"] == 1
    previous_path(cb.last_path).write_bytes(b"garbage")
    with pytest.raises(NoCheckpointError, match="no readable checkpoint"):
        read_checkpoint(tmp_path, ["last"])
    assert read_checkpoint(tmp_path, ["best", "last"])["value"] == 2  # best is still good

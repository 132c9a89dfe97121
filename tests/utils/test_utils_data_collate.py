"""default_collate / default_convert give torch's structure, dtypes and values."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import striate as st
import striate.utils.data as sud

Point = collections.namedtuple("Point", ["x", "y"])


def _to_torch_sample(obj):
    """The same sample with striate Tensors replaced by torch tensors."""
    if isinstance(obj, st.Tensor):
        return torch.from_numpy(obj.numpy().copy())
    if isinstance(obj, dict):
        return {k: _to_torch_sample(v) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_to_torch_sample(v) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_torch_sample(v) for v in obj)
    return obj


def _assert_same(ours, theirs) -> None:
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, st.Tensor), type(ours)
        assert ours.numpy().dtype == theirs.numpy().dtype
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        return
    assert type(ours) is type(theirs), (type(ours), type(theirs))
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for k in theirs:
            _assert_same(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b)
    else:
        assert ours == theirs


SAMPLES = {
    "python floats": lambda i: float(i) / 3,
    "python ints": lambda i: i,
    "bools": lambda i: bool(i % 2),
    "numpy float32 scalars": lambda i: np.float32(i) / 7,
    "numpy int16 scalars": lambda i: np.int16(i),
    "numpy float64 arrays": lambda i: np.full((2, 3), i / 3.0),
    "numpy uint8 images": lambda i: np.full((1, 4, 4), i, np.uint8),
    "striate tensors": lambda i: st.full((3,), float(i)),
    "striate int tensors": lambda i: st.tensor([i, i + 1]),
    "strings": lambda i: f"item{i}",
    "(image, label)": lambda i: (st.full((1, 2, 2), float(i)), i),
    "list of arrays": lambda i: [np.arange(3) * i, np.ones(2, np.float32)],
    "dict nested": lambda i: {"image": np.full((2,), i, np.float32), "meta": {"id": i, "name": str(i)},
                              "pair": (i, float(i))},
    "namedtuple": lambda i: Point(np.float64(i), [i, i * 2]),
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_default_collate_matches_torch(name):
    batch = [SAMPLES[name](i) for i in range(4)]
    ours = sud.default_collate(batch)
    theirs = tud.default_collate([_to_torch_sample(s) for s in batch])
    _assert_same(ours, theirs)


@pytest.mark.parametrize("name", ["numpy float64 arrays", "numpy float32 scalars", "dict nested",
                                  "namedtuple", "python ints", "strings"])
def test_default_convert_matches_torch(name):
    sample = SAMPLES[name](3)
    _assert_same(sud.default_convert(sample), tud.default_convert(_to_torch_sample(sample)))


@pytest.mark.parametrize("batch, error", [
    ([np.array(["a"]), np.array(["b"])], TypeError),
    ([object(), object()], TypeError),
    ([[1, 2], [1]], RuntimeError),
])
def test_default_collate_refuses_what_torch_refuses(batch, error):
    with pytest.raises(error):
        tud.default_collate(batch)
    with pytest.raises(error):
        sud.default_collate(batch)


def test_unequal_tensor_shapes_name_the_fix():
    with pytest.raises(RuntimeError, match="collate_fn that pads"):
        sud.default_collate([st.ones(2), st.ones(3)])


def test_collated_gradients_flow_like_torchs_stack():
    a = st.ones(2, requires_grad=True)
    batch = sud.default_collate([a, a * 2])
    batch.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0])

"""The padding layers and the spatial layers (PixelShuffle, Unfold, Fold, MaxUnpool) as modules:
PyTorch's constructor forms, reprs, forward and backward values, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import striate as st
import striate.nn as nn
from harness import assert_close

PADDING_CASES = [
    ("ZeroPad1d", (2,), (3, 5)),
    ("ZeroPad1d", ((1, 0),), (2, 3, 4)),
    ("ZeroPad2d", (1,), (2, 3, 4, 5)),
    ("ZeroPad2d", ((1, 2, 0, 3),), (3, 4, 5)),
    ("ZeroPad2d", ((-1, 1, 2, -2),), (1, 2, 4, 5)),  # negative amounts crop
    ("ZeroPad3d", (1,), (1, 2, 3, 3, 3)),
    ("ConstantPad1d", (2, 3.5), (2, 3, 4)),
    ("ConstantPad2d", ((1, 0, 2, 1), -1.0), (2, 3, 4, 5)),
    ("ConstantPad2d", (1, 2.0), (4, 5)),
    ("ConstantPad3d", ((1, 0, 0, 1, 1, 1), 0.5), (2, 2, 3, 3)),
    ("ReflectionPad1d", ((3, 1),), (2, 3, 5)),
    ("ReflectionPad2d", (2,), (2, 3, 4, 5)),
    ("ReflectionPad2d", ((1, 0, 3, 2),), (3, 4, 5)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 3, 3)),
    ("ReplicationPad1d", ((0, 4),), (2, 3, 5)),
    ("ReplicationPad2d", ((2, 1, 0, 3),), (2, 3, 4, 5)),
    ("ReplicationPad3d", (2,), (2, 2, 3, 3)),
    ("CircularPad1d", ((2, 3),), (2, 3, 5)),
    ("CircularPad2d", (1,), (2, 3, 4, 5)),
    ("CircularPad2d", ((4, 0, 1, 3),), (1, 4, 4)),
    ("CircularPad3d", ((1, 1, 0, 2, 1, 0),), (1, 2, 3, 3, 3)),
]


def _check_layer(ours, theirs, *arrays, dtypes=(np.float32, np.float64)):
    """Forward and input gradients of a striate module against the PyTorch module."""
    for dtype in dtypes:
        rtol = 1e-5 if dtype == np.float32 else 1e-10
        xs = [st.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        xt = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        ys, yt = ours(*xs), theirs(*xt)
        assert_close(ys.numpy(), yt.detach().numpy(), rtol, f"{ours} forward")
        w = np.random.default_rng(1).standard_normal(yt.shape).astype(dtype)
        (ys * st.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        for a, b in zip(xs, xt):
            assert_close(a.grad.numpy(), b.grad.numpy(), rtol, f"{ours} backward")


@pytest.mark.parametrize("name, args, shape", PADDING_CASES, ids=lambda v: str(v).replace(" ", ""))
def test_padding_layer_parity(name, args, shape):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert ours.padding == theirs.padding
    x = np.random.default_rng(0).standard_normal(shape)
    _check_layer(ours, theirs, x)


def test_padding_layer_errors():
    with pytest.raises(ValueError, match="tuple of 4 ints"):
        nn.ZeroPad2d((1, 2))
    with pytest.raises(ValueError, match="expected a 3-D or 4-D input"):
        nn.ReflectionPad2d(1)(st.randn(1, 2, 3, 4, 5))
    with pytest.raises(ValueError, match="must be less than that dimension's size"):
        nn.ReflectionPad1d(3)(st.randn(1, 2, 3))
    with pytest.raises(TypeError, match="striate Tensor"):
        nn.ConstantPad1d(1, 0.0)(np.zeros((2, 3)))


SPATIAL_CASES = [
    ("PixelShuffle", (3,), [(2, 18, 3, 2)]),
    ("PixelUnshuffle", (2,), [(2, 3, 4, 6)]),
    ("Unfold", ((2, 3),), [(2, 3, 5, 6)]),
    ("Unfold", (3, 2, 1, 2), [(1, 2, 7, 7)]),
    ("Fold", ((4, 5), 2), [(2, 12, 12)]),
    ("Fold", (4, (2, 2), 1, 1, 2), [(8, 9)]),
]


@pytest.mark.parametrize("name, args, shapes", SPATIAL_CASES, ids=lambda v: str(v).replace(" ", ""))
def test_spatial_layer_parity(name, args, shapes):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(0)
    _check_layer(ours, theirs, *[rng.standard_normal(s) for s in shapes])


@pytest.mark.parametrize("dims, args", [(2, (2,)), (2, ((3, 2), (2, 1), (1, 0))), (1, (3, 2, 1))])
def test_max_unpool_layer_with_pool_indices(dims, args):
    pool_t = (torch.nn.MaxPool2d if dims == 2 else torch.nn.MaxPool1d)(*args, return_indices=True)
    pool_s = (nn.MaxPool2d if dims == 2 else nn.MaxPool1d)(*args, return_indices=True)
    unpool_t = (torch.nn.MaxUnpool2d if dims == 2 else torch.nn.MaxUnpool1d)(*args)
    unpool_s = (nn.MaxUnpool2d if dims == 2 else nn.MaxUnpool1d)(*args)
    assert repr(unpool_s) == repr(unpool_t)
    shape = (2, 3, 7, 8) if dims == 2 else (2, 3, 11)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ys, idx_s = pool_s(st.tensor(x, requires_grad=True))
    yt, idx_t = pool_t(torch.tensor(x, requires_grad=True))
    assert np.array_equal(idx_s.numpy(), idx_t.numpy())
    out_s = unpool_s(ys, idx_s, output_size=shape)
    out_t = unpool_t(yt, idx_t, output_size=shape)
    assert np.array_equal(out_s.numpy(), out_t.detach().numpy())
    if dims == 2:  # PyTorch's 1-D unpool is a 2-D one between unsqueeze and squeeze
        assert out_s.grad_fn.name() == out_t.grad_fn.name()

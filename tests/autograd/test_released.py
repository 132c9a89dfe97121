"""A graph node keeps a large input its backward never reads only weakly (`autograd.released`):
its memory returns when the program drops it, and every gradient stays what it was."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import striate as st
import striate.nn as nn
import striate.nn.functional as F
from striate import tuning
from striate.autograd.released import ReleasedInput, keep_graph_inputs


def _block_grads(release: bool, seed: int = 0):
    """A residual block (conv-BN-ReLU-conv-BN, + identity, ReLU) in float64: its input gradient
    and parameter gradients, and weak references to the intermediates the program dropped."""
    st.manual_seed(seed)
    conv1, conv2 = nn.Conv2d(8, 8, 3, padding=1).double(), nn.Conv2d(8, 8, 3, padding=1).double()
    bn1, bn2 = nn.BatchNorm2d(8).double(), nn.BatchNorm2d(8).double()
    x = st.randn(4, 8, 16, 16, dtype=st.float64, requires_grad=True)
    refs = []
    ctx = keep_graph_inputs() if not release else _nothing()
    with ctx:
        h = bn1(conv1(x))
        refs.append(weakref.ref(h))
        out = F.relu(h)
        del h
        s = bn2(conv2(out)) + x
        refs.append(weakref.ref(s))
        y = F.relu(s)
        del s
    gc.collect()
    alive = [r() is not None for r in refs]
    (y * y).sum().backward()
    params = [conv1.weight, conv1.bias, conv2.weight, bn1.weight, bn2.bias]
    return x.grad.numpy(), [p.grad.numpy() for p in params], alive


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_dropped_intermediates_are_freed_and_gradients_unchanged():
    gx, gp, alive = _block_grads(release=True)
    gx_kept, gp_kept, alive_kept = _block_grads(release=False)
    assert alive == [False, False]  # BN output before ReLU, the residual sum: both freed
    assert alive_kept == [True, True]  # keep_graph_inputs: the graph holds them
    np.testing.assert_array_equal(gx, gx_kept)
    for a, b in zip(gp, gp_kept):
        np.testing.assert_array_equal(a, b)


def test_matches_torch_on_a_residual_block():
    torch = pytest.importorskip("torch")
    st.manual_seed(1)
    conv, bn = nn.Conv2d(4, 4, 3, padding=1).double(), nn.BatchNorm2d(4).double()
    tconv, tbn = torch.nn.Conv2d(4, 4, 3, padding=1).double(), torch.nn.BatchNorm2d(4).double()
    tconv.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in conv.state_dict().items()})
    xv = np.random.default_rng(0).standard_normal((3, 4, 32, 32))
    x, tx = st.tensor(xv, requires_grad=True), torch.tensor(xv, requires_grad=True)
    y = F.relu(bn(conv(x)) + x)
    ty = torch.relu(tbn(tconv(tx)) + tx)
    (y ** 3).sum().backward()
    (ty ** 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.weight.grad.numpy(), tconv.weight.grad.numpy(), rtol=1e-12, atol=1e-10)


def test_small_inputs_and_read_inputs_stay_referenced():
    x = st.randn(3, requires_grad=True)
    h = x * 2  # small: kept, so st.viz.graph can show it
    y = F.relu(h)
    assert y.grad_fn.parents[0] is h
    big = st.randn(64, 1024, requires_grad=True) * 1.0  # 256 KiB
    s = big.sigmoid()  # sigmoid reads its output, not its input: released
    m = big * big  # Mul reads its inputs: kept
    assert isinstance(s.grad_fn.parents[0], ReleasedInput)
    assert m.grad_fn.parents[0] is big


def test_in_place_change_of_a_released_input_routes_as_before():
    """An in-place change after a consumer recorded a released input: that consumer's gradient
    still goes to the input's earlier node (as with a kept tensor), equal to torch's."""
    torch = pytest.importorskip("torch")
    xv = np.random.default_rng(2).standard_normal((64, 300))
    results = []
    for lib in (st, torch):
        x = lib.tensor(xv, requires_grad=True)
        h = x * 3.0
        y = h.relu() if lib is torch else F.relu(h)
        h.mul_(2.0)  # h's newer node; relu's gradient still flows to `x * 3`
        z = (y * 5.0).sum() + (h * h).sum()
        del h
        z.backward()
        results.append(x.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_released_input_shown_in_graph_picture():
    x = st.randn(64, 1024, requires_grad=True)
    y = F.relu(x * 2.0).sum()
    g = st.viz.graph(y)
    labels = [" ".join(v) for v in g.labels.values()]
    assert any("(released)" in lab for lab in labels)
    assert any(lab.startswith("grad") or "grad" in lab for lab in labels)


def test_threshold_is_a_tuning_switch(monkeypatch):
    monkeypatch.setattr(tuning, "RELEASE_INPUTS_FROM_BYTES", 1 << 40)
    big = st.randn(64, 1024, requires_grad=True) * 1.0
    assert F.relu(big).grad_fn.parents[0] is big

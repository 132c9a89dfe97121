"""The graph is freed as soon as backward has used it: memory does not grow over a training
run, intermediate tensors and nodes die after backward, and nothing relies on the cyclic GC."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np

import striate as st
import striate.nn.functional as F


def _mlp_params(rng):
    def p(*shape):
        return st.tensor(rng.standard_normal(shape) * 0.3, requires_grad=True)

    return [p(32, 16), p(32), p(10, 32), p(10)]


def _training_step(params, x, y, lr=0.05):
    w1, b1, w2, b2 = params
    h = F.relu(F.linear(x, w1, b1))
    loss = F.cross_entropy(F.linear(h, w2, b2), y)
    loss.backward()
    with st.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
    return loss.item()


def test_training_loop_memory_is_stable() -> None:
    rng = np.random.default_rng(0)
    params = _mlp_params(rng)
    x = st.tensor(rng.standard_normal((64, 16)))
    y = st.tensor(rng.integers(0, 10, 64))
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()  # the graph must be freed by reference counting alone
    tracemalloc.start()
    try:
        losses = []
        for step in range(300):
            losses.append(_training_step(params, x, y))
            if step == 49:
                base_current, _ = tracemalloc.get_traced_memory()
                tracemalloc.reset_peak()
            elif step == 99:
                _, peak_early = tracemalloc.get_traced_memory()
                tracemalloc.reset_peak()
        end_current, peak_late = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        if was_enabled:
            gc.enable()
    assert losses[-1] < losses[0]  # it trains
    assert end_current - base_current < 64 * 1024, (base_current, end_current)
    assert peak_late <= peak_early * 1.1 + 32 * 1024, (peak_early, peak_late)


def test_intermediates_and_nodes_die_after_backward_while_loss_lives() -> None:
    x = st.randn(4, 3, requires_grad=True)
    h = (x * 2).sigmoid()
    hidden_ref = weakref.ref(h)
    node_ref = weakref.ref(h.grad_fn)
    big = h.exp()
    big_ref = weakref.ref(big)
    loss = (big * h).sum()
    del h, big
    assert hidden_ref() is not None and big_ref() is not None  # the graph holds them until backward
    loss.backward()
    assert hidden_ref() is None and node_ref() is None and big_ref() is None
    assert loss.item() == loss.item()  # the loss tensor itself is still usable


def test_retain_graph_keeps_intermediates_until_last_backward() -> None:
    x = st.randn(3, requires_grad=True)
    h = x.exp()
    ref = weakref.ref(h)
    loss = (h * h).sum()
    del h
    loss.backward(retain_graph=True)
    assert ref() is not None
    loss.backward()
    assert ref() is None


def test_discarded_forward_is_freed_without_backward_or_gc() -> None:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        x = st.randn(5, requires_grad=True)
        h = x.tanh() * 3
        out = F.softmax(h, 0)  # saves its output through a weak reference only
        refs = [weakref.ref(h), weakref.ref(out), weakref.ref(out.grad_fn)]
        del h, out
        assert all(r() is None for r in refs)
    finally:
        if was_enabled:
            gc.enable()


def test_no_grad_forward_keeps_no_graph() -> None:
    x = st.randn(5, requires_grad=True)
    with st.no_grad():
        y = (x * 2).exp()
    assert y.grad_fn is None and not y.requires_grad


def test_deep_chain_backward_and_memory() -> None:
    x = st.tensor([1.0], requires_grad=True)
    y = x
    first = None
    for i in range(5000):
        y = y * 1.0001 + 0.0001
        if i == 0:
            first = weakref.ref(y)
    y.backward()
    assert first() is None
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 5000], rtol=1e-4)

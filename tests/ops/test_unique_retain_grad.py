"""st.unique / Tensor.unique, retain_grad / retains_grad, dtype= on sum/mean/softmax/log_softmax,
and the factory keywords issue 21 added (pin_memory=, generator= on *_like, requires_grad= on
randint/randperm), against torch."""

import numpy as np
import pytest
import torch

import striate as st

UNIQUE_INPUTS = [
    np.array([3, 1, 2, 3, 1, 5, 0]),
    np.array([[2.5, -1.0, 2.5], [0.0, -1.0, 7.0]]),
    np.array([1.0, np.nan, 1.0, np.nan, -np.inf]),
    np.array([], dtype=np.float32),
    np.array([[1, 2], [3, 4], [1, 2], [0, 9]]),
    np.array(4.0),
]


@pytest.mark.parametrize("index", range(len(UNIQUE_INPUTS)))
@pytest.mark.parametrize("flags", [(False, False), (True, False), (False, True), (True, True)])
def test_unique_matches_torch(index, flags):
    a = UNIQUE_INPUTS[index]
    return_inverse, return_counts = flags
    for sorted_ in (True, False):
        ours = st.unique(st.tensor(a), sorted=sorted_, return_inverse=return_inverse,
                         return_counts=return_counts)
        theirs = torch.unique(torch.tensor(a), sorted=sorted_, return_inverse=return_inverse,
                              return_counts=return_counts)
        ours = ours if isinstance(ours, tuple) else (ours,)
        theirs = theirs if isinstance(theirs, tuple) else (theirs,)
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert o.dtype == t.numpy().dtype and tuple(o.shape) == tuple(t.shape)
            np.testing.assert_array_equal(o.numpy(), t.numpy())


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_along_a_dimension_matches_torch(dim):
    a = np.array([[1, 2, 1], [3, 4, 3], [1, 2, 1], [0, 9, 0]])
    ours = st.tensor(a).unique(dim=dim, return_inverse=True, return_counts=True)
    theirs = torch.tensor(a).unique(dim=dim, return_inverse=True, return_counts=True)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.numpy(), t.numpy())
    with pytest.raises(IndexError, match="Dimension out of range"):
        st.unique(st.tensor(a), dim=2)


def test_unique_output_is_outside_the_graph():
    x = st.tensor([2.0, 1.0, 2.0], requires_grad=True)
    assert not st.unique(x).requires_grad


def test_retain_grad_keeps_a_non_leaf_gradient_like_torch():
    a = np.array([[0.5, -1.0], [2.0, 3.0]])
    xs, xt = st.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    hs, ht = xs * 2, xt * 2
    assert not hs.retains_grad and not ht.retains_grad
    hs.retain_grad()
    ht.retain_grad()
    assert hs.retains_grad and ht.retains_grad
    ys, yt = (hs.tanh() * hs).sum(), (ht.tanh() * ht).sum()
    ys.backward(retain_graph=True)
    yt.backward(retain_graph=True)
    np.testing.assert_allclose(hs.grad.numpy(), ht.grad.numpy(), rtol=1e-12)
    ys.backward()  # accumulates, as a leaf's grad does
    yt.backward()
    np.testing.assert_allclose(hs.grad.numpy(), ht.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    assert hs.retains_grad  # still true after the graph is freed
    hs.retain_grad()  # twice is harmless


def test_retain_grad_on_leaf_and_on_constant():
    leaf = st.ones(2, requires_grad=True)
    leaf.retain_grad()
    assert not leaf.retains_grad
    (leaf * 3).sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), [3.0, 3.0])
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        st.ones(2).retain_grad()


def test_retained_gradient_of_a_shared_intermediate_is_the_sum():
    x = st.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    h.retain_grad()
    (h * 3 + h.exp()).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 3 + np.exp([1.0, 4.0]))


@pytest.mark.parametrize("dtype", [st.float32, st.float64])
def test_dtype_argument_of_reductions_matches_torch(dtype):
    a = np.array([[1, 2, 3], [4, 5, 7]])
    tdtype = torch.float32 if dtype == st.float32 else torch.float64
    for fn in ("sum", "mean"):
        ours = getattr(st, fn)(st.tensor(a), 1, dtype=dtype)
        theirs = getattr(torch, fn)(torch.tensor(a), 1, dtype=tdtype)
        assert ours.dtype == theirs.numpy().dtype
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-7)
        method = getattr(st.tensor(a), fn)(dim=0, dtype=dtype)
        np.testing.assert_allclose(method.numpy(), getattr(torch.tensor(a), fn)(dim=0, dtype=tdtype).numpy())
    x = np.array([[0.5, 1.5, -2.0]], dtype=np.float32)
    for fn in ("softmax", "log_softmax"):
        ours = getattr(st.tensor(x), fn)(1, dtype=dtype)
        theirs = getattr(torch.tensor(x), fn)(1, dtype=tdtype)
        assert ours.dtype == theirs.numpy().dtype
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_sum_dtype_casts_before_summing_and_keeps_the_gradient():
    x = st.tensor([1e8, 1.0, -1e8], dtype=st.float32, requires_grad=True)
    total = x.sum(dtype=st.float64)
    expected = torch.tensor([1e8, 1.0, -1e8]).sum(dtype=torch.float64)
    assert total.dtype == np.float64 and float(total) == float(expected) == 1.0
    total.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])


def test_factory_keywords():
    assert st.tensor([1.0], pin_memory=True).shape == (1,)
    assert st.empty(2, 3, pin_memory=False).shape == (2, 3)
    assert st.ones(1).new_zeros(2, pin_memory=True).shape == (2,)
    g1, g2 = st.Generator().manual_seed(5), st.Generator().manual_seed(5)
    t1, t2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    base, tbase = st.zeros(4, 5, dtype=st.float64), torch.zeros(4, 5, dtype=torch.float64)
    np.testing.assert_array_equal(st.rand_like(base, generator=g1).numpy(),
                                  torch.rand_like(tbase, generator=t1).numpy())
    np.testing.assert_array_equal(st.randn_like(base, generator=g2).numpy(),
                                  torch.randn_like(tbase, generator=t2).numpy())
    perm = st.randperm(5, dtype=st.float32, requires_grad=True)
    assert perm.requires_grad and perm.dtype == np.float32
    ints = st.randint(0, 5, (3,), dtype=st.float64, requires_grad=True)
    assert ints.requires_grad
    message = "Only Tensors of floating point and complex dtype can require"
    for make in (lambda: st.randint(0, 5, (3,), requires_grad=True),
                 lambda: st.randperm(4, requires_grad=True)):
        with pytest.raises(RuntimeError, match=message):
            make()


def test_retain_grad_follows_an_inplace_change_like_torch():
    xs, xt = st.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    hs, ht = xs * 2, xt * 2
    hs.retain_grad()
    ht.retain_grad()
    hs.mul_(3)
    ht.mul_(3)
    assert hs.retains_grad and ht.retains_grad
    (hs * hs).sum().backward()
    (ht * ht).sum().backward()
    np.testing.assert_array_equal(hs.grad.numpy(), ht.grad.numpy())  # the newest value's gradient
    np.testing.assert_array_equal(xs.grad.numpy(), xt.grad.numpy())

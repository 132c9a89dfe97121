"""Tensor creation, dtypes, properties and conversions behave as in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import striate as st


@pytest.mark.parametrize(
    "data",
    [3.5, 2, True, [1.0, 2.0], [1, 2], [[1, 2], [3, 4]], [True, False], [[1.5], [2]], [], np.float32(1.0)],
    ids=repr,
)
def test_tensor_dtype_inference_matches_torch(data) -> None:
    assert st.tensor(data).dtype == np.dtype(str(torch.tensor(data).dtype).replace("torch.", ""))
    assert st.tensor(data).shape == tuple(torch.tensor(data).shape)


def test_tensor_copies_and_from_numpy_shares() -> None:
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = st.tensor(a)
    a[0, 0] = 100
    assert t[0, 0].item() == 0
    f = st.from_numpy(a)
    a[0, 1] = 7
    assert f[0, 1].item() == 7 and f.dtype == np.float32
    assert st.from_numpy(np.zeros(2)).dtype == st.float64  # keeps NumPy's dtype, as torch.from_numpy


def test_explicit_dtype_and_requires_grad() -> None:
    t = st.tensor([1, 2], dtype=st.float64, requires_grad=True)
    assert t.dtype == st.float64 and t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None


def test_factories_shapes_and_dtypes() -> None:
    assert st.zeros(2, 3).shape == (2, 3) and st.zeros((2, 3)).dtype == st.float32
    assert st.ones(4, dtype=st.float64).dtype == st.float64
    assert st.full((2, 2), 1.5).numpy().tolist() == [[1.5, 1.5], [1.5, 1.5]]
    assert st.full((2,), 3).dtype == st.int64
    assert st.arange(5).dtype == st.int64 and st.arange(5).tolist() == list(range(5))
    assert st.arange(0, 1, 0.25).dtype == st.float32
    assert st.arange(1, 7, 2).tolist() == torch.arange(1, 7, 2).tolist()
    assert st.randn(3, 4).shape == (3, 4) and st.randn(3, 4).dtype == st.float32
    assert st.rand(5, dtype=st.float64).dtype == st.float64
    r = st.rand(1000)
    assert r.min().item() >= 0 and r.max().item() < 1
    assert st.zeros_like(r).shape == r.shape and st.ones_like(r, dtype=st.float64).dtype == st.float64
    assert st.randint(0, 3, (10,)).dtype == st.int64
    assert sorted(st.randperm(6).tolist()) == list(range(6))
    assert st.empty(0, 3).shape == (0, 3)
    assert st.eye(3).numpy().trace() == 3
    assert st.zeros(2, 3, requires_grad=True).requires_grad


def test_manual_seed_reproduces_and_rng_state_resumes() -> None:
    st.manual_seed(123)
    a = st.randn(5)
    st.manual_seed(123)
    b = st.randn(5)
    assert np.array_equal(a.numpy(), b.numpy())
    state = st.random.get_rng_state()
    c = st.rand(3)
    st.random.set_rng_state(state)
    assert np.array_equal(c.numpy(), st.rand(3).numpy())
    assert st.initial_seed() == 123


def test_properties_and_conversions() -> None:
    t = st.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.ndim == 2 and t.dim() == 2 and t.numel() == 6 and len(t) == 2
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-1) == 3
    assert isinstance(t.numpy(), np.ndarray) and np.asarray(t).shape == (2, 3)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert t[1, 2].item() == 6.0 and float(t[0, 0]) == 1.0 and int(t[1, 1]) == 5
    assert t.double().dtype == st.float64 and t.long().dtype == st.int64 and t.int().dtype == st.int32
    assert t.to(st.float64).dtype == st.float64 and t.to("cpu") is t and t.float() is t
    assert t.device == "cpu"
    assert [row.tolist() for row in t] == t.tolist()
    assert "tensor(" in repr(t)
    assert "requires_grad=True" in repr(st.ones(2, requires_grad=True))
    assert "grad_fn" in repr(st.ones(2, requires_grad=True) * 2)


def test_comparisons_give_bool_tensors_outside_the_graph() -> None:
    x = st.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r in (x > 1.5, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert r.dtype == st.bool and not r.requires_grad
    assert (x > 1.5).tolist() == [False, True, True]
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]
    assert (~(x > 1)).tolist() == [True, False, False]
    assert bool((x > 0).all()) and not bool((x > 2.5).all()) and bool((x > 2.5).any())


def test_float32_stays_float32_and_promotion_follows_torch() -> None:
    f32 = st.tensor([1.0, 2.0])
    i64 = st.tensor([1, 2])
    tf32 = torch.tensor([1.0, 2.0])
    ti64 = torch.tensor([1, 2])
    cases = [
        (f32 * 2.5, tf32 * 2.5), (f32 + 1, tf32 + 1), (2 ** f32, 2 ** tf32), (f32 ** 2, tf32 ** 2),
        (f32 * i64, tf32 * ti64), (i64 * f32, ti64 * tf32), (i64 / 2, ti64 / 2), (i64 / i64, ti64 / ti64),
        (1 / i64, 1 / ti64), (i64 * 2.5, ti64 * 2.5), (i64 + 1, ti64 + 1), (f32 / i64, tf32 / ti64),
        (f32 + (i64 > 1), tf32 + (ti64 > 1)), (f32 @ f32, tf32 @ tf32),
        (f32.double() + f32, tf32.double() + tf32),
        (f32 - np.float64(1.0), tf32 - 1.0), (f32.mean(), tf32.mean()), (f32.exp(), tf32.exp()),
    ]
    for s, t in cases:
        assert s.dtype == np.dtype(str(t.dtype).replace("torch.", "")), (s, t)
        np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=1e-6)


def test_numpy_operands_on_either_side_give_tensors() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    for r in (np.float64(2.0) * x, np.ones(2) + x, x * np.ones(2), np.float32(3) - x):
        assert isinstance(r, st.Tensor) and r.requires_grad
    assert (np.ones(2) + x).dtype == st.float32  # the float64 array is a constant, cast to x's dtype


def test_in_place_ops_under_no_grad_bump_version() -> None:
    w = st.tensor([1.0, 2.0], requires_grad=True)
    with st.no_grad():
        w.add_(1)
        w.mul_(2)
        w.sub_(st.tensor([1.0, 1.0]), alpha=2)
        w.div_(2)
        w -= 0.5
        w.clamp_(min=0.6)
    assert w.tolist() == pytest.approx([0.6, 1.5]) and w._version == 6
    w2 = st.zeros(3)
    w2[1] = 5
    w2.fill_(2).zero_()
    assert w2.tolist() == [0, 0, 0] and w2._version == 3


def test_detach_shares_memory_and_leaves_the_graph() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and np.shares_memory(d.numpy(), y.numpy())
    assert (d * 3).grad_fn is None
    assert x.data.requires_grad is False and np.shares_memory(x.data.numpy(), x.numpy())
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad


def test_clone_has_own_memory_and_passes_gradient() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert not np.shares_memory(c.numpy(), x.numpy())
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_max_min_with_dim_return_named_values_and_indices() -> None:
    x = st.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0] and indices.dtype == st.int64
    r = x.min(0, keepdim=True)
    assert r.values.tolist() == [[1.0, 0.0, 2.0]] and r.indices.tolist() == [[0, 1, 0]]
    assert x.max().item() == 7.0 and x.argmax().item() == 3
    assert x.max(st.tensor(3.0)).tolist() == [[3.0, 5.0, 3.0], [7.0, 3.0, 7.0]]  # elementwise form


def test_zero_dim_results_are_arrays_and_support_in_place() -> None:
    a = st.tensor(1.0, requires_grad=True)
    c = a + st.tensor(2.0)  # NumPy returns a scalar for 0-d + 0-d; the tensor still holds an array
    assert isinstance(c.numpy(), np.ndarray) and c.shape == ()
    d = c.detach()
    d.add_(1)
    assert d.item() == 4.0 and c.item() == 4.0  # detach shares memory

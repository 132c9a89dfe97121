"""Sorting, top-k, scatter, masked_fill and index_select against PyTorch (values, indices and
gradients), plus the bool/int answers of the predicates; errors name the problem."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import striate as st
from harness import OpCase, check_case

ROWS: list[OpCase] = []


def row(name: str, inputs, s, t, **kw) -> None:
    ROWS.append(OpCase(name=name, inputs=inputs, striate=s, torch=t, **kw))


def distinct(*shapes):
    """Values without ties (sort and topk pick one order among ties; PyTorch's may differ)."""
    def make(rng):
        out = []
        for s in shapes:
            n = int(np.prod(s))
            out.append((rng.permutation(n) + rng.uniform(0, 0.5, n)).reshape(s) - n / 2)
        return out
    return make


def with_index(shape, index):
    return lambda rng: [rng.standard_normal(shape), np.asarray(index, np.int64)]


for _shape, _dim in [((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1), ((6,), 0), ((), 0), ((0, 3), 1)]:
    for _desc in (False, True):
        row(f"sort {_shape} dim={_dim} desc={_desc}", distinct(_shape),
            lambda x, d=_dim, e=_desc: st.sort(x, dim=d, descending=e),
            lambda x, d=_dim, e=_desc: torch.sort(x, dim=d, descending=e))
    row(f"argsort {_shape} dim={_dim}", distinct(_shape), lambda x, d=_dim: x.argsort(d),
        lambda x, d=_dim: x.argsort(d), backward=False)
for _shape, _k, _dim, _largest in [((3, 5), 2, -1, True), ((3, 5), 3, 0, False), ((6,), 6, 0, True),
                                   ((6,), 0, 0, True), ((2, 3, 4), 1, 1, True), ((), 1, 0, True),
                                   ((3, 40), 3, 1, True), ((40, 2), 4, 0, False)]:  # partition path
    row(f"topk {_shape} k={_k} dim={_dim} largest={_largest}", distinct(_shape),
        lambda x, k=_k, d=_dim, lg=_largest: x.topk(k, d, lg),
        lambda x, k=_k, d=_dim, lg=_largest: x.topk(k, d, lg))


def masked(shape, mask_shape):
    return lambda rng: [rng.standard_normal(shape), rng.random(mask_shape) > 0.5]


for _shape, _mshape in [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 3, 4), (3, 1)), ((), ()), ((0, 2), (2,))]:
    row(f"masked_fill {_shape} mask {_mshape}", masked(_shape, _mshape),
        lambda x, m: x.masked_fill(m, -1.5), lambda x, m: x.masked_fill(m, -1.5))
row("masked_fill 0-d value tensor with grad", lambda rng: [rng.standard_normal((3, 4)),
                                                           rng.random((3, 4)) > 0.5, np.array(0.7)],
    lambda x, m, v: st.masked_fill(x, m, v), lambda x, m, v: torch.masked_fill(x, m, v), grad=(0, 2))

SCATTER_INDEX = [[0, 2], [1, 0], [3, 1]]  # no repeats within a row: scatter's winner is then defined
row("scatter src dim=1", lambda rng: [rng.standard_normal((3, 4)), np.array(SCATTER_INDEX),
                                      rng.standard_normal((3, 2))],
    lambda x, i, s: x.scatter(1, i, s), lambda x, i, s: x.scatter(1, i, s), grad=(0, 2))
# src larger than index: only its leading part is read (torch's backward fails on this shape)
row("scatter larger src", lambda rng: [rng.standard_normal((3, 4)), np.array(SCATTER_INDEX),
                                       rng.standard_normal((3, 3))],
    lambda x, i, s: x.scatter(1, i, s), lambda x, i, s: x.scatter(1, i, s), backward=False)
row("scatter src dim=0", lambda rng: [rng.standard_normal((4, 3)), np.array([[0, 1, 2], [3, 2, 0]]),
                                      rng.standard_normal((2, 3))],
    lambda x, i, s: st.scatter(x, 0, i, s), lambda x, i, s: torch.scatter(x, 0, i, s), grad=(0, 2))
row("scatter value", with_index((3, 4), SCATTER_INDEX), lambda x, i: x.scatter(1, i, 2.5),
    lambda x, i: x.scatter(1, i, 2.5), grad=(0,))
REPEATS = [[0, 0, 2], [1, 1, 1], [3, 0, 3]]
row("scatter_add repeats",
    lambda rng: [rng.standard_normal((3, 4)), np.array(REPEATS), rng.standard_normal((3, 3))],
    lambda x, i, s: x.scatter_add(1, i, s), lambda x, i, s: x.scatter_add(1, i, s), grad=(0, 2))
row("scatter_add negative dim", lambda rng: [rng.standard_normal((2, 3)), np.array([[0, 0], [2, 2]]),
                                             rng.standard_normal((2, 2))],
    lambda x, i, s: st.scatter_add(x, -1, i, s), lambda x, i, s: torch.scatter_add(x, -1, i, s), grad=(0, 2))
row("scatter reduce=add", lambda rng: [rng.standard_normal((2, 3)), np.array([[0, 0], [2, 2]]),
                                       rng.standard_normal((2, 2))],
    lambda x, i, s: x.scatter(1, i, s, reduce="add"), lambda x, i, s: x.scatter_add(1, i, s), grad=(0, 2))
for _shape, _dim, _idx in [((3, 4), 1, [3, 0, 0]), ((3, 4), 0, [2]), ((2, 3, 4), -1, [1, 1, 2, 3, 0]),
                           ((3, 4), 1, []), ((5,), 0, [4, 0])]:
    row(f"index_select {_shape} dim={_dim} {_idx}", with_index(_shape, _idx),
        lambda x, i, d=_dim: x.index_select(d, i), lambda x, i, d=_dim: x.index_select(d, i), grad=(0,))


@pytest.mark.parametrize("case", ROWS, ids=str)
def test_parity(case: OpCase) -> None:
    check_case(case)


def test_sort_is_stable_and_descending_keeps_tie_order() -> None:
    data = np.array([[2.0, 1.0, 2.0, 1.0, 3.0, 2.0]])
    for desc in (False, True):
        ours = st.sort(st.tensor(data), descending=desc, stable=True)
        theirs = torch.sort(torch.tensor(data), descending=desc, stable=True)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())


def test_sort_puts_nan_last_like_torch() -> None:
    data = np.array([1.0, np.nan, -2.0, 0.5], np.float32)
    for desc in (False, True):
        ours = st.tensor(data).sort(descending=desc)
        theirs = torch.tensor(data).sort(descending=desc)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_named_tuples_unpack_like_torch() -> None:
    values, indices = st.tensor([3.0, 1.0, 2.0]).topk(2)
    assert type(st.tensor([1.0]).topk(1)).__name__ == "topk"
    assert type(st.sort(st.tensor([1.0]))).__name__ == "sort"
    assert values.tolist() == [3.0, 2.0] and indices.tolist() == [0, 2]
    assert indices.dtype == st.int64


def test_inplace_masked_fill_and_scatter_follow_the_inplace_rules() -> None:
    x = st.zeros(2, 3)
    out = x.masked_fill_(st.tensor([True, False, True]), 4.0)
    assert out is x and x.tolist() == [[4.0, 0.0, 4.0]] * 2
    version = x._version
    x.scatter_(1, st.tensor([[1], [0]]), st.ones(2, 1))
    x.scatter_add_(0, st.tensor([[0, 0, 0]]), st.ones(1, 3))
    assert x.tolist() == [[5.0, 2.0, 5.0], [1.0, 0.0, 4.0]] and x._version == version + 2
    leaf = st.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        leaf.masked_fill_(st.tensor([True, False]), 1.0)
    with st.no_grad():
        leaf.masked_fill_(st.tensor([True, False]), 1.0)
    assert leaf.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("op", ["masked_fill_", "scatter_", "scatter_add_"])
def test_inplace_write_on_a_graph_tensor_is_recorded_like_torch(op: str) -> None:
    """y = 2x; y.<op>(...); loss = sum(y^2): x's and the written values' gradients are torch's."""

    def run(lib):
        lib.manual_seed(0)
        x = lib.randn(3, 4, dtype=lib.float64, requires_grad=True)
        v = lib.tensor([1.5, 2.5, 3.5], dtype=lib.float64, requires_grad=True)
        y = x * 2
        if op == "masked_fill_":
            y.masked_fill_(y > 0, 0.5)
        else:
            getattr(y, op)(1, lib.tensor([[0], [2], [1]]), v.reshape(3, 1))
        (y * y).sum().backward()
        return x.grad.numpy(), None if v.grad is None else v.grad.numpy()

    (tx, tv), (sx, sv) = run(torch), run(st)
    np.testing.assert_allclose(sx, tx, rtol=1e-12)
    assert (tv is None) == (sv is None)
    if tv is not None:
        np.testing.assert_allclose(sv, tv, rtol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: st.zeros(3).masked_fill(st.tensor([1, 0, 1]), 1.0), "boolean masks"),
    (lambda: st.zeros(3).masked_fill(st.tensor([True, False]), 1.0), "does not broadcast"),
    (lambda: st.zeros(3).masked_fill(st.tensor([True, False, True]), st.ones(2)), "0-dimensional"),
    (lambda: st.zeros(3, 4).scatter(1, st.tensor([[0, 5]]), st.ones(1, 2)), "out of bounds"),
    (lambda: st.zeros(3, 4).scatter(1, st.tensor([[0.0, 1.0]]), st.ones(1, 2)), "int64"),
    (lambda: st.zeros(3, 4).scatter(1, st.tensor([0, 1]), st.ones(2)), "same number of dimensions"),
    (lambda: st.zeros(3, 4).scatter(1, st.tensor([[0, 1]]), st.ones(1, 2, dtype=st.float64)), "dtype"),
    (lambda: st.zeros(3, 4).index_select(1, st.tensor([[0]])), "vector"),
    (lambda: st.zeros(3, 4).index_select(1, st.tensor([7])), "out of range"),
    (lambda: st.zeros(3, 4).topk(5), "out of range"),
    (lambda: st.zeros(3, 4).sort(dim=2), "out of range"),
])
def test_bad_arguments_name_the_problem(call, match) -> None:
    with pytest.raises((RuntimeError, IndexError, TypeError, ValueError), match=match):
        call()


def test_predicates_match_torch() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4)).astype(np.float32)
    a[0, 1], a[1, 2], a[2, 3] = np.nan, np.inf, 0.0
    b = a + np.float32(1e-6)
    sa, ta = st.tensor(a), torch.tensor(a)
    sb, tb = st.tensor(b), torch.tensor(b)
    pairs = [
        (st.isclose(sa, sb), torch.isclose(ta, tb)),
        (sa.isclose(sb, equal_nan=True), ta.isclose(tb, equal_nan=True)),
        (sa.isnan(), ta.isnan()), (st.isinf(sa), torch.isinf(ta)), (sa.isfinite(), ta.isfinite()),
        (sa.all(dim=1), ta.all(dim=1)), (sa.any(0, keepdim=True), ta.any(0, keepdim=True)),
        (st.all(sa), torch.all(ta)), (sa.count_nonzero(), ta.count_nonzero()),
        (st.count_nonzero(sa, dim=0), torch.count_nonzero(ta, dim=0)), (sa.nonzero(), ta.nonzero()),
        (sa.lt(0), ta.lt(0)), (sa.le(sb), ta.le(tb)), (sa.gt(0.5), ta.gt(0.5)), (sa.ge(sb), ta.ge(tb)),
        (st.tensor(3.0).nonzero(), torch.tensor(3.0).nonzero()),
        (st.tensor([0, 1], dtype=st.uint8).all(), torch.tensor([0, 1], dtype=torch.uint8).all()),
    ]
    for ours, theirs in pairs:
        assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", "")), (ours, theirs)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for ours, theirs in zip(sa.nonzero(as_tuple=True), ta.nonzero(as_tuple=True)):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert st.allclose(sa, sb, equal_nan=True) == torch.allclose(ta, tb, equal_nan=True)
    assert st.allclose(sa, sb, atol=1e-5, equal_nan=True) == torch.allclose(ta, tb, atol=1e-5, equal_nan=True)
    assert st.allclose(sa, sb) == torch.allclose(ta, tb)
    assert st.equal(sb, sb) == torch.equal(tb, tb)  # NaN != NaN, in both
    assert st.equal(st.ones(2), st.ones(2)) and not st.equal(st.ones(2), st.ones(3))
    with pytest.raises(RuntimeError, match="did not match"):
        st.allclose(st.ones(2), st.ones(2, dtype=st.float64))

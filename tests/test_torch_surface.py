"""Issue 21's PyTorch surface that is not one operator: st.Tensor(2, 3) and the typed tensor
constructors, axis=/keepdims= aliases, meshgrid's warning, dtype rules, new_* and the factories'
requires_grad, and the errors of the named products."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import striate as st


def same(ours: st.Tensor, theirs: torch.Tensor) -> None:
    assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", "")), (ours.dtype, theirs.dtype)
    assert ours.shape == tuple(theirs.shape)
    if ours.numel() and ours.dtype.kind != "f" or ours.dtype.kind == "f":
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


# ------------------------------------------------------------------ constructors
@pytest.mark.parametrize("args", [(2, 3), (0,), (4,), ([1, 2],), ([[1.5, 2], [3, 4]],), ((2, 3),), ([],),
                                  (np.array([1, 2]),), ()])
def test_tensor_constructor_forms_match_torch(args) -> None:
    ours, theirs = st.Tensor(*args), torch.Tensor(*args)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == st.float32
    if not (args and all(isinstance(a, int) for a in args)):  # uninitialised values are not compared
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor",
                                  "ByteTensor"])
def test_typed_constructors_match_torch(name) -> None:
    ours_cls, theirs_cls = getattr(st, name), getattr(torch, name)
    for args in [(2, 3), ([1, 0, 2],), ([[1.7, -2.2]],), ()]:
        try:
            theirs = theirs_cls(*args)
        except RuntimeError:  # e.g. ByteTensor([-2.2]): torch refuses the overflow
            continue
        ours = ours_cls(*args)
        assert ours.shape == tuple(theirs.shape)
        assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
        if not (args and isinstance(args[0], int)):
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert isinstance(ours, ours_cls) and isinstance(ours, st.Tensor)


def test_tensor_constructor_keeps_existing_callers_and_errors() -> None:
    assert st.tensor([1, 2]).dtype == st.int64  # st.tensor infers, st.Tensor is float32
    assert st.Tensor([1, 2], dtype=st.int64).dtype == st.int64  # the old keyword form still works
    x = st.tensor([1, 2])
    assert st.Tensor(x).dtype == torch.Tensor(torch.tensor([1, 2])).dtype.__str__().replace("torch.", "")
    assert not isinstance(st.zeros(2), st.LongTensor)
    assert isinstance(st.zeros(2, dtype=st.int64), st.LongTensor)
    with pytest.raises(TypeError, match="sequence"):
        st.Tensor(3.5)
    with pytest.raises(TypeError, match="sizes must be ints"):
        st.Tensor(2, 3.0)
    with pytest.raises(RuntimeError, match="non-negative"):
        st.FloatTensor(-1)
    with pytest.raises(Exception, match="CPU"):
        st.FloatTensor(2, device="cuda")


# ------------------------------------------------------------------ axis= / keepdims=
ALIAS_CALLS = [
    ("sum", {"axis": 0}), ("sum", {"axis": 1, "keepdims": True}), ("mean", {"axis": -1}),
    ("amax", {"axis": 0}), ("amin", {"axis": 1}), ("argmax", {"axis": 1}), ("argmin", {"axis": 0}),
    ("std", {"axis": 1}), ("var", {"axis": 0, "keepdims": True}), ("softmax", {"axis": 1}),
    ("log_softmax", {"axis": 0}), ("cumsum", {"axis": 1}), ("prod", {"axis": 0}),
    ("all", {"axis": 1}), ("any", {"axis": 0}), ("count_nonzero", {"axis": 0}),
]


@pytest.mark.parametrize("name, kwargs", ALIAS_CALLS, ids=lambda v: str(v))
def test_axis_is_an_alias_of_dim_like_torch(name, kwargs) -> None:
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    same(getattr(st.tensor(a), name)(**kwargs), getattr(torch.tensor(a), name)(**kwargs))
    same(getattr(st, name)(st.tensor(a), **kwargs), getattr(torch, name)(torch.tensor(a), **kwargs))


def test_axis_alias_on_max_min_cat_sort() -> None:
    a = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    s, t = st.tensor(a), torch.tensor(a)
    for ours, theirs in [(s.max(axis=1), t.max(axis=1)), (st.min(s, axis=0), torch.min(t, axis=0)),
                         (s.sort(axis=0), t.sort(axis=0)), (s.topk(2, axis=0), t.topk(2, axis=0))]:
        same(ours.values, theirs.values)
        same(ours.indices, theirs.indices)
    same(st.cat([s, s], axis=1), torch.cat([t, t], axis=1))
    same(st.stack([s, s], axis=2), torch.stack([t, t], axis=2))
    with pytest.raises(TypeError, match="unexpected keyword argument 'axis'"):
        s.sum(0, axis=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'axis'"):
        st.sum(s, dim=0, axis=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'keepdims'"):
        s.mean(1, True, keepdims=True)


# ------------------------------------------------------------------ meshgrid
def test_meshgrid_warns_like_torch_when_indexing_is_omitted() -> None:
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        a, b = st.meshgrid(st.arange(3), st.arange(2))
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        ta, tb = torch.meshgrid(torch.arange(3), torch.arange(2))
    assert [w.category for w in ours] == [w.category for w in theirs] == [UserWarning]
    assert str(ours[0].message).split("(")[0].strip() == str(theirs[0].message).split("(")[0].strip()
    assert ours[0].filename == __file__  # points at the caller's line
    same(a, ta)
    same(b, tb)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        st.meshgrid(st.arange(3), indexing="xy")
    with pytest.raises(RuntimeError, match="0-D or 1-D"):
        st.meshgrid(st.zeros(2, 2), indexing="ij")
    with pytest.raises(ValueError, match="'ij' or 'xy'"):
        st.meshgrid(st.zeros(2), indexing="ji")


# ------------------------------------------------------------------ dtype rules
@pytest.mark.parametrize("name", ["sin", "cos", "tan", "sinh", "cosh", "exp", "log1p", "expm1", "sqrt",
                                  "floor", "ceil", "round", "sign", "trunc", "square", "abs"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float64"])
def test_dtype_rules_match_torch(name, dtype) -> None:
    data = np.array([0, 1, 2, 3]).astype(dtype)
    try:
        theirs = getattr(torch, name)(torch.from_numpy(data))
    except RuntimeError:
        return  # torch refuses this dtype for this function (e.g. abs/square of bool)
    same(getattr(st, name)(st.from_numpy(data)), theirs)


def test_new_factories_and_requires_grad_match_torch() -> None:
    s, t = st.zeros(2, dtype=st.float64), torch.zeros(2, dtype=torch.float64)
    same(s.new_zeros(2, 3), t.new_zeros(2, 3))
    same(s.new_ones((2,)), t.new_ones((2,)))
    same(s.new_full((2, 2), 7), t.new_full((2, 2), 7))
    same(s.new_tensor([1, 2]), t.new_tensor([1, 2]))
    same(s.new_tensor([1, 2], dtype=st.int64), t.new_tensor([1, 2], dtype=torch.int64))
    assert s.new_empty(3, 1).shape == (3, 1) and s.new_empty(3).dtype == st.float64
    assert s.new_zeros(2, requires_grad=True).requires_grad
    same(s.type_as(st.zeros(1, dtype=st.int32)), t.type_as(torch.zeros(1, dtype=torch.int32)))
    for make in [lambda: st.eye(3, requires_grad=True), lambda: st.linspace(0, 1, 5, requires_grad=True),
                 lambda: st.full_like(s, 2.0, requires_grad=True),
                 lambda: st.empty_like(s, requires_grad=True),
                 lambda: st.randn_like(s, requires_grad=True), lambda: st.rand_like(s, requires_grad=True),
                 lambda: st.zeros(2, requires_grad=True), lambda: st.arange(3.0, requires_grad=True)]:
        assert make().requires_grad and make().is_leaf
    assert s.nelement() == 2 and s.element_size() == 8 and st.numel(s) == 2


# ------------------------------------------------------------------ product errors
@pytest.mark.parametrize("call, match", [
    (lambda: st.bmm(st.zeros(2, 3), st.zeros(2, 3)), "3-D"),
    (lambda: st.bmm(st.zeros(2, 3, 4), st.zeros(3, 4, 5)), r"\(2, 4\)"),
    (lambda: st.mm(st.zeros(2, 3), st.zeros(4, 4)), "cannot be multiplied"),
    (lambda: st.mm(st.zeros(2, 3), st.zeros(3, 4, dtype=st.float64)), "same dtype"),
    (lambda: st.mv(st.zeros(2, 3), st.zeros(2)), "do not fit"),
    (lambda: st.dot(st.zeros(2), st.zeros(3)), "same number of elements"),
    (lambda: st.outer(st.zeros(2, 2), st.zeros(3)), "1-D"),
    (lambda: st.einsum("ij,jk->ik", st.zeros(2, 3)), "names 2 operands"),
    (lambda: st.einsum("ij,jk->ik", st.zeros(2, 3), st.zeros(4, 2)), "do not fit"),
    (lambda: st.einsum("ii->i", st.zeros(2, 2)), "repeated subscripts"),
    (lambda: st.linalg.norm(st.zeros(2, 2), "nuc"), "singular values"),
    (lambda: st.tensor([1, 2]).norm(), "floating point"),
    (lambda: st.zeros(2).tril(), "2-D"),
])
def test_product_and_norm_errors_name_the_problem(call, match) -> None:
    with pytest.raises((RuntimeError, ValueError, TypeError, NotImplementedError), match=match):
        call()

"""`st.dtype` against `torch.dtype`: names, printing, attributes, `t.dtype` of every kind of
tensor, and the NumPy interop that striate's own code and users' NumPy code rely on."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import striate as st
import striate.nn as nn
import striate.nn.functional as F

NAMES = ["float32", "float", "float64", "double", "float16", "half", "bfloat16", "int8", "int16", "short",
         "int32", "int", "int64", "long", "uint8", "uint16", "uint32", "uint64", "bool"]
STORED = [n for n in NAMES if n != "bfloat16"]  # the ones NumPy can hold


def _st_name(torch_obj: object) -> str:
    return str(torch_obj).replace("torch.", "striate.")


@pytest.mark.parametrize("name", NAMES)
def test_str_repr_and_attributes_match_torch(name: str) -> None:
    ours, theirs = getattr(st, name), getattr(torch, name)
    assert isinstance(ours, st.dtype)
    assert str(ours) == repr(ours) == _st_name(theirs)
    for attr in ("is_floating_point", "is_complex", "is_signed", "itemsize"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr


def test_aliases_are_the_same_objects_as_in_torch() -> None:
    for a in NAMES:
        for b in NAMES:
            assert (getattr(st, a) is getattr(st, b)) == (getattr(torch, a) is getattr(torch, b)), (a, b)
    assert repr(st.dtype) == repr(torch.dtype).replace("torch", "striate")
    assert type(st.float32) is st.dtype


def test_pickle_and_copy_keep_the_single_instance() -> None:
    for name in NAMES:
        d = getattr(st, name)
        assert pickle.loads(pickle.dumps(d)) is d
        assert copy.copy(d) is d and copy.deepcopy({"d": d})["d"] is d


FACTORIES = [
    lambda lib: lib.zeros(2, 3),
    lambda lib: lib.ones(2, dtype=lib.float64),
    lambda lib: lib.empty(2, dtype=lib.int16),
    lambda lib: lib.full((2,), 7),
    lambda lib: lib.full((2,), 7.0),
    lambda lib: lib.full((2,), True),
    lambda lib: lib.arange(5),
    lambda lib: lib.arange(0.0, 1.0, 0.25),
    lambda lib: lib.linspace(0, 1, 5),
    lambda lib: lib.eye(3, dtype=lib.int32),
    lambda lib: lib.rand(3),
    lambda lib: lib.randn(3, dtype=lib.float64),
    lambda lib: lib.randint(0, 5, (3,)),
    lambda lib: lib.randperm(4),
    lambda lib: lib.tensor([1, 2], dtype=lib.uint8),
    lambda lib: lib.tensor([True, False]),
    lambda lib: lib.tensor(np.zeros(2, np.int8)),
    lambda lib: lib.zeros_like(lib.zeros(2, dtype=lib.float16)),
    lambda lib: lib.from_numpy(np.zeros(2, np.uint8)),
    lambda lib: lib.as_tensor([1.5]),
]


@pytest.mark.parametrize("make", FACTORIES)
def test_factories_give_torchs_dtype(make) -> None:
    ours, theirs = make(st).dtype, make(torch).dtype
    assert isinstance(ours, st.dtype) and str(ours) == _st_name(theirs)


OPS = [
    lambda lib, x, i: x + 1,
    lambda lib, x, i: x * i,
    lambda lib, x, i: (x > 0),
    lambda lib, x, i: x.sum(),
    lambda lib, x, i: x.argmax(),
    lambda lib, x, i: i.sum(),
    lambda lib, x, i: i / 2,
    lambda lib, x, i: x.long(),
    lambda lib, x, i: x.int(),
    lambda lib, x, i: x.double(),
    lambda lib, x, i: x.bool(),
    lambda lib, x, i: x.to(lib.float16),
    lambda lib, x, i: x.to(i),
    lambda lib, x, i: x.type(lib.int8),
    lambda lib, x, i: lib.cat([x, x]),
    lambda lib, x, i: x.reshape(-1)[1:],
    lambda lib, x, i: lib.softmax(x, 1),
    lambda lib, x, i: lib.matmul(x, x.t()),
    lambda lib, x, i: lib.where(x > 0, x, 0.0),
    lambda lib, x, i: x.double().mean(),
    lambda lib, x, i: i.max(),
]


@pytest.mark.parametrize("op", OPS)
def test_op_outputs_give_torchs_dtype(op) -> None:
    values = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
    outs = [op(lib, lib.tensor(values), lib.tensor(np.arange(6).reshape(2, 3))) for lib in (st, torch)]
    assert isinstance(outs[0].dtype, st.dtype) and str(outs[0].dtype) == _st_name(outs[1].dtype)


def test_parameters_gradients_buffers_and_module_to() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.LazyLinear(3))
    out = net(st.randn(2, 1, 5, 5))
    F.cross_entropy(out, st.tensor([0, 2])).backward()
    for name, p in net.named_parameters():
        assert p.dtype is st.float32 and p.grad.dtype is st.float32, name
    assert net[1].num_batches_tracked.dtype is st.int64 and net[1].running_mean.dtype is st.float32
    net.to(st.float64)
    assert all(p.dtype is st.float64 for p in net.parameters())
    assert net[1].num_batches_tracked.dtype is st.int64  # integer buffers stay, as in torch
    assert all(v.dtype in (st.float64, st.int64) for v in net.state_dict().values())


def test_default_dtype_is_a_dtype_object() -> None:
    assert st.get_default_dtype() is st.float32
    try:
        st.set_default_dtype(np.float64)  # NumPy's names are still accepted
        assert st.get_default_dtype() is st.float64 and st.zeros(1).dtype is st.float64
    finally:
        st.set_default_dtype(st.float32)
    with pytest.raises(TypeError, match="striate.int64"):
        st.set_default_dtype(st.int64)


@pytest.mark.parametrize("name", STORED)
def test_equality_and_hash_with_numpy(name: str) -> None:
    d = getattr(st, name)
    npd = np.dtype(d.numpy)
    assert d == npd and npd == d and d == npd.type and npd.type == d
    assert (d != npd) is False  # __ne__ is the negation of __eq__
    assert hash(d) == hash(npd)
    assert {npd: "found"}[d] == "found" and d in {npd} and npd in {d}
    assert d != None and d != 0 and d != "no such type" and d != object()  # noqa: E711
    others = [getattr(st, n) for n in STORED if getattr(st, n) is not d]
    assert all((d != o) is True and (d == o) is False for o in others)
    assert all(d != o.numpy for o in others)


@pytest.mark.parametrize("name", STORED)
def test_numpy_takes_it_as_a_dtype_without_warnings(name: str) -> None:
    d = getattr(st, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.dtype(d) is d.numpy and d.dtype is d.numpy
        assert np.zeros(3, dtype=d).dtype == d.numpy
        assert np.arange(3).astype(d).dtype == d.numpy
        assert np.array([1, 0], d).dtype == d.numpy
        assert np.empty(2, d).dtype == d.numpy
        assert np.issubdtype(d, np.floating) == d.is_floating_point
        assert np.result_type(d, d.numpy) == d.numpy and np.can_cast(d, d.numpy)
        if d.is_floating_point:
            assert np.finfo(d).eps == np.finfo(d.numpy).eps
        elif d != np.bool_:
            assert np.iinfo(d).max == np.iinfo(d.numpy).max
    # NumPy's own attributes read through, for code that mixes NumPy
    assert (d.kind, d.name, d.type, d.char, d.str) == (d.numpy.kind, d.numpy.name, d.numpy.type,
                                                      d.numpy.char, d.numpy.str)


def test_tensor_dtype_in_numpy_user_code() -> None:
    t = st.randn(3)
    a = np.ones(3, dtype=t.dtype) + t.numpy().astype(t.dtype)
    assert a.dtype == np.float32 and t.dtype == np.float32 and t.dtype == np.dtype("float32")
    assert t.dtype == "float32"  # as np.dtype compares; torch.float32 == "float32" is False
    assert t.dtype in (np.float32, np.float64) and t.dtype.kind == "f"
    assert np.asarray(t, dtype=st.float64).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float64, np.dtype("float64"), "float64", float, st.float64, st.double])
def test_numpy_and_python_dtypes_still_accepted(dtype) -> None:
    assert st.tensor([1, 2], dtype=dtype).dtype is st.float64
    assert st.zeros(2).to(dtype).dtype is st.float64 and st.zeros(2).type(dtype).dtype is st.float64
    assert st.zeros(2, dtype=dtype).dtype is st.float64
    assert st.ones(1).new_zeros(2, dtype=dtype).dtype is st.float64


def test_bool_and_int_python_types_accepted() -> None:
    assert st.tensor([1, 0], dtype=bool).dtype is st.bool
    assert st.tensor([1.5], dtype=int).dtype is st.int64  # NumPy's int: int64 here


def test_bfloat16_is_a_name_only_with_a_clear_error() -> None:
    assert str(st.bfloat16) == "striate.bfloat16" and st.bfloat16.itemsize == 2
    for make in (lambda: st.zeros(2, dtype=st.bfloat16), lambda: st.ones(2).to(st.bfloat16),
                 lambda: st.tensor([1.0], dtype=st.bfloat16), lambda: np.zeros(2, st.bfloat16)):
        with pytest.raises(TypeError, match="striate.bfloat16 is a dtype name only.*striate.float32"):
            make()
    assert st.bfloat16 != np.float32 and st.bfloat16 != np.float16 and st.bfloat16 == st.bfloat16


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor([1.5, -2.0], dtype=lib.float64),
    lambda lib: lib.tensor([1.5, -2.0], dtype=lib.float16),
    lambda lib: lib.tensor([1, 2], dtype=lib.int32),
    lambda lib: lib.tensor([1, 2], dtype=lib.int16),
    lambda lib: lib.tensor([1, 2], dtype=lib.int8),
    lambda lib: lib.tensor([1, 2], dtype=lib.uint8),
    lambda lib: lib.tensor([1, 2]),
    lambda lib: lib.tensor([True]),
    lambda lib: lib.zeros(0, dtype=lib.int32),
    lambda lib: lib.zeros(2, 0, dtype=lib.float64),
    lambda lib: lib.ones(2, dtype=lib.float64, requires_grad=True) * 2,
])
def test_printed_tensors_name_the_dtype_as_torch(make) -> None:
    assert repr(make(st)) == _st_name(repr(make(torch)))


def test_error_messages_name_the_dtype_as_torch() -> None:
    with pytest.raises(RuntimeError, match=r"this one is striate\.int64"):
        st.tensor([1, 2]).requires_grad_()
    with pytest.raises(TypeError, match=r"got striate\.int64"):
        st.mean(st.tensor([1, 2]))
    with pytest.raises(TypeError, match=r"floating point dtypes, got striate\.int64"):
        nn.Linear(2, 2).to(st.int64)


def test_save_and_load_keep_dtype_objects(tmp_path) -> None:
    path = tmp_path / "config.st"
    st.save({"dtype": st.float64, "np": np.dtype("int32"), "t": st.zeros(2, dtype=st.int16)}, path)
    back = st.load(path)
    assert back["dtype"] is st.float64 and back["np"] == np.dtype("int32")
    assert back["t"].dtype is st.int16


def test_legacy_tensor_types_carry_dtype_objects() -> None:
    for name in ("FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor", "ByteTensor"):
        cls = getattr(st, name)
        assert str(cls.dtype) == _st_name(getattr(torch, name).dtype)
        t = cls([1, 0])
        assert t.dtype is cls.dtype and isinstance(t, cls)


@pytest.mark.parametrize("make", FACTORIES)
def test_is_floating_point_and_is_complex_match_torch(make) -> None:
    ours, theirs = make(st), make(torch)
    assert ours.is_floating_point() == theirs.is_floating_point() == st.is_floating_point(ours)
    assert ours.is_complex() == theirs.is_complex() == st.is_complex(ours) is False

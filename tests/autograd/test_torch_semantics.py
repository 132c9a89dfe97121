"""PyTorch's autograd and tensor surface, compared with PyTorch: grad_fn names and
next_functions, st.autograd.grad / backward / Variable, inference_mode, st.Size, printing,
threads, the default dtype and the dtype rule of st.tensor()."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import striate as st


# ---------------------------------------------------------------- grad_fn
def _graph(lib):
    x = lib.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    w = lib.tensor([0.5, -1.0], requires_grad=True)
    c = lib.tensor([2.0, 2.0])
    return x, w, ((x * w + c).relu() @ w).sum()


def _names(fn, depth=4):
    """The graph below `fn` as nested (name, children) tuples, leaves as their shape."""
    if fn is None:
        return None
    if type(fn).__name__ == "AccumulateGrad":
        return ("AccumulateGrad", tuple(fn.variable.shape))
    if depth == 0:
        return fn.name()
    return (fn.name(), tuple((_names(f, depth - 1), i) for f, i in fn.next_functions))


def test_grad_fn_names_and_next_functions_match_torch() -> None:
    sx, _, s = _graph(st)
    tx, _, t = _graph(torch)
    # torch names the matmul of a 2-d and a 1-d tensor MvBackward0; striate's MatMul node is
    # always MmBackward0 (one node for every matmul); the rest of the graph is the same.
    expected = str(_names(t.grad_fn)).replace("MvBackward0", "MmBackward0")
    assert str(_names(s.grad_fn)) == expected
    node = s.grad_fn
    for _ in range(5):  # Sum -> Mm -> Relu -> Add -> Mul -> AccumulateGrad(x)
        node = node.next_functions[0][0]
    assert node.variable is sx
    assert repr(s).endswith("grad_fn=<SumBackward0>)")


def test_common_layer_nodes_have_torchs_names() -> None:
    x = st.randn(1, 2, 5, 5, requires_grad=True)
    conv = st.nn.Conv2d(2, 3, 3)
    bn = st.nn.BatchNorm2d(3)
    y = st.nn.functional.max_pool2d(bn(conv(x)), 2).flatten(1)
    assert y.grad_fn.name() == "ViewBackward0"
    pool = y.grad_fn.next_functions[0][0]
    assert pool.name() == "MaxPool2DWithIndicesBackward0"
    assert pool.next_functions[0][0].name() == "NativeBatchNormBackward0"
    assert pool.next_functions[0][0].next_functions[0][0].name() == "ConvolutionBackward0"


# ---------------------------------------------------------------- autograd.grad, backward, Variable
def test_autograd_grad_matches_torch_and_leaves_grad_alone() -> None:
    results = []
    for lib in (st, torch):
        x = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        w = lib.tensor(np.linspace(-1, 1, 3), requires_grad=True)
        h = (x * w).exp()
        out = (h * h).sum()
        gx, gw, gh = lib.autograd.grad(out, [x, w, h], retain_graph=True)
        assert x.grad is None and w.grad is None
        (gv,) = lib.autograd.grad([h.sum(), out], w, grad_outputs=[None, lib.tensor(2.0, dtype=lib.float64)])
        results.append([g.detach().numpy().copy() for g in (gx, gw, gh, gv)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_autograd_grad_errors_like_torch() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    unused = st.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        st.autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = st.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0, 2.0] and gu is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        st.autograd.grad((x * 2).sum(), st.tensor([1.0]))
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        st.autograd.grad(x * 2, x)
    with pytest.raises(RuntimeError, match="double backward"):
        st.autograd.grad((x * 2).sum(), x, create_graph=True)


def test_autograd_backward_of_several_outputs() -> None:
    for lib in (st, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        lib.autograd.backward([(x * x).sum(), x * 3], [None, lib.tensor([1.0, -1.0])])
        assert x.grad.tolist() == [5.0, 1.0]


def test_variable_is_a_deprecated_alias() -> None:
    t = st.tensor([1.0, 2.0])
    v = st.autograd.Variable(t, requires_grad=True)
    assert isinstance(v, st.Tensor) and isinstance(t, st.autograd.Variable)
    assert v.requires_grad and v.is_leaf and not t.requires_grad
    (v * 2).sum().backward()
    assert v.grad.tolist() == [2.0, 2.0]


# ---------------------------------------------------------------- inference mode
def test_inference_mode() -> None:
    w = st.tensor([1.0], requires_grad=True)
    with st.inference_mode():
        y = w * 2
        z = st.zeros(2)
        assert not st.is_grad_enabled() and st.is_inference_mode_enabled()
        with st.inference_mode(False):
            assert not st.is_inference_mode_enabled()
    assert st.is_grad_enabled() and not st.is_inference_mode_enabled()
    assert y.is_inference() and z.is_inference() and not y.requires_grad and not w.is_inference()
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode"):
        z.add_(1)

    @st.inference_mode()
    def f(a):
        return a * 2

    @st.inference_mode
    def g(a):
        return a * 2

    assert f(w).is_inference() and g(w).is_inference() and not f(w).requires_grad


# ---------------------------------------------------------------- Size, threads, default dtype
def test_size_like_torch() -> None:
    t, tt = st.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    assert isinstance(t.shape, st.Size) and isinstance(t.size(), st.Size) and isinstance(t.shape, tuple)
    assert repr(t.shape) == repr(tt.shape).replace("torch", "striate") == "striate.Size([2, 3, 4])"
    assert str(t.shape[1:]) == "striate.Size([3, 4])" and t.shape[1:].numel() == 12
    assert t.shape == (2, 3, 4) and t.size(1) == 3 and st.Size([]).numel() == 1
    assert repr(st.zeros(()).shape) == "striate.Size([])"


def test_threads_delegate_to_config() -> None:
    before = st.get_num_threads()
    try:
        st.set_num_threads(2)
        assert st.get_num_threads() == 2 == st.config.get_num_threads()
    finally:
        st.config.set_num_threads(None)
    assert st.get_num_threads() == before


def test_default_dtype() -> None:
    assert st.get_default_dtype() == st.float32
    try:
        st.set_default_dtype(st.float64)
        assert st.tensor([1.5]).dtype == st.float64 and st.zeros(2).dtype == st.float64
        assert st.randn(2).dtype == st.float64 and st.nn.Linear(2, 3).weight.dtype == st.float64
        assert repr(st.tensor([1.5])) == "tensor([1.5000])"
        assert repr(st.tensor([1.5], dtype=st.float32)) == "tensor([1.5000], dtype=striate.float32)"
    finally:
        st.set_default_dtype(st.float32)
    with pytest.raises(TypeError, match="float32 or st.float64"):
        st.set_default_dtype(st.int64)


# ---------------------------------------------------------------- the dtype rule of st.tensor()
@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor(np.zeros(3)),  # float64 array stays float64
    lambda lib: lib.tensor(np.zeros(3, np.float32)),
    lambda lib: lib.tensor(np.zeros(3, np.int32)),
    lambda lib: lib.tensor(np.zeros(3, np.uint8)),
    lambda lib: lib.tensor(np.float64(2.5)),
    lambda lib: lib.tensor([1.0, 2.0]),
    lambda lib: lib.tensor([1, 2]),
    lambda lib: lib.tensor(2.5),
    lambda lib: lib.tensor([True]),
    lambda lib: lib.as_tensor(np.zeros(2)),
    lambda lib: lib.from_numpy(np.zeros(2, np.int16)),
    lambda lib: lib.tensor(lib.zeros(2, dtype=lib.float64)),
])
@pytest.mark.filterwarnings("ignore:To copy construct from a tensor")  # torch's advice on tensor(t)
def test_tensor_dtype_rule_matches_torch(make) -> None:
    assert str(make(st).dtype) == str(make(torch).dtype).replace("torch.", "striate.")


def test_as_tensor_shares_a_numpy_array() -> None:
    a = np.zeros(3)
    t = st.as_tensor(a)
    a[0] = 1
    assert t.tolist() == [1.0, 0.0, 0.0]


# ---------------------------------------------------------------- printing
_PRINTED = [
    lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]),
    lambda m: m.tensor([1.5, -2.25, 3.125]),
    lambda m: m.tensor([1e-5, 1.0, 3e5]),
    lambda m: m.tensor([1e10, 1.0]),
    lambda m: m.tensor([-1e-3, 12345.678]),
    lambda m: m.tensor([1, 2, -3]),
    lambda m: m.tensor([True, False]),
    lambda m: m.tensor(3.5),
    lambda m: m.tensor(-7),
    lambda m: m.tensor([]),
    lambda m: m.zeros(2, 0),
    lambda m: m.zeros(0, dtype=m.float64),
    lambda m: m.zeros(3, dtype=m.int32),
    lambda m: m.arange(2000).reshape(40, 50),
    lambda m: m.tensor(np.linspace(-3, 3, 1500).reshape(30, 50)),
    lambda m: m.tensor(np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7),
    lambda m: m.tensor(np.arange(3000, dtype=np.float32).reshape(3, 10, 100) - 1500),
    lambda m: m.tensor(np.arange(5000, dtype=np.int32)),
    lambda m: m.tensor([float("nan"), float("inf"), -float("inf"), 1.0]),
    lambda m: m.tensor([0.0, -0.0]),
    lambda m: m.tensor(np.linspace(0, 1, 30)),
    lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True),
    lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) * 2,
    lambda m: m.tensor(np.linspace(-1, 1, 18).reshape(3, 6), requires_grad=True) + 1,
]


def _same_print(ours: str, theirs: str) -> None:
    """Equal to torch's string with `striate.` for `torch.`; a suffix (dtype=, grad_fn=) may move
    to the next line or back, because `striate.float64` is 2 characters longer than torch's."""
    theirs = theirs.replace("torch.", "striate.")
    if ours != theirs:
        join = re.compile(r",\s+(dtype=|grad_fn=|requires_grad=)")
        assert join.sub(r", \1", ours) == join.sub(r", \1", theirs)


@pytest.mark.parametrize("make", _PRINTED)
def test_repr_matches_torch(make) -> None:
    _same_print(repr(make(st)), repr(make(torch)))


def test_set_printoptions_like_torch() -> None:
    try:
        for kwargs in ({"precision": 2}, {"sci_mode": True}, {"threshold": 5, "edgeitems": 2},
                       {"linewidth": 30}, {"profile": "short"}, {"profile": "full"}):
            st.set_printoptions(**kwargs)
            torch.set_printoptions(**kwargs)
            for m in (lambda m: m.tensor(np.linspace(-2, 7, 40)), lambda m: m.arange(12)):
                _same_print(repr(m(st)), repr(m(torch)))
    finally:
        st.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert st.get_printoptions()["precision"] == 4

"""The rules of autograd, as PyTorch has them: when backward needs a gradient argument, how
gradients accumulate, no_grad/enable_grad/set_grad_enabled, detach, retain_graph, in-place
safety, deep and diamond-shaped graphs, and custom Functions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import striate as st
from striate.autograd import Function


def test_scalar_output_needs_no_gradient_argument() -> None:
    x = st.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    y = st.tensor([[2.0]], requires_grad=True)  # one element counts as a scalar, as in torch
    (y * 3).backward()
    assert y.grad.tolist() == [[3.0]]


def test_non_scalar_output_needs_gradient_and_error_names_shape() -> None:
    x = st.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"non-scalar output of shape \(2, 2\)"):
        y.backward()
    y.backward(st.tensor([[1.0, 0.0], [0.5, 2.0]]))
    assert x.grad.tolist() == [[2.0, 0.0], [1.0, 4.0]]
    z = x * 3
    with pytest.raises(RuntimeError, match=r"gradient of shape \(3,\) does not match .* shape \(2, 2\)"):
        z.backward(st.ones(3))
    z.backward(np.ones((2, 2)))  # arrays are accepted as the gradient too


def test_gradients_accumulate_until_zeroed() -> None:
    w = st.tensor([1.0, -2.0], requires_grad=True)
    for _ in range(3):
        (w * w).sum().backward()
    assert w.grad.tolist() == [6.0, -12.0]
    grad_tensor = w.grad
    (w * 1).sum().backward()
    assert w.grad is grad_tensor  # accumulated into the same tensor, as torch
    w.grad.zero_()
    (w * 5).sum().backward()
    assert w.grad.tolist() == [5.0, 5.0]
    w.grad = None
    (w * 7).sum().backward()
    assert w.grad.tolist() == [7.0, 7.0]


def test_gradient_is_not_aliased_between_leaves() -> None:
    a = st.tensor([1.0], requires_grad=True)
    b = st.tensor([2.0], requires_grad=True)
    (a + b).sum().backward()  # add hands the same array to both inputs
    a.grad.add_(10)
    assert b.grad.tolist() == [1.0]


def test_no_grad_records_nothing_as_context_and_decorator() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    with st.no_grad():
        y = x * 2
        assert not st.is_grad_enabled()
    assert st.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @st.no_grad()
    def f(t):
        return t * 3

    @st.no_grad
    def g(t):
        return t * 4

    assert not f(x).requires_grad and not g(x).requires_grad
    assert st.is_grad_enabled() and (x * 2).requires_grad
    assert f.__name__ == "f"


def test_no_grad_restores_mode_after_exception_and_nests() -> None:
    with pytest.raises(ZeroDivisionError), st.no_grad():
        1 / 0  # noqa: B018
    assert st.is_grad_enabled()
    with st.no_grad():
        with st.enable_grad():
            assert (st.ones(1, requires_grad=True) * 2).requires_grad
        with st.no_grad():
            pass
        assert not st.is_grad_enabled()
    assert st.is_grad_enabled()


def test_set_grad_enabled_call_context_and_decorator() -> None:
    st.set_grad_enabled(False)
    assert not st.is_grad_enabled()
    st.set_grad_enabled(True)
    with st.set_grad_enabled(False):
        assert not st.is_grad_enabled()
    assert st.is_grad_enabled()

    @st.set_grad_enabled(False)
    def f():
        return st.is_grad_enabled()

    assert st.is_grad_enabled()  # decorating does not switch the mode
    assert f() is False and st.is_grad_enabled()


def test_detach_cuts_the_graph() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    z = y.detach() * x  # gradient flows only through the second factor
    z.sum().backward()
    assert x.grad.tolist() == [1.0, 4.0]


def test_retain_graph_allows_second_backward_and_without_it_error() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp() * x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        loss.backward()


def test_shared_subgraph_freed_by_first_backward_raises() -> None:
    x = st.tensor([1.0, 2.0], requires_grad=True)
    h = x.sigmoid()
    (h * 2).sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (h * 3).sum().backward()


def test_leaf_modified_in_place_while_needed_raises() -> None:
    w = st.tensor([1.0, 2.0], requires_grad=True)
    y = w * st.tensor([3.0, 4.0])  # w is read only for the constant's gradient: not checked
    with st.no_grad():
        w.add_(1)
    y.sum().backward()
    w.grad = None
    x = st.tensor([3.0, 4.0], requires_grad=True)  # now x's gradient reads w
    y = w * x
    with st.no_grad():
        w.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: \[striate.FloatTensor "
                                           r"\[2\]\] is at version 2; expected version 1"):
        y.sum().backward()


def test_input_modified_in_place_that_backward_does_not_need_is_fine() -> None:
    w = st.tensor([1.0, 2.0], requires_grad=True)
    y = w + 1  # add never reads its inputs' values
    with st.no_grad():
        w.mul_(10)
    y.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("op", ["sigmoid", "exp", "tanh", "relu", "sqrt", "softmax"])
def test_saved_output_modified_in_place_raises(op: str) -> None:
    x = st.tensor([0.5, 2.0], requires_grad=True)
    y = getattr(x, op)(0) if op == "softmax" else getattr(x, op)()
    with st.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation: .*, which is output 0 of "
                                           ".*Backward0, is at version 1; expected version 0"):
        y.sum().backward()


def test_in_place_on_leaf_requiring_grad_in_grad_mode_raises() -> None:
    w = st.tensor([1.0, 2.0], requires_grad=True)
    leaf = "a leaf Variable that requires grad is being used in an in-place operation"
    with pytest.raises(RuntimeError, match=leaf):
        w.add_(1)
    with pytest.raises(RuntimeError, match=leaf):
        w[0] = 3.0
    with pytest.raises(RuntimeError, match=leaf):
        w += 1
    assert w.tolist() == [1.0, 2.0]
    h = w * 2
    h.mul_(2)  # a tensor in the graph: recorded, as in PyTorch (tests/autograd/test_inplace.py)
    h.sum().backward()
    assert w.grad.tolist() == [4.0, 4.0]


def test_integer_tensors_cannot_require_grad() -> None:
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients.*int64"):
        st.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        st.arange(3).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        st.tensor([True]).requires_grad_()


def test_backward_on_tensor_without_grad_raises() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        (st.ones(2) * 2).sum().backward()


def test_diamond_graph_accumulates_every_path() -> None:
    xs = st.tensor([0.5, -1.5, 2.0], dtype=st.float64, requires_grad=True)
    xt = torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64, requires_grad=True)

    def diamond(x, lib):
        a = x * 2
        b = lib.exp(x)
        c = a * b + a.sum() + x  # x reaches c by three routes, a by two
        return (c * c).sum() + (a * x).sum()

    diamond(xs, st).backward()
    diamond(xt, torch).backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_same_tensor_as_both_inputs() -> None:
    x = st.tensor([3.0], requires_grad=True)
    (x * x * x).backward()
    assert x.grad.item() == 27.0
    y = st.tensor([2.0], requires_grad=True)
    (y / y + y - y).backward()
    assert y.grad.item() == 0.0


def test_deep_chain_backprops_without_recursion_error() -> None:
    x = st.tensor([1.0], dtype=st.float64, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 0.0001
    y.sum().backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 5000, rel=1e-10)


def test_deep_chain_released_without_backward() -> None:
    x = st.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(30000):
        y = y * 1.0
    del y  # freeing a long chain must not overflow the C stack


def test_gradient_only_to_inputs_that_require_it() -> None:
    a = st.tensor([1.0, 2.0], requires_grad=True)
    b = st.tensor([3.0, 4.0])
    (a * b).sum().backward()
    assert a.grad.tolist() == [3.0, 4.0] and b.grad is None
    seen = []

    class Spy(Function):
        def forward(self, x, y):
            seen.append(self.needs_input_grad)
            return x * y

        def backward(self, g):
            return (g * 2 if self.needs_input_grad[0] else None, None)

    Spy.apply(a, b).sum().backward()
    with st.no_grad():
        Spy.apply(a, b)
    assert seen == [(True, False), None]


def test_non_leaf_gets_no_grad_and_leaf_dtype_preserved() -> None:
    x = st.randn(3, requires_grad=True)
    h = x * 2
    (h.double() * 3).sum().backward()
    assert h.grad is None and x.grad.dtype == st.float32
    np.testing.assert_allclose(x.grad.numpy(), 6.0)


def test_custom_function_contract() -> None:
    class Cube(Function):
        """y = x^3;  dy/dx = 3 x^2."""

        saves_inputs = (0,)

        def forward(self, x, scale=1.0):
            self.x, self.scale = x, scale
            return scale * x ** 3

        def backward(self, g):
            return (g * 3 * self.scale * self.x ** 2,)

    x = st.tensor([1.0, 2.0], dtype=st.float64, requires_grad=True)
    y = Cube.apply(x, scale=2.0)
    assert y.grad_fn.name() == "CubeBackward0" and repr(y.grad_fn).startswith("<CubeBackward0 object")
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]
    assert st.autograd.gradcheck(lambda t: Cube.apply(t, scale=0.5), [x])
    with pytest.raises(TypeError, match="takes Tensors as positional arguments"):
        Cube.apply(np.ones(2))


def test_leaf_hook_called_after_accumulation() -> None:
    x = st.tensor([1.0], requires_grad=True)
    calls = []
    x.register_hook(lambda t: calls.append(t.grad.item()))
    (x * 4).sum().backward()
    (x * 1).sum().backward()
    assert calls == [4.0, 5.0]


def test_backward_through_indexing_and_views_matches_torch() -> None:
    data = np.random.default_rng(0).standard_normal((4, 5))
    xs = st.tensor(data, dtype=st.float64, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)

    def f(x):
        a = x[1:, ::2].transpose(0, 1).reshape(-1)
        b = x[[0, 0, 3], [1, 1, 4]]
        return (a[:3] * b).sum() + x.T[2].sum() + x.unsqueeze(0).expand(3, 4, 5).sum()

    f(xs).backward()
    f(xt).backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-12)

"""PyTorch-style custom Functions (static forward(ctx, ...) / backward(ctx, grad)): the same
values and gradients as the same class written against torch.autograd.Function."""

from __future__ import annotations

import numpy as np
import pytest

import striate as st

torch = pytest.importorskip("torch")


def legendre(base):
    class LegendrePolynomial3(base):        # "Learning PyTorch with examples", unchanged
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    return LegendrePolynomial3


def scaled_product(base):
    class ScaledProduct(base):              # two tensors and a number: alpha * x * y
        @staticmethod
        def forward(ctx, x, alpha, y):
            ctx.save_for_backward(x, y)
            ctx.alpha = alpha
            return alpha * x * y

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            gx = grad * ctx.alpha * y if ctx.needs_input_grad[0] else None
            gy = grad * ctx.alpha * x if ctx.needs_input_grad[2] else None
            return gx, None, gy

    return ScaledProduct


@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 4), (2, 3, 5)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_legendre_matches_pytorch(shape, dtype):
    x = np.asarray(np.random.default_rng(len(shape)).standard_normal(shape), dtype=dtype)
    xs = st.tensor(x, dtype=getattr(st, dtype), requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ys, yt = legendre(st.autograd.Function).apply(xs), legendre(torch.autograd.Function).apply(xt)
    (ys * ys).sum().backward()
    (yt * yt).sum().backward()
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(ys.numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)
    assert ys.requires_grad and ys.dtype == xs.dtype


@pytest.mark.parametrize("needs", [(True, True), (True, False), (False, True)])
def test_non_tensor_arguments_and_needs_input_grad(needs):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    xs = st.tensor(x, dtype=st.float64, requires_grad=needs[0])
    ys = st.tensor(y, dtype=st.float64, requires_grad=needs[1])
    xt, yt = torch.tensor(x, requires_grad=needs[0]), torch.tensor(y, requires_grad=needs[1])
    out_s = scaled_product(st.autograd.Function).apply(xs, 2.5, ys)
    out_t = scaled_product(torch.autograd.Function).apply(xt, 2.5, yt)
    out_s.sum().backward()
    out_t.sum().backward()
    np.testing.assert_allclose(out_s.numpy(), out_t.detach().numpy(), rtol=1e-12)
    for s, t in ((xs, xt), (ys, yt)):
        assert (s.grad is None) == (t.grad is None)
        if t.grad is not None:
            np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_gradcheck_in_float64():
    x = st.tensor(np.linspace(-1.2, 1.3, 11), dtype=st.float64, requires_grad=True)
    y = st.tensor(np.linspace(0.5, 2.0, 11), dtype=st.float64, requires_grad=True)
    assert st.autograd.gradcheck(lambda a: legendre(st.autograd.Function).apply(a), (x,))
    assert st.autograd.gradcheck(lambda a, b: scaled_product(st.autograd.Function).apply(a, -0.7, b), (x, y))


def test_forward_records_nothing_and_no_grad_skips_the_node():
    class Probe(st.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.inside = st.is_grad_enabled()
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = st.ones(3, requires_grad=True)
    y = Probe.apply(x)
    assert y.requires_grad and y.grad_fn is not None
    with st.no_grad():
        assert not Probe.apply(x).requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_wrong_number_of_gradients_names_the_function():
    class TooFew(st.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad

    out = TooFew.apply(st.ones(2, requires_grad=True), st.ones(2))
    with pytest.raises(RuntimeError, match=r"function TooFewBackward returned an incorrect number of "
                                           r"gradients \(expected 2, got 1\)"):
        out.sum().backward()


def test_clear_errors():
    class TwoOutputs(st.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(TypeError, match="save_for_backward takes Tensors or None, got int"):
        TwoOutputs.apply(st.ones(2))

    class Pair(st.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

        @staticmethod
        def backward(ctx, a, b):
            return a

    with pytest.raises(TypeError, match="Pair.forward must return one Tensor"):
        Pair.apply(st.ones(2))

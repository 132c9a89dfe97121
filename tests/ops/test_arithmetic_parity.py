"""st.add/sub/mul/div with PyTorch's keywords (alpha=, rounding_mode=, out=) against torch:
forward and backward through the harness (float32, non-contiguous, float64, gradcheck) on
broadcasting shapes and scalars; integer rounding; in-place div_(rounding_mode=) in a graph;
out= and the errors."""

import numpy as np
import pytest
import torch

import striate as st
from harness import OpCase, check_case


def _pair(shape_a, shape_b):
    return lambda rng: [rng.standard_normal(shape_a), rng.standard_normal(shape_b)]


def _away_from_integers(shape_a, shape_b):
    """Quotients far from integers, so a finite-difference gradient of the rounded quotient is 0."""
    def make(rng):
        b = rng.choice([-1.0, 1.0], shape_b) * rng.uniform(0.5, 2.0, shape_b)
        q = rng.integers(-5, 5, np.broadcast_shapes(shape_a, shape_b)) + rng.uniform(0.2, 0.8)
        return [q * b, b]
    return make


SHAPES = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((5, 1), (1, 6)), ((), (3,)), ((0, 3), (3,))]

CASES = []
for sa, sb in SHAPES:
    tag = f"{sa}x{sb}"
    CASES += [
        OpCase(f"add-alpha-{tag}", _pair(sa, sb), lambda a, b: st.add(a, b, alpha=2.5),
               lambda a, b: torch.add(a, b, alpha=2.5)),
        OpCase(f"sub-alpha-{tag}", _pair(sa, sb), lambda a, b: st.sub(a, b, alpha=-0.5),
               lambda a, b: torch.sub(a, b, alpha=-0.5)),
        OpCase(f"add-{tag}", _pair(sa, sb), st.add, torch.add),
        OpCase(f"mul-{tag}", _pair(sa, sb), st.mul, torch.mul),
        OpCase(f"div-{tag}", _pair(sa, sb), st.div, torch.div),
        OpCase(f"div-trunc-{tag}", _away_from_integers(sa, sb),
               lambda a, b: st.div(a, b, rounding_mode="trunc"),
               lambda a, b: torch.div(a, b, rounding_mode="trunc")),
        OpCase(f"div-floor-{tag}", _away_from_integers(sa, sb),
               lambda a, b: st.div(a, b, rounding_mode="floor"),
               lambda a, b: torch.div(a, b, rounding_mode="floor")),
    ]
CASES += [
    OpCase("add-scalar-alpha", lambda rng: [rng.standard_normal((3, 2))], lambda a: st.add(a, 3, alpha=2),
           lambda a: torch.add(a, 3, alpha=2)),
    OpCase("scalar-sub-tensor", lambda rng: [rng.standard_normal((3, 2))], lambda a: st.sub(1.5, a),
           lambda a: torch.sub(1.5, a)),
    OpCase("method-divide-floor", _away_from_integers((4,), (4,)),
           lambda a, b: a.divide(b, rounding_mode="floor"), lambda a, b: a.divide(b, rounding_mode="floor")),
    OpCase("method-subtract", _pair((2, 3), (3,)), lambda a, b: a.subtract(b, alpha=3),
           lambda a, b: a.subtract(b, alpha=3)),
    # torch has no derivative for floor_divide (striate's is zero): forward only
    OpCase("floor_divide", _away_from_integers((5,), (5,)), st.floor_divide, torch.floor_divide,
           backward=False),
    OpCase("true_divide", _pair((5,), (5,)), st.true_divide, torch.true_divide),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity(case):
    check_case(case)


SPECIAL = np.array([-7.0, -3.5, 3.0, 7.5, 0.0, -0.0, 1e30, np.inf, -np.inf, np.nan, 5.0, -5.0])
DIVISORS = np.array([2.0, -2.0, 0.0, -2.5, -3.0, 3.0, 7.0, 2.0, -2.0, 1.0, -0.0, np.inf])


@pytest.mark.parametrize("mode", ["trunc", "floor"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rounding_of_special_values_matches_torch(mode, dtype):
    a, b = SPECIAL.astype(dtype), DIVISORS.astype(dtype)
    ours = st.div(st.tensor(a), st.tensor(b), rounding_mode=mode).numpy()
    theirs = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode).numpy()
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))  # -0.0 where torch gives it


@pytest.mark.parametrize("mode", ["trunc", "floor"])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_integer_rounding_matches_torch(mode, dtype):
    rng = np.random.default_rng(3)
    lo = 0 if dtype == np.uint8 else -50
    a = rng.integers(lo, 50, 200).astype(dtype)
    signs = np.ones(200, dtype) if dtype == np.uint8 else rng.choice([-1, 1], 200).astype(dtype)
    b = rng.integers(1, 9, 200).astype(dtype) * signs
    ours = st.div(st.tensor(a), st.tensor(b), rounding_mode=mode)
    theirs = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
    assert ours.dtype == theirs.numpy().dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(st.tensor(a).div(3, rounding_mode=mode).numpy(),
                                  torch.tensor(a).div(3, rounding_mode=mode).numpy())
    assert st.div(st.tensor(a), st.tensor(b)).dtype == np.float32  # true division of integers


def test_integer_division_by_zero_is_an_error():
    with pytest.raises(ZeroDivisionError, match="integer division by zero"):
        st.div(st.tensor([4, 5]), st.tensor([2, 0]), rounding_mode="floor")


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
def test_inplace_div_in_a_graph_matches_torch(mode):
    a = np.array([[1.3, -2.7, 5.1], [0.4, 8.8, -6.2]])
    xs = st.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    ys, yt = xs * 3, xt * 3
    ys.div_(0.7, rounding_mode=mode)
    yt.div_(0.7, rounding_mode=mode)
    np.testing.assert_allclose(ys.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    (ys * ys).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    plain = st.tensor([7.0, -7.0])
    assert plain.div_(2, rounding_mode=mode) is plain


def test_out_argument_writes_into_the_given_tensor():
    out = st.zeros(3)
    result = st.add(st.tensor([1.0, 2.0, 3.0]), st.tensor([1.0, 1.0, 1.0]), alpha=2, out=out)
    assert result is out
    np.testing.assert_array_equal(out.numpy(), [3.0, 4.0, 5.0])
    st.div(st.tensor([7, -7]), 2, rounding_mode="floor", out=(iout := st.zeros(2, dtype=st.int64)))
    np.testing.assert_array_equal(iout.numpy(), [3, -4])
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        st.mul(st.ones(2, requires_grad=True), 2, out=st.zeros(2))
    with pytest.raises(RuntimeError, match="out has shape"):
        st.mul(st.ones(2), 2, out=st.zeros(3))
    with pytest.raises(RuntimeError, match="can't be cast"):
        st.div(st.ones(2), 2, out=st.zeros(2, dtype=st.int64))


def test_argument_errors():
    with pytest.raises(ValueError, match="rounding_mode to be one of None, 'trunc', or 'floor'"):
        st.div(st.ones(2), 2, rounding_mode="round")
    with pytest.raises(ValueError, match="rounding_mode"):
        st.ones(2).div_(2, rounding_mode="ceil")
    with pytest.raises(TypeError, match="alpha must not be a floating point"):
        st.add(st.tensor([1, 2]), st.tensor([1, 2]), alpha=0.5)
    with pytest.raises(TypeError, match="at least one of input and other must be a Tensor"):
        st.add(1, 2)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        st.div(st.ones(2), st.ones(3), rounding_mode="floor")
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        st.tensor([1, 2]).div_(2)


def test_t_function_matches_torch():
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(st.t(st.tensor(a)).numpy(), torch.t(torch.tensor(a)).numpy())
    v = st.tensor([1.0, 2.0])
    assert st.t(v) is v and st.t(st.tensor(3.0)).shape == ()
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions"):
        st.t(st.ones(2, 2, 2))
    x = st.tensor(a, requires_grad=True)
    (st.t(x) * st.tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(6.0).reshape(3, 2).T)

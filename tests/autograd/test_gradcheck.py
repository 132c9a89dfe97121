"""`st.autograd.gradcheck`: accepts correct gradients, rejects wrong ones loudly."""

from __future__ import annotations

import re

import numpy as np
import pytest

import striate as st
import striate.nn.functional as F
from striate.autograd import Function, GradcheckError, gradcheck


def _inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [st.tensor(rng.standard_normal(s), dtype=st.float64, requires_grad=True) for s in shapes]


@pytest.mark.parametrize(
    "fn, shapes",
    [
        (lambda a, b: a * b + a / (1 + b * b), [(3, 4), (4,)]),
        (lambda a, b: a @ b, [(2, 3), (3, 2)]),
        (lambda a: F.softmax(a, 1), [(2, 5)]),
        (lambda a: a.max(1), [(3, 4)]),  # a (values, indices) pair: only the float output counts
        (lambda a, w, b: F.linear(a, w, b).tanh(), [(2, 3), (4, 3), (4,)]),
    ],
)
def test_gradcheck_passes_on_correct_ops(fn, shapes) -> None:
    assert gradcheck(fn, _inputs(*shapes)) is True


class WrongSquare(Function):
    """y = x^2 with a deliberately wrong backward: 2x everywhere except element 3 (3x there)."""

    saves_inputs = (0,)

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        local = 2 * self.x
        local.reshape(-1)[3] = 3 * self.x.reshape(-1)[3]
        return (g * local,)


def test_gradcheck_names_the_worst_element_of_a_wrong_function() -> None:
    x = st.tensor(np.linspace(1.0, 2.0, 6).reshape(2, 3), dtype=st.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongSquare.apply, [x])
    msg = str(info.value)
    assert "input 0" in msg and "(2, 3)" in msg
    assert re.search(r"element \(1, 0\)", msg), msg  # flat index 3 of a (2, 3) tensor
    assert "backward gives" in msg and "finite differences give" in msg
    assert gradcheck(WrongSquare.apply, [x], raise_exception=False) is False


def test_gradcheck_checks_the_second_input_too() -> None:
    class WrongMulSecond(Function):
        def forward(self, a, b):
            self.a, self.b = a, b
            return a * b

        def backward(self, g):
            return g * self.b, g * self.a * 1.01

    a, b = _inputs((3,), (3,))
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(WrongMulSecond.apply, [a, b])


def test_gradcheck_refuses_float32_inputs() -> None:
    x = st.randn(3, requires_grad=True)
    with pytest.raises(ValueError, match=r"input 0 is striate\.float32.*float64.*dtype=st.float64"):
        gradcheck(lambda t: t * 2, [x])


def test_gradcheck_needs_an_input_that_requires_grad() -> None:
    with pytest.raises(ValueError, match="no input has requires_grad=True"):
        gradcheck(lambda t: t * 2, [st.ones(2, dtype=st.float64)])


def test_gradcheck_detects_a_cut_graph() -> None:
    (x,) = _inputs((3,))
    with pytest.raises(GradcheckError, match="no output requires grad"):
        gradcheck(lambda t: t.detach() * 2, [x])


def test_gradcheck_detects_a_missing_gradient() -> None:
    (x,) = _inputs((3,))
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda t: t.detach() * t.detach() + t * 0, [x])  # true gradient 2x, analytic 0


def test_gradcheck_accepts_a_single_tensor_and_leaves_values_unchanged() -> None:
    (x,) = _inputs((2, 2))
    before = x.numpy().copy()
    assert gradcheck(lambda t: (t * t).sum(), x)
    np.testing.assert_array_equal(x.numpy(), before)

"""Seed 003's worked examples, reproduced by striate's autograd.

1. The circuit f(x, y, z) = (x + y) z at (-2, 5, -4): f = -12, df/dx = df/dy = z = -4,
   df/dz = x + y = 3.
2. The two-layer sigmoid network (no biases) with input (10, 30, 20), target (1, 0), hidden
   weights H1 = (0.2, -0.1, 0.4), H2 = (0.7, -1.2, 1.2), output weights O1 = (1.1, 0.1),
   O2 = (3.1, 1.17), E = 1/2 sum (t - o)^2 and one step of gradient descent w <- w - 0.1 dE/dw
   (the slide's delta rule w <- w + eta delta x is the same step: delta_j = -dE/dnet_j).

The slide computes with intermediates rounded to 3-4 digits (o_H1 = 0.999, delta_O1 = 0.0469),
so its tables agree with exact float64 arithmetic only to the size of that rounding. The tests
assert the exact values and check the slide's printed numbers within the error its own rounding
explains. Two rows of the slide's tables are typos, and the exact values are asserted instead:

* Output table, row H1 -> O1: the slide prints Delta = 0.000469 and new W = 1.100469, but
  eta * delta_O1 * o_H1 = 0.1 * 0.0469 * 0.999 = 0.00469 (a digit dropped). Exact float64:
  Delta = 0.0046770..., new W = 1.1046770... (1.10467706 to 8 decimals), not 1.100469.
* Hidden table, row I2 -> H1: the slide prints new W = -0.1000705, copying the Delta of row
  I1 -> H1; its own Delta column gives -0.1 - 0.0002115 = -0.1002115. Exact float64 (with the
  unrounded delta_H1 = -6.40e-5, not the slide's -7.05e-5 which comes from rounding o_H1 to
  0.999): -0.10019206.

The slide also prints o_O1 = 0.7501; exact arithmetic gives 0.75019773, i.e. 0.7502 to the
slide's four decimals.
"""

from __future__ import annotations

import numpy as np
import pytest

import striate as st


def test_circuit_forward_and_gradients() -> None:
    x = st.tensor(-2.0, requires_grad=True)
    y = st.tensor(5.0, requires_grad=True)
    z = st.tensor(-4.0, requires_grad=True)
    q = x + y
    f = q * z
    assert f.item() == -12.0
    f.backward()
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (-4.0, -4.0, 3.0)


SLIDE_HIDDEN = np.array([[0.2, -0.1, 0.4], [0.7, -1.2, 1.2]])   # rows H1, H2; columns I1, I2, I3
SLIDE_OUTPUT = np.array([[1.1, 0.1], [3.1, 1.17]])               # rows O1, O2; columns H1, H2
SLIDE_X = np.array([10.0, 30.0, 20.0])
SLIDE_T = np.array([1.0, 0.0])
LR = 0.1


def _train_step(dtype):
    """One forward, backward and gradient-descent step with striate autograd."""
    wh = st.tensor(SLIDE_HIDDEN, dtype=dtype, requires_grad=True)
    wo = st.tensor(SLIDE_OUTPUT, dtype=dtype, requires_grad=True)
    x = st.tensor(SLIDE_X, dtype=dtype)
    t = st.tensor(SLIDE_T, dtype=dtype)
    h = st.sigmoid(wh @ x)
    o = st.sigmoid(wo @ h)
    e = 0.5 * ((t - o) ** 2).sum()
    e.backward()
    with st.no_grad():
        wh -= LR * wh.grad
        wo -= LR * wo.grad
    return h.detach().numpy(), o.detach().numpy(), wh.detach().numpy(), wo.detach().numpy()


def _delta_rule_float64():
    """The slide's algorithm written out by hand in float64 (the independent reference)."""
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    h = sig(SLIDE_HIDDEN @ SLIDE_X)
    o = sig(SLIDE_OUTPUT @ h)
    delta_o = o * (1 - o) * (SLIDE_T - o)
    delta_h = h * (1 - h) * (SLIDE_OUTPUT.T @ delta_o)
    new_output = SLIDE_OUTPUT + LR * np.outer(delta_o, h)
    new_hidden = SLIDE_HIDDEN + LR * np.outer(delta_h, SLIDE_X)
    return h, o, delta_o, delta_h, new_hidden, new_output


def test_two_layer_network_forward_matches_slide() -> None:
    h, o, _, _ = _train_step(st.float64)
    # net_H1 = 7, net_H2 = -5 exactly
    np.testing.assert_allclose(h, 1 / (1 + np.exp(-np.array([7.0, -5.0]))), rtol=1e-15)
    assert np.round(h[1], 4) == 0.0067
    assert abs(h[0] - 0.9990) < 1e-4  # slide truncates 0.99909 to 0.9990
    # outputs to the slide's four decimals (the slide prints 0.7501 for o_O1; exactly 0.75019773)
    assert np.round(o, 4).tolist() == [0.7502, 0.9571]
    np.testing.assert_allclose(o, [0.75019773, 0.95709878], atol=5e-9)


def test_two_layer_network_updated_weights_exact() -> None:
    _, _, _, _, new_hidden, new_output = _delta_rule_float64()
    _, _, wh, wo = _train_step(st.float64)
    np.testing.assert_allclose(wo, new_output, rtol=0, atol=1e-14)
    np.testing.assert_allclose(wh, new_hidden, rtol=0, atol=1e-14)
    # the corrected first row of the output table (the slide prints the typo 1.100469)
    assert abs(wo[0, 0] - 1.10467706) < 1e-8
    assert abs(wo[0, 0] - 1.100469) > 4e-3
    # the corrected row I2 -> H1 of the hidden table (the slide prints -0.1000705)
    assert abs(wh[0, 1] - (-0.10019206)) < 1e-8


def test_two_layer_network_matches_slide_tables_to_their_rounding() -> None:
    _, _, wh, wo = _train_step(st.float64)
    # Output-hidden table (rows O, columns H), slide values with the typo row replaced by the
    # value its own inputs give (0.1 * 0.0469 * 0.999 = 0.004685): delta_O rounded to 3
    # significant digits moves the new weights by at most 1.5e-5.
    slide_output = np.array([[1.1 + 0.1 * 0.0469 * 0.999, 0.1000314],
                             [3.09606, 1.1699736]])
    np.testing.assert_allclose(wo, slide_output, rtol=0, atol=1.5e-5)
    # Input-hidden table (rows H, columns I); the typo row I2 -> H1 replaced by the slide's own
    # Delta column (-0.1 - 0.0002115). The slide's delta_H1 = -0.0000705 comes from rounding
    # o_H1 to 0.999 (exactly -0.0000640), so its new weights are off by up to 30 * 0.1 * 6.5e-6.
    slide_hidden = np.array([[0.1999295, -0.1002115, 0.399859],
                             [0.699725, -1.200825, 1.19945]])
    np.testing.assert_allclose(wh, slide_hidden, rtol=0, atol=2.0e-5)
    # and the slide's deltas themselves, to their printed rounding
    _, _, delta_o, delta_h, _, _ = _delta_rule_float64()
    np.testing.assert_allclose(delta_o, [0.0469, -0.0394], atol=2e-4)
    np.testing.assert_allclose(delta_h, [-0.0000705, -0.000275], atol=7e-6)


@pytest.mark.parametrize("dtype", [st.float32, st.float64])
def test_two_layer_network_in_float32_matches_float64(dtype) -> None:
    _, o, wh, wo = _train_step(dtype)
    _, o_ref, _, _, new_hidden, new_output = _delta_rule_float64()
    tol = 1e-6 if dtype == st.float32 else 1e-14
    assert o.dtype == dtype and wh.dtype == dtype
    np.testing.assert_allclose(o, o_ref, rtol=tol)
    np.testing.assert_allclose(wo, new_output, rtol=tol)
    np.testing.assert_allclose(wh, new_hidden, rtol=tol)

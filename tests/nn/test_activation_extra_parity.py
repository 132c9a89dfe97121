"""SELU, CELU, Softsign, Tanhshrink, Threshold, Hardtanh(min_value/max_value), the in-place
activations (leaky_relu_, elu_, selu_, ... and `inplace=True`), dropout's `inplace=` and
AlphaDropout against PyTorch: values, gradients, seeded masks, in-place semantics and reprs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import striate as st
import striate.nn as nn
import striate.nn.functional as F
from harness import OpCase, check_case

ROWS: list[OpCase] = []


def row(name: str, inputs, s, t, **kw) -> None:
    ROWS.append(OpCase(name=name, inputs=inputs, striate=s, torch=t, **kw))


def avoiding(points, shape, scale=3.0):
    """Normal values kept 0.05 away from the kinks."""
    def make(rng):
        x = scale * rng.standard_normal(shape)
        for p in points:
            x = np.where(np.abs(x - p) < 0.05, p + 0.1, x)
        return [x]
    return make


def inplace(fn):
    """fn applied in place to a non-leaf copy (x * 1), as a ported program does inside a model."""
    return lambda x: fn(x * 1)


for _shape in [(4, 5), (), (0, 3), (2, 3, 4)]:
    kinks = avoiding((0,), _shape)
    row(f"selu {_shape}", kinks, F.selu, TF.selu)
    row(f"celu {_shape}", kinks, F.celu, TF.celu)
    row(f"softsign {_shape}", kinks, F.softsign, TF.softsign)
    row(f"tanhshrink {_shape}", kinks, F.tanhshrink, TF.tanhshrink)
    row(f"threshold {_shape}", avoiding((0.5,), _shape), lambda x: F.threshold(x, 0.5, -2.0),
        lambda x: TF.threshold(x, 0.5, -2.0))
    row(f"selu_ {_shape}", kinks, inplace(lambda x: F.selu(x, inplace=True)), inplace(torch.selu_))
    row(f"leaky_relu_ {_shape}", kinks, inplace(lambda x: F.leaky_relu_(x, 0.2)),
        inplace(lambda x: TF.leaky_relu_(x, 0.2)))
    row(f"elu_ {_shape}", kinks, inplace(F.elu_), inplace(TF.elu_))
for _a in (0.5, 2.0):
    row(f"celu alpha={_a}", avoiding((0,), (3, 4)), lambda x, a=_a: F.celu(x, a),
        lambda x, a=_a: TF.celu(x, a))
    row(f"celu_ alpha={_a}", avoiding((0,), (3, 4)), inplace(lambda x, a=_a: F.celu(x, a, True)),
        inplace(lambda x, a=_a: TF.celu(x, a, True)))
    row(f"elu alpha={_a} inplace", avoiding((0,), (3, 4)), inplace(lambda x, a=_a: F.elu(x, a, True)),
        inplace(lambda x, a=_a: TF.elu(x, a, True)))
row("leaky_relu inplace=True", avoiding((0,), (3, 4)), inplace(lambda x: F.leaky_relu(x, 0.1, True)),
    inplace(lambda x: TF.leaky_relu(x, 0.1, True)))
row("hardtanh_", avoiding((-2, 0.5), (3, 4)), inplace(lambda x: F.hardtanh_(x, -2.0, 0.5)),
    inplace(lambda x: TF.hardtanh_(x, -2.0, 0.5)))
row("relu6 inplace", avoiding((0, 6), (3, 4), 5), inplace(lambda x: F.relu6(x, True)),
    inplace(lambda x: TF.relu6(x, True)))
row("threshold_", avoiding((0.1,), (3, 4)), inplace(lambda x: F.threshold_(x, 0.1, 20.0)),
    inplace(lambda x: TF.threshold_(x, 0.1, 20.0)))
row("relu_", avoiding((0,), (3, 4)), inplace(F.relu_), inplace(TF.relu_))
row("selu large", lambda rng: [np.array([-200.0, -30.0, 30.0, 200.0])], F.selu, TF.selu)


@pytest.mark.parametrize("case", ROWS, ids=str)
def test_parity(case: OpCase) -> None:
    check_case(case)


def test_inplace_really_writes_the_input_and_bumps_its_version() -> None:
    calls = [F.leaky_relu_, F.selu_, lambda y: F.elu(y, inplace=True), nn.SELU(inplace=True),
             nn.ELU(inplace=True), nn.LeakyReLU(0.3, inplace=True), nn.Hardtanh(inplace=True),
             nn.CELU(inplace=True), lambda y: F.dropout(y, 0.5, True, inplace=True),
             lambda y: F.alpha_dropout(y, 0.5, True, inplace=True)]
    for call in calls:
        x = st.randn(3, 4, requires_grad=True)
        y = x * 2
        version = y._version
        out = call(y)
        assert out is y and y._version == version + 1
        out.sum().backward()
        assert x.grad is not None
        with st.no_grad():  # the plain path (nothing recorded) writes in place too
            z = st.randn(3, 4)
            assert call(z) is z


@pytest.mark.parametrize("ours, theirs", [
    (F.elu_, TF.elu_), (F.leaky_relu_, TF.leaky_relu_), (F.selu_, torch.selu_), (F.celu_, TF.celu_),
    (lambda y: F.threshold_(y, 0.1, 2.0), lambda y: TF.threshold_(y, 0.1, 2.0)), (F.hardtanh_, TF.hardtanh_),
    (F.selu, TF.selu), (F.celu, TF.celu), (F.softsign, TF.softsign), (F.tanhshrink, TF.tanhshrink),
    (lambda y: F.threshold(y, 0.1, 2.0), lambda y: TF.threshold(y, 0.1, 2.0)),
])
def test_node_names_match_torch(ours, theirs) -> None:
    assert ours(st.randn(3, requires_grad=True) * 1).grad_fn.name() == \
        theirs(torch.randn(3, requires_grad=True) * 1).grad_fn.name()


def test_inplace_on_a_saved_tensor_raises_like_torch() -> None:
    for lib, act in ((st, F.leaky_relu_), (torch, TF.leaky_relu_)):
        x = lib.randn(3, requires_grad=True) if lib is torch else st.randn(3, requires_grad=True)
        y = x * 1
        z = y * y  # Mul saves y
        act(y)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def test_inplace_refusals() -> None:
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.elu_(st.randn(3, requires_grad=True))
    with pytest.raises(RuntimeError, match="negative slope"):
        F.leaky_relu_(st.randn(3) * 1, -0.1)
    with pytest.raises(RuntimeError, match="negative alpha"):
        F.elu(st.randn(3), -1.0, inplace=True)
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(st.randn(3), 2.0, 1.0)
    with pytest.raises(ValueError, match="alpha must be non-zero"):
        F.celu(st.randn(3), 0.0)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9, 1.0, 0.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_alpha_dropout_equals_torch_after_the_same_seed(p, dtype) -> None:
    x = np.random.default_rng(1).standard_normal((7, 300)).astype(dtype)
    for seed in (0, 3):
        st.manual_seed(seed)
        torch.manual_seed(seed)
        xs, xt = st.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ys, yt = F.alpha_dropout(xs, p, training=True), TF.alpha_dropout(xt, p, training=True)
        np.testing.assert_array_equal(ys.numpy(), yt.detach().numpy())
        w = np.random.default_rng(seed).standard_normal(x.shape).astype(dtype)
        (ys * st.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        np.testing.assert_array_equal(xs.grad.numpy(), xt.grad.numpy())
        # the next draw continues the same stream
        np.testing.assert_array_equal(st.rand(5).numpy(), torch.rand(5, dtype=torch.float32).numpy())


def test_alpha_dropout_layer_and_inplace_dropout_match_torch() -> None:
    x = np.random.default_rng(2).standard_normal((4, 50)).astype(np.float32)
    for ours, theirs in [(nn.AlphaDropout(0.3), tnn.AlphaDropout(0.3)),
                         (nn.Dropout(0.4, True), tnn.Dropout(0.4, True)),
                         (nn.AlphaDropout(0.3, True), tnn.AlphaDropout(0.3, True)),
                         (nn.Dropout2d(0.5, True), tnn.Dropout2d(0.5, True))]:
        xx = x.reshape(4, 5, 2, 5) if isinstance(ours, nn.Dropout2d) else x
        st.manual_seed(7)
        torch.manual_seed(7)
        np.testing.assert_allclose(ours(st.tensor(xx) * 1).numpy(), theirs(torch.tensor(xx) * 1).numpy(),
                                   rtol=1e-6, atol=1e-7)
        assert repr(ours) == repr(theirs)
        ours.eval()
        t = st.tensor(xx)
        assert ours(t) is t  # the identity in evaluation
    gradcheck_input = st.randn(3, 4, dtype=st.float64, requires_grad=True)
    st.autograd.gradcheck(lambda v: (st.manual_seed(1), F.alpha_dropout(v, 0.4, True))[1], [gradcheck_input])


def test_layers_match_torch_layers() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32) * 3
    pairs = [(nn.SELU(), tnn.SELU()), (nn.SELU(True), tnn.SELU(True)), (nn.CELU(0.7), tnn.CELU(0.7)),
             (nn.Softsign(), tnn.Softsign()), (nn.Tanhshrink(), tnn.Tanhshrink()),
             (nn.Threshold(0.2, -1.0), tnn.Threshold(0.2, -1.0)),
             (nn.Threshold(0.2, 5.0, True), tnn.Threshold(0.2, 5.0, True)),
             (nn.ELU(0.5, True), tnn.ELU(0.5, True)), (nn.LeakyReLU(0.2, True), tnn.LeakyReLU(0.2, True)),
             (nn.Hardtanh(-0.5, 2.0, True), tnn.Hardtanh(-0.5, 2.0, True)), (nn.ReLU6(True), tnn.ReLU6(True))]
    for ours, theirs in pairs:
        xs, xt = st.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ys, yt = ours(xs * 1), theirs(xt * 1)
        np.testing.assert_allclose(ys.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=repr(ours))
        ys.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=repr(ours))
        assert repr(ours) == repr(theirs)
    with pytest.warns(FutureWarning) as record:
        h = nn.Hardtanh(min_value=-3.0, max_value=0.5)
    assert ["min_value" in str(r.message) for r in record] == [True, False]
    assert (h.min_val, h.max_val) == (-3.0, 0.5)


def test_inplace_layers_export_to_onnx_out_of_place() -> None:
    from striate.ops.activation import inplace_as_copies

    x = st.randn(2, 3) * 1
    before = x.numpy().copy()
    with inplace_as_copies():
        y = nn.Sequential(nn.ELU(inplace=True), nn.SELU(inplace=True))(x)
    np.testing.assert_array_equal(x.numpy(), before)
    assert y is not x

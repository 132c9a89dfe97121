"""nn.Sequential's peephole (`striate.nn.layers.fused`): layer + ReLU as one node, eval BN folded
into its convolution. Every pattern against PyTorch (forward, input and parameter gradients)
and against the same Sequential unfused, on both kernel twins; hooks, in-place checks, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import striate as st
import striate.nn as snn
from striate import tuning
from striate.autograd.gradcheck import gradcheck
from striate.kernels import compiled, reference

# (name, builder taking torch.nn or striate.nn, input shape)
PATTERNS = [
    ("conv-relu", lambda nn: nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.ReLU()), (3, 7, 6)),
    ("conv-nobias-relu-inplace", lambda nn: nn.Sequential(nn.Conv2d(4, 6, 3, 2, bias=False), nn.ReLU(True)),
     (4, 9, 9)),
    ("conv-winograd-relu", lambda nn: nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU()), (8, 10, 10)),
    ("depthwise-relu", lambda nn: nn.Sequential(nn.Conv2d(6, 6, 3, groups=6), nn.ReLU()), (6, 8, 8)),
    ("linear-relu", lambda nn: nn.Sequential(nn.Flatten(), nn.Linear(48, 7), nn.ReLU(), nn.Linear(7, 3)),
     (3, 4, 4)),
    ("bn2d-relu", lambda nn: nn.Sequential(nn.BatchNorm2d(3), nn.ReLU()), (3, 5, 4)),
    ("bn1d-relu", lambda nn: nn.Sequential(nn.BatchNorm1d(4), nn.ReLU()), (4, 6)),
    ("bn-noaffine-relu", lambda nn: nn.Sequential(nn.BatchNorm2d(3, affine=False), nn.ReLU()), (3, 4, 4)),
    ("conv-bn-relu", lambda nn: nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
                                              nn.Conv2d(6, 4, 1, bias=False), nn.BatchNorm2d(4)), (3, 6, 6)),
    ("conv-bn-nobias", lambda nn: nn.Sequential(nn.Conv2d(3, 4, 3, bias=False),
                                                nn.BatchNorm2d(4, affine=False), nn.ReLU()), (3, 6, 6)),
]


def _pair(build, dtype):
    torch.manual_seed(0)
    t_model = build(torch.nn).to(torch.float64 if dtype == np.float64 else torch.float32)
    s_model = build(snn)
    if dtype == np.float64:
        s_model = s_model.double()
    # running statistics away from (0, 1), so that eval mode and folding are really exercised
    rng = np.random.default_rng(1)
    for m in t_model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.copy_(torch.from_numpy(rng.standard_normal(m.num_features)))
            m.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, m.num_features)))
            if m.affine:
                m.weight.data.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, m.num_features)))
                m.bias.data.copy_(torch.from_numpy(rng.standard_normal(m.num_features)))
    s_model.load_state_dict({k: v.detach().numpy().copy() for k, v in t_model.state_dict().items()})
    return t_model, s_model


def _run(model, lib, x, train):
    """Output, input gradient and parameter gradients of sum(out * weights)."""
    model.train(train)
    xt = lib.tensor(x, requires_grad=True) if lib is st else torch.tensor(x, requires_grad=True)
    out = model(xt)
    w = np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)).astype(x.dtype)
    (out * (st.tensor(w) if lib is st else torch.from_numpy(w))).sum().backward()
    grads = [p.grad.numpy() if lib is torch else p.grad.numpy() for p in model.parameters()]
    return out.detach().numpy(), xt.grad.numpy(), grads, out


def _close(a, b, rtol):
    scale = max(np.abs(b).max(), 1e-30)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("twin", ["numba", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,build,shape", PATTERNS, ids=[p[0] for p in PATTERNS])
def test_fused_sequential_matches_torch_and_unfused(name, build, shape, dtype, twin):
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    x = np.random.default_rng(2).standard_normal((5, *shape)).astype(dtype)
    with st.config.use_kernels(twin):
        for train in (True, False):
            t_model, s_model = _pair(build, dtype)
            t_out, t_gx, t_gw, _ = _run(t_model, torch, x, train)
            s_out, s_gx, s_gw, out = _run(s_model, st, x, train)
            _close(s_out, t_out, rtol)
            _close(s_gx, t_gx, rtol)
            # scaled by the largest parameter gradient: a conv bias before training BN has a
            # gradient of ~0 (rounding noise in both libraries)
            scale = max((np.abs(b).max() for b in t_gw), default=0.0)
            for a, b in zip(s_gw, t_gw):
                np.testing.assert_allclose(a, b, rtol=10 * rtol, atol=10 * rtol * scale)
            # the same Sequential unfused: the same numbers (same operations in the same order)
            _, s_model2 = _pair(build, dtype)
            tuning_before = tuning.FUSE_SEQUENTIAL
            tuning.FUSE_SEQUENTIAL = False
            try:
                u_out, u_gx, u_gw, _ = _run(s_model2, st, x, train)
            finally:
                tuning.FUSE_SEQUENTIAL = tuning_before
            _close(s_out, u_out, rtol)
            _close(s_gx, u_gx, rtol)
            # inference (eval, no_grad): BN folded into the convolution where one precedes it
            if not train:
                with st.no_grad(), torch.no_grad():
                    _close(s_model(st.tensor(x)).numpy(), t_model(torch.from_numpy(x)).numpy(), rtol)


def test_fused_node_is_relu_and_unfused_graph_is_torchs():
    _, model = _pair(PATTERNS[0][1], np.float32)
    x = st.randn(2, 3, 7, 6, requires_grad=True)
    assert model(x).grad_fn.name() == "ReluBackward0"
    # one node: its inputs are x, the weight and the bias themselves (no ConvolutionBackward0)
    assert [type(f).__name__ for f, _ in model(x).grad_fn.next_functions] == ["AccumulateGrad"] * 3
    tuning_before = tuning.FUSE_SEQUENTIAL
    tuning.FUSE_SEQUENTIAL = False
    try:
        out = model(x)
    finally:
        tuning.FUSE_SEQUENTIAL = tuning_before
    assert out.grad_fn.name() == "ReluBackward0"
    assert out.grad_fn.next_functions[0][0].name() == "ConvolutionBackward0"


def test_a_hook_sees_the_layers_own_output():
    """A forward hook on the layer turns fusion off for it: the hook gets the pre-ReLU values."""
    _, model = _pair(PATTERNS[0][1], np.float32)
    seen = []
    model[0].register_forward_hook(lambda m, a, out: seen.append(out.numpy().copy()))
    out = model(st.randn(2, 3, 7, 6))
    assert seen[0].min() < 0 and out.numpy().min() >= 0
    np.testing.assert_array_equal(np.maximum(seen[0], 0), out.numpy())


def test_in_place_change_of_fused_output_is_caught():
    for build, shape in ((PATTERNS[0][1], (3, 7, 6)), (PATTERNS[5][1], (3, 5, 4))):
        _, model = _pair(build, np.float32)
        out = model(st.randn(2, *shape, requires_grad=True))
        out.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_a_failed_layer_leaves_no_request_behind():
    """The conv raises on a wrong input; the ReLU epilogue must not land on a later op."""
    _, model = _pair(PATTERNS[0][1], np.float32)
    with pytest.raises(ValueError, match="channels"):
        model(st.randn(2, 4, 7, 6))
    y = st.nn.functional.linear(st.tensor([[-1.0, -2.0]]), st.ones(3, 2))
    assert y.numpy().max() < 0 and y.grad_fn is None or y.grad_fn.name() != "ReluBackward0"


def test_folding_only_without_gradients():
    """eval + grad recorded (a parameter requires grad): BN is not folded, gradients flow."""
    t_model, s_model = _pair(PATTERNS[8][1], np.float32)
    s_model.eval()
    t_model.eval()
    x = np.random.default_rng(3).standard_normal((2, 3, 6, 6)).astype(np.float32)
    out = s_model(st.tensor(x))
    assert out.requires_grad
    out.sum().backward()
    t_model(torch.from_numpy(x)).sum().backward()
    _close(s_model[0].weight.grad.numpy(), t_model[0].weight.grad.numpy(), 1e-5)
    with st.no_grad():
        assert not s_model(st.tensor(x)).requires_grad


def test_fused_sequential_gradcheck_float64():
    for name, build, shape in (PATTERNS[0], PATTERNS[4], PATTERNS[5], PATTERNS[8]):
        _, model = _pair(build, np.float64)
        x = st.tensor(np.random.default_rng(4).standard_normal((3, *shape)), requires_grad=True)
        assert gradcheck(lambda t, model=model: model(t), (x,)), name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_relu_kernel_twins(dtype):
    """The normalizing pass with the clamp agrees between twins and with max(0, plain pass),
    NaN kept as np.maximum keeps it."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 37)).astype(dtype)
    x[0, 0, 0] = np.nan
    m, a, b = (rng.standard_normal(3).astype(dtype) for _ in range(3))
    plain = np.empty_like(x)
    reference.channel_affine(x, m, a, b, plain)
    for twin in (reference, compiled):
        out = np.empty_like(x)
        twin.channel_affine_relu(x, m, a, b, out)
        np.testing.assert_array_equal(out, np.maximum(plain, 0))

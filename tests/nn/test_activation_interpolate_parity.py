"""GELU, SiLU, Mish, Softplus, Hardswish, Hardsigmoid, PReLU and F.interpolate / nn.Upsample
against PyTorch, forward and backward (harness table), plus their layers and error messages."""

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


def normal(*shapes, scale=1.0):
    return lambda rng: [scale * rng.standard_normal(s) for s in shapes]


def avoiding(points, *shapes, scale=4.0):
    """Normal values kept 0.05 away from the kinks of the hard activations."""
    def make(rng):
        out = []
        for s in shapes:
            x = scale * rng.standard_normal(s)
            for p in points:
                x = np.where(np.abs(x - p) < 0.05, p + 0.1, x)
            out.append(x)
        return out
    return make


for _shape in [(4, 5), (), (0, 3), (2, 3, 4)]:
    row(f"gelu {_shape}", normal(_shape, scale=3), F.gelu, TF.gelu)
    row(f"gelu tanh {_shape}", normal(_shape, scale=3), lambda x: F.gelu(x, approximate="tanh"),
        lambda x: TF.gelu(x, approximate="tanh"))
    row(f"silu {_shape}", normal(_shape, scale=3), F.silu, TF.silu)
    row(f"mish {_shape}", normal(_shape, scale=3), F.mish, TF.mish)
    row(f"softplus {_shape}", normal(_shape, scale=3), F.softplus, TF.softplus)
    row(f"hardswish {_shape}", avoiding((-3, 3), _shape), F.hardswish, TF.hardswish)
    row(f"hardsigmoid {_shape}", avoiding((-3, 3), _shape), F.hardsigmoid, TF.hardsigmoid)
    row(f"hardtanh {_shape}", avoiding((-1, 1), _shape, scale=2), F.hardtanh, TF.hardtanh)
    row(f"relu6 {_shape}", avoiding((0, 6), _shape, scale=4), F.relu6, TF.relu6)
    row(f"normalize {_shape}", normal(_shape), lambda x: F.normalize(x, dim=-1),
        lambda x: TF.normalize(x, dim=-1))
row("normalize p=1 dim 0", normal((3, 4)), lambda x: F.normalize(x, p=1, dim=0),
    lambda x: TF.normalize(x, p=1, dim=0))
row("gelu large", lambda rng: [np.array([-40.0, -8.0, 8.0, 40.0])], F.gelu, TF.gelu)
row("softplus beta threshold", normal((4, 5), scale=6), lambda x: F.softplus(x, beta=2.0, threshold=5.0),
    lambda x: TF.softplus(x, beta=2.0, threshold=5.0))
row("prelu per channel", avoiding((0,), (2, 3, 4, 4), (3,)), F.prelu, TF.prelu,
    small_inputs=avoiding((0,), (1, 3, 2, 2), (3,)))
row("prelu shared", avoiding((0,), (2, 3, 4), (1,)), F.prelu, TF.prelu,
    small_inputs=avoiding((0,), (2, 3, 2), (1,)))
row("prelu 1-D", avoiding((0,), (5,), (1,)), F.prelu, TF.prelu)

INTERP = [  # (input shape, kwargs)
    ((2, 3, 4, 5), {"scale_factor": 2, "mode": "nearest"}),
    ((1, 2, 5, 3), {"size": (7, 4), "mode": "nearest"}),
    ((1, 2, 6, 6), {"size": (4, 3), "mode": "nearest"}),
    ((1, 2, 5, 3), {"size": (7, 4), "mode": "nearest-exact"}),
    ((1, 2, 3, 4), {"scale_factor": 1.5, "mode": "nearest"}),
    ((2, 3, 4, 5), {"scale_factor": 2, "mode": "bilinear", "align_corners": False}),
    ((2, 3, 4, 5), {"scale_factor": 2, "mode": "bilinear", "align_corners": True}),
    ((1, 2, 5, 3), {"size": (7, 4), "mode": "bilinear", "align_corners": False}),
    ((1, 2, 5, 3), {"size": (7, 4), "mode": "bilinear", "align_corners": True}),
    ((1, 2, 6, 7), {"size": (3, 2), "mode": "bilinear", "align_corners": False}),
    ((1, 2, 6, 7), {"size": (1, 1), "mode": "bilinear", "align_corners": True}),
    ((1, 2, 3, 4), {"scale_factor": (1.7, 0.6), "mode": "bilinear"}),
    ((1, 2, 3, 4), {"scale_factor": 1.7, "mode": "bilinear", "recompute_scale_factor": True}),
    ((2, 3, 5), {"scale_factor": 3, "mode": "linear"}),
    ((2, 3, 5), {"size": 8, "mode": "linear", "align_corners": True}),
    ((2, 3, 5), {"size": 3, "mode": "nearest"}),
    ((1, 1, 2, 3, 2), {"scale_factor": 2, "mode": "trilinear"}),
    ((1, 1, 2, 3, 2), {"size": (3, 2, 4), "mode": "nearest"}),
    ((0, 2, 3, 3), {"scale_factor": 2, "mode": "bilinear"}),
]
for _shape, _kw in INTERP:
    small = None
    if np.prod(_shape) > 60:
        small = normal((1, 1) + _shape[2:])
    row(f"interpolate {_shape} {_kw}", normal(_shape), lambda x, k=_kw: F.interpolate(x, **k),
        lambda x, k=_kw: TF.interpolate(x, **k), small_inputs=small)


@pytest.mark.parametrize("case", ROWS, ids=str)
def test_parity(case: OpCase) -> None:
    check_case(case)


def test_layers_match_torch_layers() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    pairs = [(nn.GELU(), tnn.GELU()), (nn.GELU("tanh"), tnn.GELU("tanh")), (nn.SiLU(), tnn.SiLU()),
             (nn.Mish(), tnn.Mish()), (nn.Hardswish(), tnn.Hardswish()),
             (nn.Hardsigmoid(), tnn.Hardsigmoid()), (nn.Softplus(2.0, 3.0), tnn.Softplus(2.0, 3.0)),
             (nn.PReLU(3), tnn.PReLU(3)), (nn.PReLU(), tnn.PReLU()), (nn.ReLU6(), tnn.ReLU6()),
             (nn.Hardtanh(-2.0, 0.5), tnn.Hardtanh(-2.0, 0.5)),
             (nn.Upsample(scale_factor=2), tnn.Upsample(scale_factor=2)),
             (nn.Upsample(size=(5, 7), mode="bilinear"), tnn.Upsample(size=(5, 7), mode="bilinear")),
             (nn.UpsamplingNearest2d(scale_factor=3), tnn.UpsamplingNearest2d(scale_factor=3)),
             (nn.UpsamplingBilinear2d(size=6), tnn.UpsamplingBilinear2d(size=6))]
    for ours, theirs in pairs:
        expect = theirs(torch.tensor(x)).detach().numpy()
        np.testing.assert_allclose(ours(st.tensor(x)).numpy(), expect, rtol=1e-5, atol=1e-6,
                                   err_msg=repr(ours))
    prelu = nn.PReLU(3)
    assert [n for n, _ in prelu.named_parameters()] == ["weight"]
    assert prelu.weight.shape == (3,) and float(prelu.weight[0]) == 0.25
    out = prelu(st.tensor(x))
    out.sum().backward()
    tprelu = tnn.PReLU(3)
    tprelu(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(prelu.weight.grad.numpy(), tprelu.weight.grad.numpy(), rtol=1e-5)
    assert "approximate='tanh'" in repr(nn.GELU("tanh"))


def test_kernel_twins_agree() -> None:
    from striate.kernels import special

    x = np.random.default_rng(1).standard_normal(1000).astype(np.float32) * 4
    np.testing.assert_array_equal(special.erf_reference(x), special.erf_compiled(x))
    np.testing.assert_array_equal(special.normal_cdf_reference(x), special.normal_cdf_compiled(x))
    from striate.kernels import activations

    for name in ("gelu", "silu", "hardswish"):
        for dtype, rtol in ((np.float32, 2e-6), (np.float64, 1e-12)):
            xs = np.concatenate([x, [-800.0, -3.0, 3.0, 0.0, 800.0]]).astype(dtype)
            for ref, fast in zip(getattr(activations, f"{name}_reference")(xs),
                                 getattr(activations, f"{name}_compiled")(xs)):
                assert fast.dtype == dtype
                np.testing.assert_allclose(fast, ref, rtol=rtol, atol=rtol * np.abs(ref).max(), err_msg=name)
    with st.config.use_kernels("numpy"):
        np.testing.assert_allclose(F.gelu(st.tensor(x)).numpy(), TF.gelu(torch.tensor(x)).numpy(),
                                   rtol=1e-5, atol=1e-6)  # tails cancel in 1 + erf, as in torch


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.interpolate(st.zeros(1, 1, 2, 2), mode="nearest"), ValueError, "size or scale_factor"),
    (lambda: F.interpolate(st.zeros(1, 1, 2, 2), size=3, scale_factor=2), ValueError, "exactly one"),
    (lambda: F.interpolate(st.zeros(1, 1, 2, 2), size=3, align_corners=True), ValueError, "align_corners"),
    (lambda: F.interpolate(st.zeros(1, 2, 2), size=3, mode="bilinear"), NotImplementedError, "4-D"),
    (lambda: F.interpolate(st.zeros(1, 1, 2, 2), size=3, mode="bicubic"), NotImplementedError, "bicubic"),
    (lambda: F.interpolate(st.zeros(1, 1, 2, 2), size=(3, 3, 3)), ValueError, "2 elements"),
    (lambda: F.interpolate(st.zeros(1, 1, 2, 2), scale_factor=-1), ValueError, "positive"),
    (lambda: F.interpolate(st.zeros(1, 1, 2, 2), size=2**40), ValueError, "size / scale_factor"),
    (lambda: nn.Upsample(), ValueError, "one of size and scale_factor"),
    (lambda: F.gelu(st.zeros(2), approximate="erf"), ValueError, "'none' or 'tanh'"),
    (lambda: F.gelu(st.tensor([1, 2])), RuntimeError, "floating point"),
    (lambda: F.prelu(st.zeros(2, 3), st.zeros(2)), RuntimeError, "3 channels"),
    (lambda: F.softplus(st.zeros(2), beta=0), ValueError, "beta"),
])
def test_bad_arguments_name_the_problem(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()


def test_one_hot_matches_torch() -> None:
    labels = [[0, 2], [1, 4]]
    np.testing.assert_array_equal(F.one_hot(st.tensor(labels)).numpy(),
                                  TF.one_hot(torch.tensor(labels)).numpy())
    np.testing.assert_array_equal(F.one_hot(st.tensor(labels), num_classes=6).numpy(),
                                  TF.one_hot(torch.tensor(labels), num_classes=6).numpy())
    assert F.one_hot(st.tensor(3)).shape == tuple(TF.one_hot(torch.tensor(3)).shape)
    with pytest.raises(ValueError, match="num_classes"):
        F.one_hot(st.tensor([3]), num_classes=2)
    with pytest.raises(ValueError, match="non-negative"):
        F.one_hot(st.tensor([-1]))
    with pytest.raises(ValueError, match="empty tensor"):
        F.one_hot(st.zeros(0, dtype=st.int64))
    assert F.one_hot(st.zeros(0, dtype=st.int64), 3).shape == (0, 3)

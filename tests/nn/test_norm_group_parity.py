"""F.group_norm, F.instance_norm, nn.GroupNorm and nn.InstanceNorm1d/2d against PyTorch:
forward and backward (harness table, float32 1e-5, float64 + gradcheck), running statistics,
train/eval, state_dict keys and reprs, and the error messages."""

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


def normal(*shapes, scale=1.0, shift=0.0):
    return lambda rng: [shift + scale * rng.standard_normal(s) for s in shapes]


GROUPS = [  # (input shape, groups)
    ((2, 6, 4, 5), 3), ((2, 6, 4, 5), 1), ((2, 6, 4, 5), 6), ((3, 4, 7), 2), ((4, 6), 2),
    ((1, 3, 1, 1), 1), ((2, 4, 3, 3), 4), ((0, 4, 3), 2),
]
for _shape, _g in GROUPS:
    c = _shape[1]
    small = (1, c) + tuple(min(s, 2) for s in _shape[2:]) if np.prod(_shape) > 100 else None
    row(f"group_norm {_shape} G={_g}", normal(_shape, scale=2, shift=1),
        lambda x, g=_g: F.group_norm(x, g), lambda x, g=_g: TF.group_norm(x, g),
        small_inputs=normal(small) if small else None)
    row(f"group_norm affine {_shape} G={_g}", normal(_shape, (c,), (c,), scale=2, shift=1),
        lambda x, w, b, g=_g: F.group_norm(x, g, w, b), lambda x, w, b, g=_g: TF.group_norm(x, g, w, b),
        small_inputs=normal(small, (c,), (c,)) if small else None)
row("group_norm weight only, eps 1e-3", normal((2, 4, 3), (4,)),
    lambda x, w: F.group_norm(x, 2, w, eps=1e-3), lambda x, w: TF.group_norm(x, 2, w, eps=1e-3))
row("group_norm bias only", normal((2, 4, 3), (4,)),
    lambda x, b: F.group_norm(x, 2, None, b),
    lambda x, b: TF.group_norm(x, 2, torch.ones(4, dtype=x.dtype), b))  # torch's own call fails here
row("group_norm constant group (var 0)", lambda rng: [np.ones((2, 4, 3)), rng.standard_normal(4)],
    lambda x, w: F.group_norm(x, 2, w), lambda x, w: TF.group_norm(x, 2, w), gradcheck=False)

INSTANCE = [(2, 3, 4, 5), (3, 4, 7), (1, 2, 2, 3)]
for _shape in INSTANCE:
    c = _shape[1]
    small = (1, c) + tuple(min(s, 3) for s in _shape[2:]) if np.prod(_shape) > 100 else None
    row(f"instance_norm {_shape}", normal(_shape, scale=3, shift=-1), F.instance_norm, TF.instance_norm,
        small_inputs=normal(small) if small else None)
    row(f"instance_norm affine {_shape}", normal(_shape, (c,), (c,), scale=3),
        lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
        lambda x, w, b: TF.instance_norm(x, weight=w, bias=b),
        small_inputs=normal(small, (c,), (c,)) if small else None)
row("instance_norm running stats, eval", lambda rng: [rng.standard_normal((2, 3, 5)), rng.uniform(0.5, 2, 3)],
    lambda x, w: F.instance_norm(x, st.zeros(3, dtype=x.dtype) + 0.5, st.ones(3, dtype=x.dtype) * 2, w,
                                 use_input_stats=False),
    lambda x, w: TF.instance_norm(x, torch.zeros(3, dtype=x.dtype) + 0.5, torch.ones(3, dtype=x.dtype) * 2, w,
                                  use_input_stats=False))


@pytest.mark.parametrize("case", ROWS, ids=str)
def test_parity(case: OpCase) -> None:
    check_case(case)


def _pair_run(ours, theirs, x: np.ndarray, steps: int = 3) -> None:
    """Same input through both layers in train mode (a few steps), then eval; outputs, input and
    parameter gradients and buffers equal."""
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    for step in range(steps + 1):
        if step == steps:
            ours.eval()
            theirs.eval()
        xs = st.tensor(x * (step + 1), requires_grad=True)
        xt = torch.tensor(x * (step + 1), requires_grad=True)
        ys, yt = ours(xs), theirs(xt)
        np.testing.assert_allclose(ys.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5, err_msg=repr(ours))
        w = np.random.default_rng(step).standard_normal(ys.shape).astype(np.float32)
        (ys * st.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (ks, vs), (kt, vt) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert ks == kt
        np.testing.assert_allclose(vs.numpy(), vt.numpy(), rtol=1e-5, atol=1e-6, err_msg=ks)
    for (ks, ps), (_, pt) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(ps.grad.numpy(), pt.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=ks)


@pytest.mark.parametrize("make, shape", [
    (lambda m: m.GroupNorm(2, 4), (3, 4, 5, 5)),
    (lambda m: m.GroupNorm(4, 4, affine=False), (3, 4, 6)),
    (lambda m: m.GroupNorm(1, 4, eps=1e-3, bias=False), (2, 4, 3)),
    (lambda m: m.InstanceNorm2d(3), (2, 3, 4, 5)),
    (lambda m: m.InstanceNorm2d(3, affine=True), (2, 3, 4, 5)),
    (lambda m: m.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 4, 5)),
    (lambda m: m.InstanceNorm2d(3, track_running_stats=True, momentum=None), (2, 3, 4, 5)),
    (lambda m: m.InstanceNorm1d(4, affine=True, track_running_stats=True, momentum=0.3), (3, 4, 6)),
    (lambda m: m.InstanceNorm1d(4, affine=True), (4, 6)),
    (lambda m: m.InstanceNorm2d(3, track_running_stats=True), (3, 4, 5)),
])
def test_layers_match_torch(make, shape) -> None:
    x = np.random.default_rng(5).standard_normal(shape).astype(np.float32) * 2 + 0.5
    ours, theirs = make(nn), make(tnn)
    assert repr(ours) == repr(theirs)
    if ours.weight is not None:  # non-trivial affine parameters
        with st.no_grad():
            ours.weight.copy_(st.tensor(np.linspace(0.5, 2, ours.weight.shape[0], dtype=np.float32)))
    _pair_run(ours, theirs, x)


def test_instance_norm_warns_on_unused_num_features_like_torch() -> None:
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(5)(st.randn(2, 3, 4))


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.group_norm(st.zeros(2, 6, 3), 4), ValueError, "divisible by num_groups"),
    (lambda: nn.GroupNorm(4, 6), ValueError, "divisible by num_groups"),
    (lambda: F.group_norm(st.zeros(2, 4, 3), 2, st.ones(3)), ValueError, r"shape \(4,\)"),
    (lambda: F.group_norm(st.zeros(4), 2), ValueError, "at least 2 dimensions"),
    (lambda: F.group_norm(st.zeros(2, 4, dtype=st.float64), 2, st.ones(4)), TypeError, "dtype"),
    (lambda: F.instance_norm(st.zeros(2, 3, 1)), ValueError, "more than 1 spatial element"),
    (lambda: F.instance_norm(st.zeros(2, 3, 4), use_input_stats=False), ValueError, "running_mean"),
    (lambda: nn.InstanceNorm2d(3)(st.zeros(3, 4)), ValueError, "expected 3D or 4D input"),
    (lambda: nn.InstanceNorm2d(3, affine=True)(st.zeros(2, 4, 4, 4)), ValueError, "match num_features"),
    (lambda: F.group_norm(st.tensor([[1, 2]]), 1), TypeError, "floating point"),
])
def test_bad_arguments_name_the_problem(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()


def test_node_names_match_torch() -> None:
    x = st.randn(2, 4, 3, requires_grad=True)
    assert F.group_norm(x, 2).grad_fn.name() == TF.group_norm(torch.randn(2, 4, 3, requires_grad=True),
                                                              2).grad_fn.name()

"""Every layer against its torch.nn twin: the layer is built in torch, its state_dict converted
to NumPy and loaded into the striate layer (same keys, same order), then outputs, input
gradients, parameter gradients and updated buffers must agree (float32 within 1e-5 relative,
float64 within 1e-10)."""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

import striate as st
import striate.nn as nn
from harness import assert_close

RTOL = {np.float32: 1e-5, np.float64: 1e-10}


@dataclass
class LayerCase:
    name: str
    make: Any  # make(lib) -> module, lib is striate.nn or torch.nn
    shape: tuple
    train: bool = True
    forwards: int = 1  # repeated forwards (running statistics)
    call: Any = None  # call(module, x) instead of module(x)
    notes: str = ""

    def __str__(self):
        return self.name


def _maxout_torch(in_f, out_f, pieces):
    class TorchMaxout(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.empty(out_f * pieces, in_f))
            self.bias = torch.nn.Parameter(torch.empty(out_f * pieces))
            torch.nn.init.uniform_(self.weight, -0.5, 0.5)
            torch.nn.init.uniform_(self.bias, -0.5, 0.5)

        def forward(self, x):
            z = torch.nn.functional.linear(x, self.weight, self.bias)
            return z.view(*x.shape[:-1], out_f, pieces).max(-1).values

    return TorchMaxout()


CASES = [
    LayerCase("linear", lambda L: L.Linear(5, 3), (4, 5)),
    LayerCase("linear_3d_nobias", lambda L: L.Linear(5, 3, bias=False), (2, 4, 5)),
    LayerCase("conv2d_stride_pad", lambda L: L.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 9, 9)),
    LayerCase(
        "conv2d_seed002", lambda L: L.Conv2d(1, 16, kernel_size=5, stride=1, padding=2), (2, 1, 12, 12)
    ),
    LayerCase(
        "conv2d_groups_dilation",
        lambda L: L.Conv2d(4, 6, (3, 2), dilation=(2, 1), groups=2, bias=False),
        (2, 4, 9, 8),
    ),
    LayerCase("conv2d_same_even", lambda L: L.Conv2d(2, 3, 4, padding="same", dilation=2), (1, 2, 9, 9)),
    LayerCase(
        "conv2d_reflect", lambda L: L.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="reflect"), (2, 2, 7, 8)
    ),
    LayerCase(
        "conv2d_replicate", lambda L: L.Conv2d(2, 3, 3, padding=2, padding_mode="replicate"), (2, 2, 6, 6)
    ),
    LayerCase(
        "conv2d_circular",
        lambda L: L.Conv2d(2, 3, 3, stride=2, padding=1, padding_mode="circular"),
        (2, 2, 7, 7),
    ),
    LayerCase(
        "conv2d_same_reflect",
        lambda L: L.Conv2d(2, 2, 4, padding="same", padding_mode="reflect"),
        (1, 2, 8, 8),
    ),
    LayerCase("conv1d", lambda L: L.Conv1d(2, 4, 3, stride=2, padding=1), (3, 2, 11)),
    LayerCase("conv1d_circular", lambda L: L.Conv1d(2, 4, 3, padding=1, padding_mode="circular"), (3, 2, 9)),
    LayerCase(
        "conv_transpose2d",
        lambda L: L.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
        (2, 4, 5, 5),
    ),
    LayerCase(
        "conv_transpose2d_groups",
        lambda L: L.ConvTranspose2d(4, 6, 3, stride=2, groups=2, dilation=2),
        (1, 4, 4, 5),
    ),
    LayerCase(
        "conv_transpose2d_output_size",
        lambda L: L.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
        (2, 3, 4, 4),
        call=lambda m, x: m(x, output_size=[8, 8]),
    ),
    LayerCase("maxpool2d", lambda L: L.MaxPool2d(kernel_size=2, stride=2), (2, 3, 8, 8)),
    LayerCase("maxpool2d_ceil_pad", lambda L: L.MaxPool2d(3, 2, 1, ceil_mode=True), (2, 2, 8, 9)),
    LayerCase("avgpool2d", lambda L: L.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 2, 7, 8)),
    LayerCase("avgpool2d_divisor", lambda L: L.AvgPool2d(2, divisor_override=3), (1, 2, 6, 6)),
    LayerCase("lppool2d", lambda L: L.LPPool2d(2, 2), (2, 2, 6, 6)),
    LayerCase("adaptive_avg", lambda L: L.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    LayerCase("adaptive_max", lambda L: L.AdaptiveMaxPool2d(3), (2, 3, 7, 8)),
    LayerCase("maxpool1d", lambda L: L.MaxPool1d(3, 2), (2, 3, 11)),
    LayerCase("avgpool1d", lambda L: L.AvgPool1d(3, 2, 1), (2, 3, 11)),
    LayerCase("relu", lambda L: L.ReLU(), (3, 7)),
    LayerCase("leaky_relu", lambda L: L.LeakyReLU(0.1), (3, 7)),
    LayerCase("elu", lambda L: L.ELU(0.7), (3, 7)),
    LayerCase("sigmoid", lambda L: L.Sigmoid(), (3, 7)),
    LayerCase("tanh", lambda L: L.Tanh(), (3, 7)),
    LayerCase("softmax", lambda L: L.Softmax(dim=1), (3, 7)),
    LayerCase("log_softmax", lambda L: L.LogSoftmax(dim=-1), (2, 3, 7)),
    LayerCase("identity", lambda L: L.Identity(54, unused=True), (3, 4)),
    LayerCase("flatten", lambda L: L.Flatten(), (2, 3, 4, 5)),
    LayerCase("unflatten", lambda L: L.Unflatten(1, (3, -1)), (2, 12)),
    LayerCase("batchnorm2d_train", lambda L: L.BatchNorm2d(3), (4, 3, 5, 5), forwards=3),
    LayerCase("batchnorm2d_eval", lambda L: L.BatchNorm2d(3), (4, 3, 5, 5), train=False),
    LayerCase("batchnorm2d_cumulative", lambda L: L.BatchNorm2d(3, momentum=None), (4, 3, 5, 5), forwards=3),
    LayerCase(
        "batchnorm2d_no_affine",
        lambda L: L.BatchNorm2d(3, affine=False, momentum=0.3),
        (4, 3, 2, 2),
        forwards=2,
    ),
    LayerCase("batchnorm2d_no_bias", lambda L: L.BatchNorm2d(3, bias=False), (4, 3, 2, 2)),
    LayerCase(
        "batchnorm2d_untracked_eval",
        lambda L: L.BatchNorm2d(3, track_running_stats=False),
        (4, 3, 3, 3),
        train=False,
    ),
    LayerCase("batchnorm1d", lambda L: L.BatchNorm1d(4), (8, 4), forwards=2),
    LayerCase("batchnorm1d_3d", lambda L: L.BatchNorm1d(4, eps=1e-3), (8, 4, 5), forwards=2),
    LayerCase("lrn", lambda L: L.LocalResponseNorm(3, alpha=1e-2, beta=0.75, k=2.0), (2, 6, 4, 4)),
    LayerCase("dropout_eval", lambda L: L.Dropout(0.5), (4, 5), train=False),
    LayerCase("dropout2d_eval", lambda L: L.Dropout2d(0.5), (2, 4, 3, 3), train=False),
    LayerCase("maxout", lambda L: nn.Maxout(6, 4, pieces=3) if L is nn else _maxout_torch(6, 4, 3), (5, 6)),
    LayerCase(
        "seed002_block",
        lambda L: L.Sequential(
            L.Conv2d(1, 4, kernel_size=5, stride=1, padding=2),
            L.BatchNorm2d(4),
            L.ReLU(),
            L.MaxPool2d(kernel_size=2, stride=2),
            L.Flatten(),
            L.Linear(4 * 4 * 4, 3),
        ),
        (3, 1, 8, 8),
        forwards=2,
    ),
]


def _twins(case: LayerCase, dtype):
    torch.manual_seed(0)
    t_mod = case.make(torch.nn)
    s_mod = case.make(nn)
    with torch.no_grad():
        for b in t_mod.buffers():  # non-trivial running statistics
            if b.dtype.is_floating_point:
                b.uniform_(0.5, 1.5)
    if dtype == np.float64:
        t_mod.double()
        s_mod.double()
    sd = t_mod.state_dict()
    assert list(s_mod.state_dict()) == list(sd), "state_dict keys or order differ from torch"
    s_mod.load_state_dict({k: v.numpy() for k, v in sd.items()})
    t_mod.train(case.train)
    s_mod.train(case.train)
    return s_mod, t_mod


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_layer_matches_torch(case: LayerCase, dtype):
    rtol = RTOL[dtype]
    s_mod, t_mod = _twins(case, dtype)
    rng = np.random.default_rng(0)
    call = case.call or (lambda m, x: m(x))
    for i in range(case.forwards):
        x = rng.standard_normal(case.shape).astype(dtype)
        tx = torch.tensor(x, requires_grad=True)
        sx = st.tensor(x, dtype=dtype, requires_grad=True)
        t_out = call(t_mod, tx)
        s_out = call(s_mod, sx)
        assert s_out.dtype == dtype, f"{case.name}: output dtype {s_out.dtype}"
        assert_close(s_out.numpy(), t_out.detach().numpy(), rtol, f"{case.name} forward {i}")
        g = rng.standard_normal(tuple(t_out.shape)).astype(dtype)
        t_out.backward(torch.tensor(g))
        s_out.backward(st.tensor(g, dtype=dtype))
        assert_close(sx.grad.numpy(), tx.grad.numpy(), rtol, f"{case.name} input grad {i}")
    # a gradient that is 0 in exact arithmetic (a conv bias before BatchNorm) is rounding noise
    # in both libraries: judge it against the largest parameter gradient of the layer
    grad_scale = max((float(np.abs(p.grad.numpy()).max()) for p in t_mod.parameters()), default=0.0)
    for (name, sp), tp in zip(s_mod.named_parameters(), t_mod.parameters()):
        err = np.abs(sp.grad.numpy() - tp.grad.numpy())
        allowed = rtol * (np.abs(tp.grad.numpy()) + grad_scale)
        assert (err <= allowed).all(), f"{case.name} grad of {name}: max error {err.max():.3g}"
    for (key, sv), tv in zip(s_mod.state_dict().items(), t_mod.state_dict().values()):
        assert sv.dtype == tv.numpy().dtype, key
        assert_close(sv.numpy(), tv.numpy(), rtol, f"{case.name} state {key} after forward")


LOSS_CASES = [
    ("cross_entropy", lambda L: L.CrossEntropyLoss(), "class"),
    (
        "cross_entropy_weighted_smooth",
        lambda L: L.CrossEntropyLoss(
            weight=(st if L is nn else torch).tensor([1.0, 2.0, 0.5, 1.5]),
            label_smoothing=0.1,
            ignore_index=2,
        ),
        "class",
    ),
    ("cross_entropy_sum", lambda L: L.CrossEntropyLoss(reduction="sum"), "class"),
    ("nll", lambda L: L.NLLLoss(), "class"),
    (
        "nll_weighted_none",
        lambda L: L.NLLLoss(weight=(st if L is nn else torch).tensor([1.0, 2.0, 0.5, 1.5]), reduction="none"),
        "class",
    ),
    ("mse", lambda L: L.MSELoss(), "real"),
    ("mse_sum", lambda L: L.MSELoss(reduction="sum"), "real"),
    ("bce_logits", lambda L: L.BCEWithLogitsLoss(), "binary"),
    (
        "bce_logits_pos_weight",
        lambda L: L.BCEWithLogitsLoss(pos_weight=(st if L is nn else torch).tensor([1.0, 3.0, 0.5, 2.0])),
        "binary",
    ),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,make,kind", LOSS_CASES, ids=[c[0] for c in LOSS_CASES])
def test_loss_matches_torch(name, make, kind, dtype):
    rng = np.random.default_rng(1)
    rtol = RTOL[dtype]
    s_loss, t_loss = make(nn), make(torch.nn)
    assert list(s_loss.state_dict()) == list(t_loss.state_dict())
    if dtype == np.float64:
        s_loss.double()
        t_loss.double()
    x = rng.standard_normal((6, 4)).astype(dtype)
    if kind == "class":
        target = rng.integers(0, 4, 6)
        s_t, t_t = st.tensor(target), torch.tensor(target)
    else:
        target = rng.standard_normal((6, 4)) if kind == "real" else (rng.random((6, 4)) > 0.5)
        target = target.astype(dtype)
        s_t, t_t = st.tensor(target, dtype=dtype), torch.tensor(target)
    if name.startswith("nll"):
        x = x - np.log(np.exp(x).sum(1, keepdims=True))
    sx, tx = st.tensor(x, dtype=dtype, requires_grad=True), torch.tensor(x, requires_grad=True)
    s_out, t_out = s_loss(sx, s_t), t_loss(tx, t_t)
    assert_close(s_out.numpy(), t_out.detach().numpy(), rtol, f"{name} value")
    s_out.sum().backward()
    t_out.sum().backward()
    assert_close(sx.grad.numpy(), tx.grad.numpy(), rtol, f"{name} input grad")
    assert repr(s_loss) == repr(t_loss)


def test_dropout_training_statistics():
    st.manual_seed(3)
    x = st.ones(400, 500)
    drop = nn.Dropout(p=0.3)
    y = drop(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    drop2 = nn.Dropout2d(p=0.5)
    y2 = drop2(st.ones(200, 50, 3, 3)).numpy()
    per_channel = y2.reshape(200, 50, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))  # whole channels dropped
    assert abs((per_channel[..., 0] == 0).mean() - 0.5) < 0.02
    drop.eval()
    assert drop(x) is x or np.array_equal(drop(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_maxout_layout_is_linear_then_max_over_pieces():
    layer = nn.Maxout(3, 2, pieces=4)
    assert layer.weight.shape == (8, 3) and layer.bias.shape == (8,)
    x = st.randn(5, 3)
    z = x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(layer(x).numpy(), z.reshape(5, 2, 4).max(-1), rtol=1e-6)
    assert repr(layer) == "Maxout(in_features=3, out_features=2, pieces=4, bias=True)"


@pytest.mark.parametrize(
    "make,shape,message",
    [
        (lambda: nn.Conv2d(3, 4, 3), (2, 1, 8, 8), "has 1 channels at dim 1; expected 3"),
        (lambda: nn.Conv2d(3, 4, 3), (8, 8), "expected a 4-D"),
        (lambda: nn.BatchNorm2d(3), (2, 3, 4), r"expected 4D input \(got 3D input\)"),
        (lambda: nn.BatchNorm1d(3), (2, 5), "has 5 channels"),
        (lambda: nn.MaxPool2d(2), (8,), "expected a 4-D"),
    ],
)
def test_layer_input_errors(make, shape, message):
    with pytest.raises(ValueError, match=message):
        make()(st.zeros(*shape))


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: nn.Conv2d(3, 4, 3, groups=2), "in_channels \\(3\\) must be divisible by groups \\(2\\)"),
        (lambda: nn.Conv2d(4, 3, 3, groups=2), "out_channels \\(3\\) must be divisible"),
        (lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"), "not supported for strided"),
        (lambda: nn.Conv2d(3, 4, 3, padding="full"), "invalid padding string"),
        (lambda: nn.Conv2d(3, 4, 3, padding_mode="mirror"), "padding_mode must be one of"),
        (lambda: nn.Conv2d(0, 4, 3), "in_channels must be a positive integer"),
        (lambda: nn.Conv2d(3, 4, 0), "must be positive"),
        (lambda: nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect"), 'Only "zeros" padding mode'),
        (lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=2), "output_padding"),
        (lambda: nn.Linear(-1, 3), "in_features must be a non-negative integer"),
        (lambda: nn.BatchNorm2d(3, momentum=2.0), "momentum must be in"),
        (lambda: nn.CrossEntropyLoss(reduction="avg"), "reduction must be"),
    ],
)
def test_layer_argument_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_conv_transpose_output_size_out_of_range():
    up = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    with pytest.raises(ValueError, match="valid sizes range from"):
        up(st.zeros(1, 3, 4, 4), output_size=[12, 12])


def test_legacy_loss_flags_map_to_reduction():
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.CrossEntropyLoss(reduce=False).reduction == "none"
    assert nn.NLLLoss(size_average=True, reduce=True).reduction == "mean"

"""nn.init and the layers' default initialisation: the same distributions as PyTorch, checked
statistically (bounds exactly, moments within sampling error), in the tensor's own dtype, and
reproducible with st.manual_seed."""

import math

import numpy as np
import pytest
import torch

import striate as st
import striate.nn as nn
from striate.nn import init


@pytest.mark.parametrize(
    "nonlinearity,param",
    [
        ("linear", None),
        ("conv2d", None),
        ("conv_transpose2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("selu", None),
    ],
)
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15
    )


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity swish"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "big")


@pytest.mark.parametrize("shape", [(5, 3), (16, 3, 5, 5), (4, 2, 3), (1, 1), (8, 4, 3, 3, 3)])
def test_fan_in_fan_out_matches_torch(shape):
    assert init._calculate_fan_in_and_fan_out(
        st.zeros(*shape)
    ) == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))


def test_fan_needs_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(st.zeros(5))


def _check_uniform(values, bound, what):
    v = values.ravel().astype(np.float64)
    assert v.min() >= -bound and v.max() <= bound, f"{what}: outside [-{bound}, {bound}]"
    assert v.max() > 0.98 * bound and v.min() < -0.98 * bound, f"{what}: does not reach its bound"
    n = v.size
    # the mean and variance of U(-b, b) are 0 and b^2/3; allow 5 standard errors
    assert abs(v.mean()) < 5 * bound / math.sqrt(3 * n), what
    assert abs(v.var() / (bound**2 / 3) - 1) < 5 * math.sqrt(0.8 / n), what


def _check_normal(values, mean, std, what):
    v = values.ravel().astype(np.float64)
    n = v.size
    assert abs(v.mean() - mean) < 5 * std / math.sqrt(n), what
    assert abs(v.std() / std - 1) < 5 / math.sqrt(2 * n), what


SHAPE = (300, 200)  # fan_in 200, fan_out 300


@pytest.mark.parametrize("dtype", [st.float32, st.float64])
def test_kaiming_and_xavier_distributions(dtype):
    w = st.empty(*SHAPE, dtype=dtype)
    init.kaiming_uniform_(w)  # a=0, leaky_relu: gain sqrt(2)
    assert w.dtype == dtype
    _check_uniform(w.numpy(), math.sqrt(6 / 200), "kaiming_uniform_")
    init.kaiming_uniform_(w, a=math.sqrt(5))  # PyTorch's Linear/Conv default: bound 1/sqrt(fan_in)
    _check_uniform(w.numpy(), 1 / math.sqrt(200), "kaiming_uniform_(a=sqrt 5)")
    init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    _check_uniform(w.numpy(), math.sqrt(6 / 300), "kaiming_uniform_(fan_out, relu)")
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert w.dtype == dtype
    _check_normal(w.numpy(), 0.0, math.sqrt(2 / 300), "kaiming_normal_")
    init.kaiming_normal_(w, a=0.1, nonlinearity="leaky_relu")
    _check_normal(w.numpy(), 0.0, math.sqrt(2 / (1 + 0.01)) / math.sqrt(200), "kaiming_normal_(leaky 0.1)")
    init.xavier_uniform_(w, gain=init.calculate_gain("tanh"))
    _check_uniform(w.numpy(), 5 / 3 * math.sqrt(6 / 500), "xavier_uniform_")
    init.xavier_normal_(w)
    _check_normal(w.numpy(), 0.0, math.sqrt(2 / 500), "xavier_normal_")
    init.uniform_(w, -0.3, 0.3)
    _check_uniform(w.numpy(), 0.3, "uniform_")
    init.uniform_(w, 2.0, 3.0)
    assert w.numpy().min() >= 2.0 and w.numpy().max() <= 3.0
    init.normal_(w, 1.5, 0.2)
    _check_normal(w.numpy(), 1.5, 0.2, "normal_")
    assert w.dtype == dtype


def test_trunc_normal_matches_torch_moments():
    w = st.empty(400, 500)
    init.trunc_normal_(w, mean=0.5, std=1.0, a=-0.5, b=2.0)
    v = w.numpy()
    assert v.min() >= -0.5 and v.max() <= 2.0
    t = torch.empty(400, 500)
    torch.nn.init.trunc_normal_(t, mean=0.5, std=1.0, a=-0.5, b=2.0)
    tv = t.numpy().astype(np.float64)
    n = v.size
    assert abs(v.mean() - tv.mean()) < 6 * tv.std() / math.sqrt(n)
    assert abs(v.std() / tv.std() - 1) < 6 / math.sqrt(n)
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(w, a=1.0, b=0.0)


def test_constant_ones_zeros_eye_orthogonal():
    w = st.empty(4, 6)
    assert np.all(init.constant_(w, 0.25).numpy() == 0.25)
    assert np.all(init.ones_(w).numpy() == 1)
    assert np.all(init.zeros_(w).numpy() == 0)
    np.testing.assert_array_equal(init.eye_(w).numpy(), np.eye(4, 6))
    q = init.orthogonal_(st.empty(4, 6), gain=2.0).numpy()
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(4), atol=1e-5)
    q = init.orthogonal_(st.empty(8, 2, 2, dtype=st.float64)).numpy().reshape(8, 4)
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-12)
    with pytest.raises(ValueError, match="2-D"):
        init.eye_(st.empty(2, 2, 2))


def test_init_updates_in_place_and_bumps_version():
    p = nn.Parameter(st.zeros(3, 4))
    data = p.numpy()
    version = p._version
    assert init.kaiming_uniform_(p) is p
    assert p.numpy() is data and data.any() and p._version > version


def test_empty_tensor_is_left_alone():
    w = st.empty(0, 3)
    assert init.kaiming_uniform_(w) is w and init.kaiming_normal_(w) is w


def test_generator_argument_and_manual_seed_reproduce():
    a = init.normal_(st.empty(5, 5), generator=st.Generator().manual_seed(7)).numpy()
    b = init.normal_(st.empty(5, 5), generator=st.Generator().manual_seed(7)).numpy()
    np.testing.assert_array_equal(a, b)
    st.manual_seed(11)
    first = [p.numpy().copy() for p in nn.Conv2d(3, 4, 3).parameters()]
    st.manual_seed(11)
    second = [p.numpy().copy() for p in nn.Conv2d(3, 4, 3).parameters()]
    third = [p.numpy().copy() for p in nn.Conv2d(3, 4, 3).parameters()]
    for x, y, z in zip(first, second, third):
        np.testing.assert_array_equal(x, y)
        assert not np.array_equal(x, z)


@pytest.mark.parametrize(
    "make,fan_in",
    [
        (lambda L: L.Linear(120, 84), 120),
        (lambda L: L.Conv2d(3, 6, 5), 75),
        (lambda L: L.Conv2d(16, 32, kernel_size=5, padding=2), 400),
        (lambda L: L.Conv2d(8, 16, 3, groups=4), 18),
        (lambda L: L.Conv1d(4, 8, 5), 20),
        (lambda L: L.ConvTranspose2d(8, 6, 3), 54),  # weight (in, out, k, k): fan_in = out * k * k
    ],
)
def test_default_init_of_linear_and_conv_layers_is_torchs(make, fan_in):
    """weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in as PyTorch computes it."""
    s, t = make(nn), make(torch.nn)
    assert init._calculate_fan_in_and_fan_out(s.weight) == torch.nn.init._calculate_fan_in_and_fan_out(
        t.weight
    )
    assert init._calculate_fan_in_and_fan_out(s.weight)[0] == fan_in
    bound = 1 / math.sqrt(fan_in)
    big = [make(nn) for _ in range(max(1, 40000 // s.weight.numel()))]
    weights = np.concatenate([m.weight.numpy().ravel() for m in big])
    biases = np.concatenate([m.bias.numpy().ravel() for m in big])
    assert weights.dtype == np.float32
    _check_uniform(weights, bound, "default weight")
    assert biases.min() >= -bound and biases.max() <= bound
    # torch's own draws respect the same bound
    assert np.abs(t.weight.detach().numpy()).max() <= bound


def test_default_init_of_norm_layers_and_maxout():
    bn = nn.BatchNorm2d(5)
    np.testing.assert_array_equal(bn.weight.numpy(), np.ones(5))
    np.testing.assert_array_equal(bn.bias.numpy(), np.zeros(5))
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(5))
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(5))
    assert bn.num_batches_tracked.item() == 0 and bn.num_batches_tracked.dtype == np.int64
    mo = nn.Maxout(50, 10, pieces=4)
    assert np.abs(mo.weight.numpy()).max() <= 1 / math.sqrt(50)
    bn.running_mean.numpy()[:] = 3
    bn.reset_parameters()
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(5))


def test_init_rejects_integer_tensors():
    with pytest.raises(TypeError, match="floating point"):
        init.uniform_(st.zeros(3, 3, dtype=st.int64))

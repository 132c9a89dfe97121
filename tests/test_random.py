"""After the same seed, striate's random functions and default initialisation give PyTorch's
CPU values bit for bit: the first 10,000 values of each function, every layer's initial weights,
dropout masks, and the generator's state through save and restore."""

import json
from fractions import Fraction

import numpy as np
import pytest
import torch

import striate as st
import striate.nn.functional as F
from striate import sampling
from striate.sampling_math import fma32, fma64, log_cephes, sincos_cephes

SEEDS = [0, 1, 2**32 + 5, 123456789]


def both(seed, make):
    st.manual_seed(seed)
    torch.manual_seed(seed)
    ours, theirs = make(st), make(torch)
    return np.asarray(ours.numpy() if hasattr(ours, "numpy") else ours), theirs.detach().numpy()


def assert_same_bits(ours, theirs):
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


RANDOM_FUNCTIONS = {
    "rand": lambda m: m.rand(10_000),
    "rand_float64": lambda m: m.rand(100, 100, dtype=m.float64),
    "randn": lambda m: m.randn(10_000),
    "randn_tail": lambda m: m.randn(9_999),  # n % 16 != 0: the last 16 values are redrawn
    "randn_float64": lambda m: m.randn(10_000, dtype=m.float64),
    "randn_tiny": lambda m: m.randn(15),  # the scalar Box-Muller path
    "randint": lambda m: m.randint(-7, 1000, (10_000,)),
    "randint_wide": lambda m: m.randint(0, 2**40, (1000,)),
    "randperm": lambda m: m.randperm(10_000),
    "normal": lambda m: m.normal(3.0, 0.25, (10_000,)),
    "uniform_": lambda m: m.empty(10_000).uniform_(-0.37, 0.81),
    "uniform_float64": lambda m: m.empty(1000, dtype=m.float64).uniform_(-2.5, 1.25),
    "normal_float64": lambda m: m.empty(1000, dtype=m.float64).normal_(-1.0, 3.3),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(RANDOM_FUNCTIONS))
def test_first_values_equal_pytorch(name, seed):
    assert_same_bits(*both(seed, RANDOM_FUNCTIONS[name]))


def test_interleaved_calls_share_one_stream_and_the_normal_cache():
    st.manual_seed(7)
    torch.manual_seed(7)
    ours = st.cat([st.randn(3), st.rand(2), st.randn(1), st.randn(20),
                   st.randint(0, 5, (3,)).float(), st.randn(5)])
    theirs = torch.cat([torch.randn(3), torch.rand(2), torch.randn(1), torch.randn(20),
                        torch.randint(0, 5, (3,)).float(), torch.randn(5)])
    assert_same_bits(ours.numpy(), theirs.numpy())


def test_non_contiguous_normal_is_filled_one_value_at_a_time():
    st.manual_seed(3)
    torch.manual_seed(3)
    ours = st.zeros(8, 6).transpose(0, 1)
    theirs = torch.zeros(8, 6).t()
    ours.normal_()
    theirs.normal_()
    assert_same_bits(ours.numpy(), theirs.numpy())
    ours = st.zeros(4, 5, 6).permute(2, 0, 1)
    theirs = torch.zeros(4, 5, 6).permute(2, 0, 1)
    ours.uniform_(-1, 2)
    theirs.uniform_(-1, 2)
    assert_same_bits(ours.numpy(), theirs.numpy())


LAYERS = {
    "Linear": lambda m: m.nn.Linear(300, 70),
    "Linear_no_bias": lambda m: m.nn.Linear(17, 5, bias=False),
    "Conv1d": lambda m: m.nn.Conv1d(16, 32, 3),
    "Conv2d": lambda m: m.nn.Conv2d(3, 16, 5),
    "Conv2d_groups": lambda m: m.nn.Conv2d(8, 16, 3, groups=4),
    "ConvTranspose2d": lambda m: m.nn.ConvTranspose2d(8, 4, 3, stride=2),
    "BatchNorm2d": lambda m: m.nn.BatchNorm2d(12),
    "LeNet": lambda m: m.nn.Sequential(m.nn.Conv2d(1, 6, 5), m.nn.ReLU(), m.nn.Conv2d(6, 16, 5),
                                       m.nn.Flatten(), m.nn.Linear(400, 120), m.nn.Linear(120, 84),
                                       m.nn.Linear(84, 10)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_default_initialisation_equals_pytorch(name):
    st.manual_seed(42)
    torch.manual_seed(42)
    ours = LAYERS[name](st).state_dict()
    theirs = LAYERS[name](torch).state_dict()
    assert list(ours) == list(theirs)
    for key in theirs:
        if theirs[key].dtype == torch.int64:  # num_batches_tracked
            continue
        assert_same_bits(np.asarray(ours[key]), theirs[key].numpy())


INITS = {
    "xavier_uniform_": lambda m, w: m.nn.init.xavier_uniform_(w, gain=1.3),
    "xavier_normal_": lambda m, w: m.nn.init.xavier_normal_(w),
    "kaiming_uniform_": lambda m, w: m.nn.init.kaiming_uniform_(w, nonlinearity="relu"),
    "kaiming_normal_": lambda m, w: m.nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"),
    "normal_": lambda m, w: m.nn.init.normal_(w, 0.0, 0.01),
    "uniform_": lambda m, w: m.nn.init.uniform_(w, -0.1, 0.2),
}


@pytest.mark.parametrize("name", sorted(INITS))
@pytest.mark.parametrize("shape", [(64, 27), (5, 3, 3, 3), (7, 2)])
def test_init_functions_equal_pytorch(name, shape):
    assert_same_bits(*both(11, lambda m: INITS[name](m, m.empty(*shape))))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_masks_equal_pytorch_portable_path(p):
    # PyTorch builds with MKL draw bernoulli_ from MKL on Intel CPUs; elsewhere (this path) the
    # mask is a float64 uniform < 1 - p per element.
    x = np.linspace(-1, 1, 3000, dtype=np.float32).reshape(30, 100)
    ours, theirs = both(5, lambda m: F.dropout(m.tensor(x), p) if m is st else
                        torch.nn.functional.dropout(torch.tensor(x), p))
    if not np.array_equal(ours, theirs):
        pytest.skip("this PyTorch draws dropout masks from MKL (Intel CPU): a different generator")
    assert_same_bits(ours, theirs)


def test_generator_objects_are_independent_streams():
    g = st.Generator().manual_seed(9)
    tg = torch.Generator().manual_seed(9)
    st.manual_seed(0)
    a = st.randn(50, generator=g).numpy()
    b = torch.randn(50, generator=tg).numpy()
    assert_same_bits(a, b)
    assert_same_bits(st.rand(5).numpy(), (torch.manual_seed(0), torch.rand(5))[1].numpy())
    assert g.initial_seed() == 9


def test_state_round_trips_through_json_with_the_cached_normal():
    st.manual_seed(4)
    st.randn(3)  # leaves a cached sine in the generator
    state = json.loads(json.dumps(st.get_rng_state()))
    expected = st.randn(10).numpy()
    st.manual_seed(99)
    st.set_rng_state(state)
    np.testing.assert_array_equal(st.randn(10).numpy(), expected)


def test_bad_seeds_and_states_get_clear_errors():
    with pytest.raises(TypeError, match="manual_seed expected an int"):
        st.manual_seed(1.5)
    with pytest.raises(ValueError, match="seed must be within"):
        st.manual_seed(2**64)
    with pytest.raises(ValueError, match="PCG64"):
        st.set_rng_state({"bit_generator": "PCG64", "state": {}})
    with pytest.raises(ValueError, match="624"):
        st.set_rng_state({"engine": "mt19937", "key": [1, 2], "pos": 0})
    with pytest.raises(ValueError, match="from=2 > to=1"):
        st.empty(3).uniform_(2, 1)
    with pytest.raises(ValueError, match="std >= 0.0"):
        st.normal(0.0, -1.0, (3,))
    with pytest.raises(ValueError, match="less than 'to'"):
        st.randint(5, 5, (2,))
    with pytest.raises(ValueError, match="non-negative"):
        st.randperm(-1)
    with pytest.raises(ValueError, match="CPU only"):
        st.Generator("cuda")


def test_negative_seed_wraps_like_pytorch():
    assert_same_bits(*both(-1, lambda m: m.rand(20)))


def test_fused_multiply_add_rounds_once():
    rng = np.random.default_rng(0)
    scale = rng.choice([1e-8, 1.0, 1e4], 400)
    a, b, c = (rng.standard_normal(400).astype(np.float32) for _ in range(3))
    c = (c * scale).astype(np.float32)
    fused = fma32(a, b, c)
    for i in range(400):  # the exact value, rounded once to the nearest float32
        exact = Fraction(float(a[i])) * Fraction(float(b[i])) + Fraction(float(c[i]))
        near = np.float32(float(exact))
        candidates = [np.nextafter(near, np.float32(-np.inf)), near, np.nextafter(near, np.float32(np.inf))]
        best = min(candidates, key=lambda v: (abs(Fraction(float(v)) - exact),
                                              int(np.float32(v).view(np.uint32)) & 1))
        assert fused[i] == best
    x, y, z = (rng.standard_normal(5000) for _ in range(3))
    assert np.max(np.abs(fma64(x, y, z) - (x * y + z))) <= 2e-16 * np.max(np.abs(x * y + z))


def test_cephes_functions_are_accurate_float32():
    x = np.linspace(1e-6, 1.0, 10_001, dtype=np.float32)
    np.testing.assert_allclose(log_cephes(x), np.log(x.astype(np.float64)), rtol=2e-6, atol=2e-7)
    assert np.isnan(log_cephes(np.array([0.0, -1.0], np.float32))).all()
    t = np.linspace(0, 2 * np.pi, 10_001, dtype=np.float32)
    s, c = sincos_cephes(t)
    np.testing.assert_allclose(s, np.sin(t.astype(np.float64)), atol=3e-7)
    np.testing.assert_allclose(c, np.cos(t.astype(np.float64)), atol=3e-7)


@pytest.mark.parametrize("n", [4096, 4099, 20_000])
def test_compiled_and_numpy_twins_draw_the_same_values(n):
    values = {}
    for kernels in ("numpy", "numba"):
        with st.config.use_kernels(kernels):
            st.manual_seed(21)
            values[kernels] = (st.randn(n).numpy(), st.empty(n).uniform_(-0.5, 0.25).numpy(),
                               st.normal(0.3, 2.0, (n,)).numpy())
    for ours, twin in zip(values["numba"], values["numpy"]):
        assert_same_bits(ours, twin)


def test_sampling_rejects_wrong_dtypes():
    with pytest.raises(TypeError, match="floating point"):
        sampling.uniform((3,), dtype=np.int64)
    with pytest.raises(ValueError, match=r"p in \[0, 1\]"):
        sampling.bernoulli((3,), 1.5)

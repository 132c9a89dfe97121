"""st.bernoulli / Tensor.bernoulli_ / st.multinomial after st.manual_seed(n) against torch's
values (the first 10,000 of each, bit for bit), the draws that follow (the stream advanced by the
same amount), gradients, and the errors. Scalar-p Bernoulli is compared only where torch uses its
portable kernel (a build without MKL or a non-Intel CPU): with MKL on an Intel CPU torch draws it
from MKL's generator instead."""

import numpy as np
import pytest
import torch

import striate as st


def _portable_scalar_bernoulli() -> bool:
    if not torch.backends.mkl.is_available():
        return True
    try:
        with open("/proc/cpuinfo") as f:
            return "GenuineIntel" not in f.read()
    except OSError:
        return False


def _same_stream_after():
    """The next draws agree too: both generators advanced by the same number of words."""
    np.testing.assert_array_equal(st.rand(7, dtype=st.float64).numpy(),
                                  torch.rand(7, dtype=torch.float64).numpy())


def _probabilities(dtype, shape=(10_000,)):
    return np.random.default_rng(11).random(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", [0, 2024])
def test_bernoulli_of_a_probability_tensor_matches_torch(dtype, seed):
    p = _probabilities(dtype)
    st.manual_seed(seed)
    torch.manual_seed(seed)
    ours, theirs = st.bernoulli(st.tensor(p)), torch.bernoulli(torch.tensor(p))
    assert ours.dtype == theirs.numpy().dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    _same_stream_after()


def test_bernoulli_into_a_tensor_with_broadcast_probabilities_matches_torch():
    p = _probabilities(np.float32, (1, 50))
    st.manual_seed(3)
    torch.manual_seed(3)
    ours = st.zeros(200, 50, dtype=st.float64).bernoulli_(st.tensor(p))
    theirs = torch.zeros(200, 50, dtype=torch.float64).bernoulli_(torch.tensor(p))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    _same_stream_after()


@pytest.mark.skipif(not _portable_scalar_bernoulli(),
                    reason="torch draws scalar-p Bernoulli from MKL on Intel CPUs")
@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 1.0])
def test_bernoulli_with_a_number_matches_torch(p):
    st.manual_seed(5)
    torch.manual_seed(5)
    np.testing.assert_array_equal(st.empty(100, 100).bernoulli_(p).numpy(),
                                  torch.empty(100, 100).bernoulli_(p).numpy())
    np.testing.assert_array_equal(st.bernoulli(st.zeros(3, 7), p).numpy(),
                                  torch.bernoulli(torch.zeros(3, 7), p).numpy())
    # a non-contiguous destination is filled in memory order, as torch's TensorIterator walks it
    ours = st.zeros(30, 40).t().bernoulli_(p)
    theirs = torch.zeros(30, 40).t().bernoulli_(p)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    _same_stream_after()


def test_bernoulli_with_a_generator_leaves_the_global_stream_alone():
    g, tg = st.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    st.manual_seed(1)
    torch.manual_seed(1)
    p = _probabilities(np.float64, (500,))
    np.testing.assert_array_equal(st.bernoulli(st.tensor(p), generator=g).numpy(),
                                  torch.bernoulli(torch.tensor(p), generator=tg).numpy())
    _same_stream_after()


def test_bernoulli_gradient_is_zero_as_in_torch():
    p = st.tensor([0.2, 0.9], requires_grad=True)
    out = st.bernoulli(p)
    assert out.requires_grad
    (out * 3).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        st.ones(2, requires_grad=True).bernoulli_(0.5)


def test_bernoulli_errors():
    with pytest.raises(ValueError, match=r"every probability must be in \[0, 1\]"):
        st.bernoulli(st.tensor([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"expects p to be in \[0, 1\]"):
        st.ones(3).bernoulli_(2.0)
    with pytest.raises(TypeError, match="floating point"):
        st.bernoulli(st.tensor([0, 1]))


MULTINOMIAL = [
    ((10_000,), False, 10_000),
    ((10_000,), True, 10_000),
    ((10_000,), False, 1),
    ((40, 250), False, 250),  # the whole row permuted by weight: 10,000 values
    ((40, 250), True, 250),
    ((40, 250), True, 1),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,replacement,n", MULTINOMIAL)
def test_multinomial_matches_torch(shape, replacement, n, dtype):
    w = np.random.default_rng(4).random(shape).astype(dtype)
    if replacement or n < shape[-1]:
        # some impossible categories (not when all are drawn without replacement: the order
        # among weight-0 categories, all tied at the end, is whatever torch's topk leaves)
        w[..., ::7] = 0
    st.manual_seed(21)
    torch.manual_seed(21)
    ours = st.multinomial(st.tensor(w), n, replacement)
    theirs = torch.multinomial(torch.tensor(w), n, replacement)
    assert ours.dtype == np.int64 and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    _same_stream_after()
    st.manual_seed(8)
    torch.manual_seed(8)
    np.testing.assert_array_equal(st.tensor(w).multinomial(3, replacement=True).numpy(),
                                  torch.tensor(w).multinomial(3, replacement=True).numpy())


@pytest.mark.parametrize("make,error,message", [
    (lambda: st.multinomial(st.ones(3), 4), ValueError, "cannot sample n_sample > prob_dist.size"),
    (lambda: st.multinomial(st.ones(3), 0), ValueError, "n_sample <= 0"),
    (lambda: st.multinomial(st.ones(2, 2, 2), 1), ValueError, "prob_dist must be 1 or 2 dim"),
    (lambda: st.multinomial(st.tensor([1, 2]), 1), TypeError, "floating-point dtypes"),
    (lambda: st.multinomial(st.tensor([1.0, -1.0]), 1), ValueError, "element < 0"),
    (lambda: st.multinomial(st.tensor([[1.0, 1.0], [0.0, 0.0]]), 1), ValueError, "sum of probabilities"),
    (lambda: st.multinomial(st.tensor([1.0, float("nan")]), 2, True), ValueError, "entry < 0"),
    (lambda: st.multinomial(st.tensor([1.0, float("inf")]), 2, True), ValueError, "infinity or NaN"),
])
def test_multinomial_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()

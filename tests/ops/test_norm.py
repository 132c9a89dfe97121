"""batch_norm (training and evaluation, running statistics updated in place) and
local_response_norm against PyTorch, through the shared harness."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import striate as st
import striate.nn.functional as F
from harness import OpCase, assert_close, check_case


def _stats(C, seed=7):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(C), rng.random(C) + 0.5


def _bn_row(shape, training, affine, eps=1e-5, small=None, backward=True, notes=""):
    C = shape[1]
    rm, rv = _stats(C)

    def make(rng, shape=shape):
        arrays = [rng.standard_normal(shape) * 2 + 0.5]
        if affine in ("both", "weight"):
            arrays.append(rng.standard_normal(C))
        if affine in ("both", "bias"):
            arrays.append(rng.standard_normal(C))
        return arrays

    def split(rest):
        if affine == "both":
            return rest[0], rest[1]
        if affine == "weight":
            return rest[0], None
        if affine == "bias":
            return None, rest[0]
        return None, None

    def call_s(x, *rest):
        w, b = split(rest)
        rm_s, rv_s = (
            (None, None) if training else (st.tensor(rm, dtype=x.dtype), st.tensor(rv, dtype=x.dtype))
        )
        return F.batch_norm(x, rm_s, rv_s, w, b, training=training, eps=eps)

    def call_t(x, *rest):
        w, b = split(rest)
        rm_t, rv_t = (
            (None, None) if training else (torch.tensor(rm, dtype=x.dtype), torch.tensor(rv, dtype=x.dtype))
        )
        return TF.batch_norm(x, rm_t, rv_t, w, b, training=training, eps=eps)

    small_make = None
    if small is not None:

        def small_make(rng, small=small):
            return make(rng, small)

    return OpCase(
        name=f"batch_norm_{'train' if training else 'eval'}_{shape}_{affine}".replace(" ", ""),
        inputs=make,
        striate=call_s,
        torch=call_t,
        small_inputs=small_make,
        backward=backward,
        notes=notes,
    )


BN_ROWS = [
    _bn_row(shape, training, affine, small=small)
    for shape, small in [
        ((8, 5), None),
        ((4, 3, 7), (2, 3, 5)),
        ((4, 6, 5, 5), (2, 6, 3, 3)),
        ((2, 3, 2, 2, 3), None),
    ]
    for training in (True, False)
    for affine in ("both", "none")
] + [
    _bn_row((6, 4, 3, 3), True, "weight", small=(2, 4, 2, 2)),
    _bn_row((6, 4, 3, 3), False, "bias", small=(2, 4, 2, 2)),
    _bn_row((16, 8, 16, 16), True, "both", small=(2, 8, 2, 2)),
    _bn_row((32, 16, 16, 16), True, "both", small=(2, 16, 2, 2)),  # 131,072 values: split over threads
    _bn_row((32, 16, 16, 16), False, "both", small=(2, 16, 2, 2)),
    _bn_row(
        (2, 4), True, "both", backward=False, notes="gradient: see test_batch_norm_two_values_per_channel"
    ),
]


def _lrn_row(shape, size, alpha=1e-4, beta=0.75, k=1.0, scale=1.0, small=None):
    kwargs = {"size": size, "alpha": alpha, "beta": beta, "k": k}
    return OpCase(
        name=f"local_response_norm_{shape}_n{size}_a{alpha}_b{beta}_k{k}".replace(" ", ""),
        inputs=lambda rng: [rng.standard_normal(shape) * scale],
        striate=lambda x: F.local_response_norm(x, **kwargs),
        torch=lambda x: TF.local_response_norm(x, **kwargs),
        small_inputs=(lambda rng: [rng.standard_normal(small) * scale]) if small else None,
    )


LRN_ROWS = [
    _lrn_row((2, 7, 5, 5), 5, small=(1, 7, 3, 3)),
    _lrn_row((2, 6, 4, 4), 5, alpha=5e-4 * 100, beta=0.75, k=2.0, scale=3.0, small=(1, 6, 3, 3)),  # AlexNet's
    _lrn_row((2, 5, 9), 2, alpha=0.5, beta=0.6, k=1.5),
    _lrn_row((1, 4, 6), 1, alpha=1.0, beta=1.0, k=0.5, scale=2.0),
    _lrn_row((2, 3, 4, 4), 8, alpha=0.3, beta=2.0, k=1.0, small=(1, 3, 3, 3)),  # window wider than C
    _lrn_row((2, 4, 2, 3, 2), 3, alpha=0.2, beta=0.5, k=1.0),
]


@pytest.mark.parametrize("case", BN_ROWS, ids=str)
@pytest.mark.parametrize("kernel_set", ["numba", "numpy"])
def test_batch_norm_parity(case, kernel_set, monkeypatch):
    """Both kernel twins, with channels split between two threads where the input is large."""
    monkeypatch.setitem(st.config._state, "threads", 2)
    with st.config.use_kernels(kernel_set):
        check_case(case)


@pytest.mark.parametrize("case", LRN_ROWS, ids=str)
def test_lrn_parity(case):
    check_case(case)


@pytest.mark.parametrize("kernel_set", ["numba", "numpy"])
def test_batch_norm_far_from_zero_keeps_float32_precision(kernel_set):
    """Values of 1000 +- 1: the statistics accumulate in float64 and x - mean is taken before
    scaling, so float32 outputs and gradients stay within 1e-5 of PyTorch's."""
    rng = np.random.default_rng(9)
    x = (1000 + rng.standard_normal((16, 4, 8, 8))).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    with st.config.use_kernels(kernel_set):
        xs = st.tensor(x, requires_grad=True)
        ys = F.batch_norm(xs, None, None, training=True)
        ys.backward(st.tensor(g))
    xt = torch.tensor(x, requires_grad=True)
    yt = TF.batch_norm(xt, None, None, training=True)
    yt.backward(torch.tensor(g))
    assert ys.dtype == st.float32 and xs.grad.dtype == st.float32
    assert_close(ys.numpy(), yt.detach().numpy(), 1e-5, "output")
    assert_close(xs.grad.numpy(), xt.grad.numpy(), 1e-5, "input gradient")


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 7), (4, 6, 5, 5)])
@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0])
def test_batch_norm_updates_running_stats_in_place(shape, momentum):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(np.float32) * 3 + 1
    rm, rv = (a.astype(np.float32) for a in _stats(shape[1]))
    rm_s, rv_s = st.tensor(rm), st.tensor(rv)
    rm_t, rv_t = torch.tensor(rm), torch.tensor(rv)
    mean_array, var_array = rm_s._data, rv_s._data
    for _ in range(3):  # several steps: the exponential average compounds
        ys = F.batch_norm(st.tensor(x), rm_s, rv_s, training=True, momentum=momentum)
        yt = TF.batch_norm(torch.tensor(x), rm_t, rv_t, training=True, momentum=momentum)
    assert_close(ys.numpy(), yt.numpy(), 1e-5, "output")
    assert_close(rm_s.numpy(), rm_t.numpy(), 1e-5, "running_mean")
    assert_close(rv_s.numpy(), rv_t.numpy(), 1e-5, "running_var (unbiased)")
    assert rm_s._data is mean_array and rv_s._data is var_array  # updated in place, same buffers
    assert rm_s.dtype == st.float32 and rv_s.dtype == st.float32
    # evaluation then uses the running statistics and leaves them alone
    ye = F.batch_norm(st.tensor(x), rm_s, rv_s, training=False)
    te = TF.batch_norm(torch.tensor(x), rm_t, rv_t, training=False)
    assert_close(ye.numpy(), te.numpy(), 1e-5, "eval output")
    assert_close(rm_s.numpy(), rm_t.numpy(), 1e-5, "running_mean after eval")


def test_batch_norm_two_values_per_channel():
    """The smallest legal training batch: with two values per channel x_hat = +-sqrt(var/(var+eps)),
    so dL/dx = invstd (g - mean(g) - x_hat mean(g x_hat)) cancels to O(eps/var) of its terms. float64
    matches PyTorch to 1e-10; float32 cannot keep 1e-5 of a result that small, so it is judged
    against the scale of the terms that cancel (|g| * invstd), where it agrees to 1e-5."""
    rng = np.random.default_rng(0)
    x, w, b, g = (rng.standard_normal(s) for s in [(2, 4), (4,), (4,), (2, 4)])
    grads = {}
    for dtype in (np.float32, np.float64):
        xs, ws, bs = (st.from_numpy(a.astype(dtype)).requires_grad_() for a in (x, w, b))
        xt, wt, bt = (torch.tensor(a.astype(dtype), requires_grad=True) for a in (x, w, b))
        (
            F.batch_norm(xs, None, None, ws, bs, training=True) * st.from_numpy(g.astype(dtype))
        ).sum().backward()
        (
            TF.batch_norm(xt, None, None, wt, bt, training=True) * torch.tensor(g.astype(dtype))
        ).sum().backward()
        grads[dtype] = (xs.grad.numpy(), xt.grad.numpy())
        assert_close(ws.grad.numpy(), wt.grad.numpy(), 1e-5 if dtype == np.float32 else 1e-10, "dweight")
        assert_close(bs.grad.numpy(), bt.grad.numpy(), 1e-5 if dtype == np.float32 else 1e-10, "dbias")
    assert_close(*grads[np.float64], 1e-10, "dx float64")
    gs, gt = grads[np.float32]
    invstd = 1 / np.sqrt(x.var(axis=0) + 1e-5)
    term_scale = np.abs(g * w).max(axis=0) * invstd
    assert np.all(np.abs(gs - gt) <= 1e-5 * term_scale), (gs, gt)


def test_batch_norm_training_gradient_flows_to_weight_and_bias_only_when_needed():
    x = st.randn(4, 3, 5, 5, requires_grad=True)
    w = st.ones(3)
    b = st.zeros(3, requires_grad=True)
    y = F.batch_norm(x, None, None, w, b, training=True)
    (y * y).sum().backward()
    assert x.grad is not None and b.grad is not None and w.grad is None
    assert x.grad.dtype == st.float32


def _raises(match, fn, exc=ValueError):
    with pytest.raises(exc, match=match):
        fn()


def test_norm_bad_inputs():
    x = st.randn(4, 3, 5, 5)
    _raises(
        r"expected more than 1 value per channel when training, got input size \(1, 3\)",
        lambda: F.batch_norm(st.randn(1, 3), None, None, training=True),
    )
    _raises(r"running_mean must have shape \(3,\)", lambda: F.batch_norm(x, st.zeros(4), st.ones(3)))
    _raises(r"weight must have shape \(3,\)", lambda: F.batch_norm(x, None, None, st.ones(2), training=True))
    _raises(r"needs running_mean and running_var", lambda: F.batch_norm(x, None, None, training=False))
    _raises(
        r"momentum=None .* nn.BatchNorm",
        lambda: F.batch_norm(x, None, None, training=True, momentum=None),
        TypeError,
    )
    _raises(
        r"eps must be positive during training", lambda: F.batch_norm(x, None, None, training=True, eps=0)
    )
    _raises(r"at least 2 dimensions", lambda: F.batch_norm(st.randn(5), None, None, training=True))
    _raises(r"needs 3 or more dimensions", lambda: F.local_response_norm(st.randn(2, 3), 2))
    _raises(r"size must be a positive", lambda: F.local_response_norm(x, 0))

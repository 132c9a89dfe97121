"""Pooling against PyTorch on both kernel twins: max (padding, dilation, ceil_mode, indices, ties,
NaN), average (count_include_pad, ceil_mode, divisor_override), power-average, adaptive, 1-D.

Rows come from a seeded sweep (batch 1-8, channels 1-16, input 1-32 per side, non-square
kernels, stride 1-4, padding up to half the kernel, dilation 1-3, ceil_mode both ways) and run
through the shared harness (float32 1e-5, float64, gradcheck on small inputs).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import striate as st
import striate.nn.functional as F
from harness import GRADCHECK_MAX_ELEMENTS, OpCase, check_case
from striate.ops.pool import pool_output_size


@pytest.fixture(params=["numba", "numpy"])
def kernel_set(request):
    with st.config.use_kernels(request.param):
        yield request.param


def _normal(shape):
    return lambda rng: [rng.standard_normal(shape)]


def _ties(shape):
    """Small integers: windows full of equal maxima (PyTorch routes to the first)."""
    return lambda rng: [rng.integers(-2, 3, shape).astype(np.float64)]


def _row(name, shape, fn_s, fn_t, kwargs, ties=False, small_shape=None, rtol32=1e-5, notes=""):
    count = int(np.prod(small_shape or shape))
    return OpCase(
        name=name,
        inputs=_ties(shape) if ties else _normal(shape),
        striate=lambda x: fn_s(x, **kwargs),
        torch=lambda x: fn_t(x, **kwargs),
        # finite differences are undefined at exact ties, so tie rows skip the gradcheck
        gradcheck=not ties and count <= GRADCHECK_MAX_ELEMENTS,
        small_inputs=_normal(small_shape) if small_shape else None,
        rtol32=rtol32,
        notes=notes,
        extra=dict(kwargs, shape=shape),
    )


def _pool_case(rng, dilated: bool):
    """A random valid pooling geometry (the output has at least one row and column)."""
    while True:
        N, C = int(rng.integers(1, 9)), int(rng.integers(1, 17))
        kh, kw = (int(v) for v in rng.integers(1, 8, 2))
        sh, sw = (int(v) for v in rng.integers(1, 5, 2))
        ph, pw = int(rng.integers(0, kh // 2 + 1)), int(rng.integers(0, kw // 2 + 1))
        dh, dw = (int(v) for v in rng.choice([1, 1, 2, 3], 2)) if dilated else (1, 1)
        ceil = bool(rng.integers(0, 2))
        H, W = int(rng.integers(1, 33)), int(rng.integers(1, 33))
        if N * C * H * W > 30_000:
            continue
        oh = pool_output_size(H, kh, sh, ph, dh, ceil)
        ow = pool_output_size(W, kw, sw, pw, dw, ceil)
        if oh >= 1 and ow >= 1:
            return (N, C, H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil


def _small(shape, kernel, stride, pads, dil, ceil):
    """One plane of a smaller size with the same pooling geometry, for the float64 gradcheck."""
    N, C, H, W = shape
    for h in range(1, H + 1):
        if pool_output_size(h, kernel[0], stride[0], pads[0], dil[0], ceil) >= 1:
            break
    for w in range(1, W + 1):
        if pool_output_size(w, kernel[1], stride[1], pads[1], dil[1], ceil) >= 1:
            break
    h, w = min(H, h + stride[0]), min(W, w + stride[1])
    return (1, min(C, 2), h, w) if 2 * h * w <= GRADCHECK_MAX_ELEMENTS else None


def _max_rows(n, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        shape, k, s, p, d, ceil = _pool_case(rng, dilated=True)
        kw = {"kernel_size": k, "stride": s, "padding": p, "dilation": d, "ceil_mode": ceil}
        if i % 4 == 0:
            kw["return_indices"] = True
        ties = i % 5 == 1
        name = f"max_pool2d_{shape}_k{k}_s{s}_p{p}_d{d}{'_ceil' if ceil else ''}{'_ties' if ties else ''}"
        rows.append(
            _row(
                name.replace(" ", ""),
                shape,
                F.max_pool2d,
                TF.max_pool2d,
                kw,
                ties,
                _small(shape, k, s, p, d, ceil),
            )
        )
    return rows


def _avg_rows(n, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        shape, k, s, p, _, ceil = _pool_case(rng, dilated=False)
        kw = {
            "kernel_size": k,
            "stride": s,
            "padding": p,
            "ceil_mode": ceil,
            "count_include_pad": bool(i % 2),
        }
        if i % 7 == 3:
            kw["divisor_override"] = int(rng.integers(1, 10))
        name = f"avg_pool2d_{shape}_k{k}_s{s}_p{p}{'_ceil' if ceil else ''}_cip{int(kw['count_include_pad'])}"
        rows.append(
            _row(
                name.replace(" ", ""),
                shape,
                F.avg_pool2d,
                TF.avg_pool2d,
                kw,
                False,
                _small(shape, k, s, p, (1, 1), ceil),
            )
        )
    return rows


MAX_ROWS = _max_rows(40, seed=11) + [
    _row(
        "max_pool2d_lenet_2x2",
        (4, 6, 28, 28),
        F.max_pool2d,
        TF.max_pool2d,
        {"kernel_size": 2},
        small_shape=(1, 2, 4, 4),
    ),
    _row(
        "max_pool2d_alexnet_3x3_s2_overlap",
        (2, 4, 13, 13),
        F.max_pool2d,
        TF.max_pool2d,
        {"kernel_size": 3, "stride": 2, "return_indices": True},
        small_shape=(1, 2, 7, 7),
    ),
    _row(
        "max_pool2d_overlap_ties",
        (2, 3, 9, 9),
        F.max_pool2d,
        TF.max_pool2d,
        {"kernel_size": 3, "stride": 1, "padding": 1, "return_indices": True},
        ties=True,
    ),
    _row(
        "max_pool2d_unbatched",
        (3, 7, 6),
        F.max_pool2d,
        TF.max_pool2d,
        {"kernel_size": (3, 2), "stride": (2, 1)},
    ),
    _row(
        "max_pool2d_kernel_equals_padded_input",
        (2, 2, 3, 5),
        F.max_pool2d,
        TF.max_pool2d,
        {"kernel_size": (5, 7), "padding": (1, 1), "return_indices": True},
    ),
    _row(
        "max_pool2d_ceil_window_in_left_padding",
        (1, 2, 5, 5),
        F.max_pool2d,
        TF.max_pool2d,
        {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True, "return_indices": True},
    ),
]

AVG_ROWS = _avg_rows(26, seed=12) + [
    _row(
        "avg_pool2d_lenet_2x2",
        (4, 6, 28, 28),
        F.avg_pool2d,
        TF.avg_pool2d,
        {"kernel_size": 2},
        small_shape=(1, 2, 4, 4),
    ),
    _row(
        "avg_pool2d_ceil_pad_border_divisor",
        (2, 3, 7, 8),
        F.avg_pool2d,
        TF.avg_pool2d,
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": True},
    ),
    _row(
        "avg_pool2d_ceil_pad_border_excl",
        (2, 3, 7, 8),
        F.avg_pool2d,
        TF.avg_pool2d,
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    ),
    _row(
        "avg_pool2d_ceil_overhang_no_pad",
        (1, 2, 6, 5),
        F.avg_pool2d,
        TF.avg_pool2d,
        {"kernel_size": 4, "stride": 3, "ceil_mode": True},
    ),
    _row(
        "avg_pool2d_unbatched", (3, 7, 6), F.avg_pool2d, TF.avg_pool2d, {"kernel_size": (2, 3), "stride": 1}
    ),
]

LP_ROWS = [
    OpCase(
        name=f"lp_pool2d_p{p}_k{k}_s{s}{'_ceil' if c else ''}",
        inputs=(lambda rng, shape=shape: [np.abs(rng.standard_normal(shape)) + 0.1])
        if positive
        else _normal(shape),
        striate=lambda x, p=p, k=k, s=s, c=c: F.lp_pool2d(x, p, k, s, c),
        torch=lambda x, p=p, k=k, s=s, c=c: TF.lp_pool2d(x, p, k, s, c),
        small_inputs=(lambda rng: [np.abs(rng.standard_normal((1, 2, 5, 5))) + 0.1])
        if positive
        else _normal((1, 2, 5, 5)),
    )
    for p, k, s, c, shape, positive in [
        (2, 2, None, False, (2, 3, 8, 8), False),
        (2, (3, 2), (2, 1), True, (2, 3, 9, 7), False),
        (3, 3, 2, False, (2, 2, 9, 9), True),
        (1.5, 2, 1, False, (1, 3, 6, 7), True),
        (4, 2, 2, True, (3, 2, 7, 7), False),
        (float("inf"), 2, 2, False, (2, 2, 6, 6), False),
    ]
]

ADAPTIVE_ROWS = [
    _row(
        f"adaptive_avg_pool2d_{shape}_{out}".replace(" ", ""),
        shape,
        F.adaptive_avg_pool2d,
        TF.adaptive_avg_pool2d,
        {"output_size": out},
        small_shape=small,
    )
    for shape, out, small in [
        ((2, 3, 8, 8), 1, (1, 2, 4, 4)),
        ((2, 3, 7, 9), (3, 4), (1, 2, 7, 9)),
        ((1, 2, 5, 5), (7, 3), None),
        ((2, 4, 10, 6), (None, 4), (1, 2, 5, 6)),
        ((3, 16, 32, 32), (6, 6), (1, 1, 13, 13)),
    ]
] + [
    _row(
        f"adaptive_max_pool2d_{shape}_{out}".replace(" ", ""),
        shape,
        F.adaptive_max_pool2d,
        TF.adaptive_max_pool2d,
        {"output_size": out, "return_indices": ri},
        ties=ties,
        small_shape=small,
    )
    for shape, out, ri, ties, small in [
        ((2, 3, 8, 8), 1, True, False, (1, 2, 4, 4)),
        ((2, 3, 7, 9), (3, 4), False, False, (1, 2, 7, 9)),
        ((1, 2, 5, 5), (7, 3), True, False, None),
        ((2, 4, 10, 6), (None, 4), True, True, None),
        ((3, 8, 13, 11), (4, 5), True, False, (1, 1, 13, 11)),
    ]
]

ONE_D_ROWS = [
    _row(
        "max_pool1d_k3_s2_p1_d2_ceil",
        (2, 3, 11),
        F.max_pool1d,
        TF.max_pool1d,
        {
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
            "dilation": 2,
            "ceil_mode": True,
            "return_indices": True,
        },
    ),
    _row("max_pool1d_k2", (2, 3, 10), F.max_pool1d, TF.max_pool1d, {"kernel_size": 2}),
    _row(
        "avg_pool1d_k3_s2_p1_ceil_excl",
        (2, 3, 10),
        F.avg_pool1d,
        TF.avg_pool1d,
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    ),
]


@pytest.mark.parametrize("case", MAX_ROWS, ids=str)
def test_max_pool2d_parity(case, kernel_set):
    check_case(case)


@pytest.mark.parametrize("case", AVG_ROWS + LP_ROWS, ids=str)
def test_avg_and_lp_pool2d_parity(case):
    check_case(case)


@pytest.mark.parametrize("case", ADAPTIVE_ROWS + ONE_D_ROWS, ids=str)
def test_adaptive_and_1d_pool_parity(case, kernel_set):
    check_case(case)


def test_pool_sweep_covers_the_brief():
    rows = [c.extra for c in MAX_ROWS[:40]]
    assert any(r["ceil_mode"] for r in rows) and any(not r["ceil_mode"] for r in rows)
    assert any(max(r["dilation"]) > 1 for r in rows) and any(max(r["padding"]) > 0 for r in rows)
    assert any(r["kernel_size"][0] != r["kernel_size"][1] for r in rows)
    assert any(r["shape"][2] != r["shape"][3] for r in rows)
    assert any(r["stride"] != r["kernel_size"] for r in rows)
    assert sum(c.gradcheck for c in MAX_ROWS + AVG_ROWS) >= 20


def test_max_pool_nan_propagates_like_torch(kernel_set):
    x = np.array([[[[1.0, np.nan, 3.0, np.nan], [5.0, 0.0, np.nan, 2.0], [7.0, 7.0, 1.0, 1.0]]]], np.float32)
    for kw in (
        {"kernel_size": (1, 4)},
        {"kernel_size": 2, "stride": 1},
        {"kernel_size": 3, "padding": 1, "stride": 2},
    ):
        ys, is_ = F.max_pool2d(st.tensor(x), return_indices=True, **kw)
        yt, it = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(ys.numpy(), yt.numpy())  # NaN == NaN for assert_array_equal
        np.testing.assert_array_equal(is_.numpy(), it.numpy())
    ys, is_ = F.adaptive_max_pool2d(st.tensor(x), (2, 2), return_indices=True)
    yt, it = TF.adaptive_max_pool2d(torch.tensor(x), (2, 2), return_indices=True)
    np.testing.assert_array_equal(ys.numpy(), yt.numpy())
    np.testing.assert_array_equal(is_.numpy(), it.numpy())


def test_max_pool_ties_route_gradient_to_first_max(kernel_set):
    x = st.tensor([[[[2.0, 2.0], [2.0, 2.0]]]], requires_grad=True)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    y.sum().backward()
    assert idx.item() == 0
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 0], [0, 0]])


def test_max_pool_all_minus_inf_picks_first_valid(kernel_set):
    x = np.full((1, 1, 1, 4), -np.inf, np.float32)
    ys, is_ = F.max_pool2d(st.tensor(x), (1, 2), padding=(0, 1), return_indices=True)
    yt, it = TF.max_pool2d(torch.tensor(x), (1, 2), padding=(0, 1), return_indices=True)
    np.testing.assert_array_equal(ys.numpy(), yt.numpy())
    np.testing.assert_array_equal(is_.numpy(), it.numpy())


def test_seed003_alexnet_pool1_size():
    """Seed 003: POOL1 3x3 stride 2 on 55x55x96 -> 27x27x96 (no parameters)."""
    assert F.max_pool2d(st.zeros(1, 96, 55, 55), 3, stride=2).shape == (1, 96, 27, 27)


def _raises(match, fn, exc=ValueError):
    with pytest.raises(exc, match=match):
        fn()


def test_pool_bad_inputs():
    x = st.randn(1, 2, 6, 6)
    _raises(
        r"pad should be at most half of the kernel size.*padding=\(2, 2\), kernel_size=\(2, 2\)",
        lambda: F.max_pool2d(x, 2, padding=2),
    )
    _raises(r"pad should be at most half", lambda: F.avg_pool2d(x, 3, padding=2))
    _raises(r"output size \(2, 0, 0\) is too small: kernel \(7, 7\)", lambda: F.max_pool2d(x, 7))
    _raises(r"stride must be positive", lambda: F.max_pool2d(x, 3, stride=0))
    _raises(r"dilation must be positive", lambda: F.max_pool2d(x, 3, dilation=0))
    _raises(r"kernel_size must be positive", lambda: F.avg_pool2d(x, (0, 2)))
    _raises(r"padding must be non-negative", lambda: F.max_pool2d(x, 3, padding=-1))
    _raises(r"expected a non-empty 3-D \(C, H, W\) or 4-D", lambda: F.max_pool2d(st.randn(6, 6), 2))
    _raises(r"expected a non-empty 3-D", lambda: F.adaptive_avg_pool2d(st.randn(2, 1, 2, 3, 3), 1))
    _raises(r"output_size must be positive", lambda: F.adaptive_max_pool2d(x, (0, 2)))
    _raises(r"norm_type must be non-zero", lambda: F.lp_pool2d(x, 0, 2))
    _raises(r"expected a 2-D \(C, L\) or 3-D", lambda: F.max_pool1d(x, 2))

"""conv2d, conv1d and conv_transpose2d against PyTorch, on both kernel twins.

Rows come from a seeded random sweep (batch 1-8, channels 1-16, input 1-32 per side, non-square
kernels 1-7, stride 1-4, padding 0-3 / 'same' / 'valid', dilation 1-3, groups 1 / between /
depthwise, kernel exactly as large as the padded input) plus hand-picked rows, and every row
runs once with the Numba kernels and once with the NumPy reference kernels. The harness checks
forward and every gradient in float32 (1e-5 relative) and float64, and a float64 finite-
difference gradcheck on small cases. Then the lecture's worked examples and the bad-input errors.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import striate as st
import striate.nn.functional as F
from harness import GRADCHECK_MAX_ELEMENTS, OpCase, check_case

KERNEL_SETS = ["numba", "numpy"]


@pytest.fixture(params=KERNEL_SETS)
def kernel_set(request):
    with st.config.use_kernels(request.param):
        yield request.param


def _force_winograd(monkeypatch) -> None:
    """Every 3x3 and 5x5 stride-1 single-group layer takes the Winograd path, whatever its size."""
    from striate import tuning

    monkeypatch.setattr(tuning, "WINOGRAD_MIN_IN_CHANNELS", {3: 1, 5: 1})
    monkeypatch.setattr(tuning, "WINOGRAD_MIN_OUT_CHANNELS", 1)
    monkeypatch.setattr(tuning, "WINOGRAD_MAX_WEIGHT_VALUES", 10**9)
    monkeypatch.setattr(tuning, "WINOGRAD_MIN_SIDE", {3: 1, 5: 1})


@pytest.fixture(params=["per_image_chunks", "stacked", "winograd", "reference"])
def conv_layout(request, monkeypatch):
    """The paths of the im2col convolution: one product per image, processed an image per chunk on two threads
    (so chunk and thread boundaries are crossed; every product, however small, on striate's
    private serial BLAS); all images stacked side by side; and Winograd
    F(2x2, 3x3) and F(2x2, 5x5) for every 3x3 and 5x5 stride-1 layer (an image per chunk, two
    threads; other rows run the per-image im2col path); and the reference path
    (`st.config.use_reference()`, the definition in plain NumPy), held to PyTorch on every row."""
    from striate import tuning

    if request.param == "reference":  # the lecture's plain NumPy (st.config.use_reference)
        monkeypatch.setitem(st.config._state, "reference", True)
        return request.param
    if request.param == "stacked":
        monkeypatch.setattr(tuning, "STACK_BELOW", 10**9)
    else:
        monkeypatch.setattr(tuning, "STACK_BELOW", 0)
        monkeypatch.setattr(tuning, "CHUNK_BYTES", 1)
        monkeypatch.setitem(st.config._state, "threads", 2)
        from striate.kernels import gemm_serial  # every product on the private serial BLAS

        monkeypatch.setattr(gemm_serial, "OPENBLAS_SERIAL_MACS", 0)
    if request.param == "winograd":
        _force_winograd(monkeypatch)
    return request.param


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _conv_row(name, x_shape, w_shape, bias, kwargs, fn_s, fn_t, small=None, rtol32=1e-5, notes=""):
    shapes = [x_shape, w_shape] + (
        [(w_shape[0] if fn_s is not F.conv_transpose2d else w_shape[1] * kwargs.get("groups", 1),)]
        if bias
        else []
    )
    count = sum(int(np.prod(s)) for s in shapes)

    def make(rng, shapes=shapes):
        return [rng.standard_normal(s) for s in shapes]

    small_make = None
    if small is not None:
        small_shapes = [small[0], small[1]] + shapes[2:]
        count = sum(int(np.prod(s)) for s in small_shapes)

        def small_make(rng, shapes=small_shapes):
            return [rng.standard_normal(s) for s in shapes]

    return OpCase(
        name=name,
        inputs=make,
        striate=lambda *a: fn_s(*a, **kwargs),
        torch=lambda *a: fn_t(*a, **kwargs),
        gradcheck=count <= GRADCHECK_MAX_ELEMENTS,
        small_inputs=small_make,
        rtol32=rtol32,
        notes=notes,
        extra={"x": x_shape, "w": w_shape, **kwargs},
    )


def _sweep_conv2d(n: int, seed: int) -> list[OpCase]:
    rng = np.random.default_rng(seed)
    rows = []
    while len(rows) < n:
        N = int(rng.integers(1, 9))
        C = int(rng.integers(1, 17))
        G = int(rng.choice([1, C, int(rng.choice(_divisors(C)))]))
        O = G * int(rng.integers(1, max(2, 16 // G + 1)))
        kh, kw = (int(v) for v in rng.integers(1, 8, 2))
        dh, dw = (int(v) for v in rng.choice([1, 1, 2, 3], 2))
        kind = rng.choice(["int", "pair", "same", "valid", "exact"])
        stride = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        if kind == "same":
            stride = (1, 1)
            padding = "same"
            ph = pw = 0
            H, W = (int(v) for v in rng.integers(1, 33, 2))
        else:
            ph, pw = (
                ((int(rng.integers(0, 4)),) * 2)
                if kind == "int"
                else ((0, 0) if kind == "valid" else (int(rng.integers(0, 4)), int(rng.integers(0, 4))))
            )
            padding = ph if kind == "int" else ("valid" if kind == "valid" else (ph, pw))
            span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
            if kind == "exact":  # the kernel exactly covers the padded input
                H, W = span_h - 2 * ph, span_w - 2 * pw
            else:
                H, W = int(rng.integers(1, 33)), int(rng.integers(1, 33))
            if H < 1 or W < 1 or span_h > H + 2 * ph or span_w > W + 2 * pw:
                continue
        if N * C * H * W > 40_000 or O * (C // G) * kh * kw * N * H * W > 6_000_000:
            continue  # keep the whole file fast on two shared cores
        bias = bool(rng.integers(0, 2))
        kwargs = {"stride": stride, "padding": padding, "dilation": (dh, dw), "groups": G}
        name = (
            f"conv2d_N{N}C{C}x{H}x{W}_O{O}k{kh}x{kw}_s{stride[0]}{stride[1]}_p{padding}"
            f"_d{dh}{dw}_g{G}{'_b' if bias else ''}"
        ).replace(" ", "")
        small = None
        w_count = O * (C // G) * kh * kw + (O if bias else 0)
        if w_count + C * H * W > GRADCHECK_MAX_ELEMENTS:
            # the same geometry on one smaller image (still at least as large as the kernel)
            pad_h, pad_w = (dh * (kh - 1), dw * (kw - 1)) if padding == "same" else (2 * ph, 2 * pw)
            hs = min(H, max(1, dh * (kh - 1) + 1 - pad_h) + 1)
            ws = min(W, max(1, dw * (kw - 1) + 1 - pad_w) + 1)
            if C * hs * ws + w_count <= GRADCHECK_MAX_ELEMENTS:
                small = ((1, C, hs, ws), (O, C // G, kh, kw))
        rows.append(
            _conv_row(name, (N, C, H, W), (O, C // G, kh, kw), bias, kwargs, F.conv2d, TF.conv2d, small=small)
        )
    return rows


CONV2D_ROWS = _sweep_conv2d(60, seed=3)

HAND_ROWS = [
    _conv_row(
        "conv2d_lenet_c1",
        (4, 1, 32, 32),
        (6, 1, 5, 5),
        True,
        {},
        F.conv2d,
        TF.conv2d,
        small=((1, 1, 7, 7), (6, 1, 5, 5)),
    ),
    _conv_row(
        "conv2d_cifar_3x3_pad1", (2, 8, 16, 16), (8, 8, 3, 3), True, {"padding": 1}, F.conv2d, TF.conv2d
    ),
    _conv_row(
        "conv2d_same_even_kernel_asymmetric",
        (2, 3, 9, 8),
        (4, 3, 4, 2),
        True,
        {"padding": "same"},
        F.conv2d,
        TF.conv2d,
        small=((1, 3, 5, 4), (4, 3, 4, 2)),
    ),
    _conv_row(
        "conv2d_same_dilated_even",
        (1, 2, 7, 6),
        (3, 2, 2, 4),
        False,
        {"padding": "same", "dilation": (3, 1)},
        F.conv2d,
        TF.conv2d,
    ),
    _conv_row(
        "conv2d_depthwise_multiplier2",
        (3, 6, 10, 11),
        (12, 1, 3, 3),
        True,
        {"groups": 6, "padding": 1, "stride": 2},
        F.conv2d,
        TF.conv2d,
        small=((1, 6, 5, 5), (12, 1, 3, 3)),
    ),
    _conv_row(
        "conv2d_1x1_pointwise",
        (4, 16, 5, 5),
        (8, 16, 1, 1),
        True,
        {},
        F.conv2d,
        TF.conv2d,
        small=((1, 16, 2, 2), (8, 16, 1, 1)),
    ),
    _conv_row("conv2d_1x1_input", (3, 2, 1, 1), (5, 2, 1, 1), True, {}, F.conv2d, TF.conv2d),
    _conv_row("conv2d_unbatched", (3, 6, 7), (2, 3, 3, 2), True, {"stride": (2, 1)}, F.conv2d, TF.conv2d),
    _conv_row(
        "conv2d_stride_larger_than_kernel",
        (2, 2, 13, 13),
        (3, 2, 2, 2),
        True,
        {"stride": 4},
        F.conv2d,
        TF.conv2d,
    ),
    _conv_row(
        "conv2d_long_weight_reduction",
        (8, 4, 32, 32),
        (6, 4, 3, 3),
        True,
        {"padding": 1},
        F.conv2d,
        TF.conv2d,
        small=((1, 4, 5, 5), (6, 4, 3, 3)),
    ),
]

def _sweep_winograd(n: int, seed: int) -> list[OpCase]:
    """3x3 and 5x5 stride-1 layers (the Winograd path's domain): odd and even sizes down to 1
    pixel, every padding that applies, with and without bias."""
    rng = np.random.default_rng(seed)
    rows = []
    while len(rows) < n:
        k = int(rng.choice([3, 5]))
        N, C, O = int(rng.integers(1, 5)), int(rng.integers(1, 9)), int(rng.integers(1, 9))
        H, W = (int(v) for v in rng.integers(1, 20, 2))
        padding = rng.choice(["same", "valid", 0, 1, 2, "pair"])
        padding = (int(rng.integers(0, 3)), int(rng.integers(0, 3))) if padding == "pair" else padding
        padding = padding if isinstance(padding, tuple) or padding in ("same", "valid") else int(padding)
        ph, pw = (k // 2, k // 2) if padding == "same" else (0, 0) if padding == "valid" else \
            (padding if isinstance(padding, tuple) else (padding, padding))
        if H + 2 * ph < k or W + 2 * pw < k:
            continue
        bias = bool(rng.integers(0, 2))
        name = f"winograd_N{N}C{C}x{H}x{W}_O{O}k{k}_p{padding}{'_b' if bias else ''}".replace(" ", "")
        small = ((1, 1, min(H, 6), min(W, 6)), (O, 1, k, k)) if ph and pw else None  # for gradcheck
        rows.append(_conv_row(name, (N, C, H, W), (O, C, k, k), bias, {"padding": padding}, F.conv2d,
                              TF.conv2d, small=small))
    return rows


WINOGRAD_ROWS = _sweep_winograd(40, seed=11)

CONV1D_ROWS = [
    _conv_row(f"conv1d_{i}", (N, C, L), (O, C // G, k), b, kw, F.conv1d, TF.conv1d)
    for i, (N, C, L, O, k, G, b, kw) in enumerate(
        [
            (2, 3, 10, 4, 3, 1, True, {}),
            (1, 4, 9, 4, 2, 4, False, {"groups": 4, "padding": "same"}),
            (3, 2, 12, 6, 3, 2, True, {"groups": 2, "stride": 3, "padding": 2, "dilation": 2}),
            (2, 1, 5, 2, 5, 1, True, {"padding": "valid"}),
            (2, 3, 8, 2, 4, 1, False, {"padding": "same", "dilation": 2}),
            (1, 2, 7, 3, 3, 1, True, {"stride": 2, "padding": 1}),
        ]
    )
] + [
    _conv_row("conv1d_unbatched", (3, 11), (2, 3, 4), True, {"padding": 3, "stride": 2}, F.conv1d, TF.conv1d)
]


def _transpose_rows() -> list[OpCase]:
    specs = [
        # (N, Cin, H, W, Cout_per_group, kh, kw, groups, kwargs)
        (2, 3, 5, 4, 2, 3, 3, 1, {}),
        (2, 4, 4, 5, 3, 3, 2, 2, {"stride": 2, "padding": 1, "output_padding": 1}),
        (1, 2, 3, 3, 2, 4, 4, 1, {"stride": 2, "padding": 1}),  # U-Net style 2x up-convolution
        (3, 6, 4, 4, 1, 3, 3, 6, {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2)}),
        (2, 2, 4, 3, 3, 2, 3, 1, {"dilation": (2, 1), "stride": 2, "output_padding": (1, 0)}),
        (1, 4, 6, 5, 2, 2, 2, 2, {"stride": 2}),
        (2, 3, 7, 7, 4, 5, 5, 1, {"stride": 3, "padding": 2, "dilation": 2, "output_padding": 2}),
        (4, 8, 8, 8, 4, 4, 4, 1, {"stride": 2, "padding": 1}),
    ]
    rows = []
    for i, (N, Cin, H, W, Cog, kh, kw, G, kwargs) in enumerate(specs):
        kwargs = dict(kwargs, groups=G)
        for bias in (True, False):
            small = (
                ((1, Cin, 2, 2), (Cin, Cog, kh, kw)) if N * Cin * H * W + Cin * Cog * kh * kw > 300 else None
            )
            rows.append(
                _conv_row(
                    f"conv_transpose2d_{i}{'_b' if bias else ''}",
                    (N, Cin, H, W),
                    (Cin, Cog, kh, kw),
                    bias,
                    kwargs,
                    F.conv_transpose2d,
                    TF.conv_transpose2d,
                    small=small,
                )
            )
    rows.append(
        _conv_row(
            "conv_transpose2d_unbatched",
            (2, 3, 3),
            (2, 3, 2, 2),
            True,
            {"stride": 2},
            F.conv_transpose2d,
            TF.conv_transpose2d,
        )
    )
    return rows


TRANSPOSE_ROWS = _transpose_rows()


@pytest.mark.parametrize("case", CONV2D_ROWS + HAND_ROWS, ids=str)
def test_conv2d_parity(case, kernel_set, conv_layout):
    check_case(case)


@pytest.mark.parametrize("case", WINOGRAD_ROWS, ids=str)
@pytest.mark.parametrize("chunk_bytes", [1, 10**9], ids=["image_chunks", "run_chunks"])
def test_conv2d_winograd_parity(case, kernel_set, chunk_bytes, monkeypatch):
    """Forward, every gradient and a float64 gradcheck through Winograd F(2x2, 3x3) on two
    threads, with chunks of one image and with each thread's whole run in one chunk (the
    forward then puts several images side by side in one strip)."""
    from striate import tuning

    _force_winograd(monkeypatch)
    monkeypatch.setattr(tuning, "CHUNK_BYTES", chunk_bytes)
    monkeypatch.setitem(st.config._state, "threads", 2)
    check_case(case)


def test_winograd_takes_the_layers_where_it_pays():
    """The default thresholds send the CIFAR net's 32- and 64-channel 3x3 layers, ResNet-18's
    up to 256 channels and the 6->16 and 16->32 5x5 layers of LeNet-5 and the MNIST ConvNet
    through Winograd, and first layers, strided or dilated layers, 512-channel layers and 4 x 4
    planes to im2col."""
    from striate.ops import winograd

    def takes(C, O, side, stride=1, dilation=1, groups=1):
        return winograd.applies((3, 3, stride, stride, dilation, dilation, side, side), groups, C, O)

    assert takes(32, 32, 32) and takes(32, 64, 16) and takes(64, 64, 16)
    assert winograd.applies((5, 5, 1, 1, 1, 1, 14, 14), 1, 16, 32)  # the MNIST ConvNet's second layer
    assert winograd.applies((5, 5, 1, 1, 1, 1, 8, 8), 1, 6, 16)  # LeNet-5's second
    assert not winograd.applies((5, 5, 1, 1, 1, 1, 24, 24), 1, 1, 6)  # LeNet-5's first
    assert takes(128, 128, 16) and takes(64, 64, 8)  # ResNet-18's 128-channel stage; an 8 x 8 plane
    assert takes(256, 256, 8) and not takes(512, 512, 8)  # ResNet-18's 256-channel stage; a wider layer
    assert not takes(3, 32, 32) and not takes(512, 512, 4) and not takes(64, 64, 4)
    assert not takes(32, 32, 32, stride=2) and not takes(32, 32, 32, dilation=2)
    assert not takes(32, 32, 32, groups=2)


@pytest.mark.parametrize("C, side, O, k", [(32, 32, 32, 3), (16, 14, 32, 5)], ids=["cifar_3x3", "mnist_5x5"])
def test_winograd_default_path_matches_torch_on_real_layers(C, side, O, k):
    """Full-size layers on the default path (no forcing): float32 within 1e-5 of PyTorch."""
    from striate.ops import winograd

    assert winograd.applies((k, k, 1, 1, 1, 1, side, side), 1, C, O)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, C, side, side)).astype(np.float32)
    w = (rng.standard_normal((O, C, k, k)) * 0.1).astype(np.float32)
    b = rng.standard_normal(O).astype(np.float32)
    g = rng.standard_normal((3, O, side, side)).astype(np.float32)
    xs, ws, bs = (st.tensor(a, requires_grad=True) for a in (x, w, b))
    F.conv2d(xs, ws, bs, padding=k // 2).backward(st.tensor(g))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = TF.conv2d(xt, wt, bt, padding=k // 2)
    yt.backward(torch.tensor(g))
    ys = F.conv2d(st.tensor(x), st.tensor(w), st.tensor(b), padding=k // 2).numpy()
    for mine, theirs in ((ys, yt), (xs.grad.numpy(), xt.grad), (ws.grad.numpy(), wt.grad),
                         (bs.grad.numpy(), bt.grad)):
        theirs = theirs.detach().numpy()
        assert mine.dtype == np.float32
        assert np.abs(mine - theirs).max() <= 1e-5 * np.abs(theirs).max()


@pytest.mark.parametrize("case", CONV1D_ROWS, ids=str)
def test_conv1d_parity(case, kernel_set, conv_layout):
    check_case(case)


@pytest.mark.parametrize("case", TRANSPOSE_ROWS, ids=str)
def test_conv_transpose2d_parity(case, kernel_set):
    check_case(case)


def test_sweep_covers_the_brief():
    """The random sweep really exercises every feature the issue lists."""
    rows = [c.extra for c in CONV2D_ROWS]
    assert any(r["padding"] == "same" for r in rows) and any(r["padding"] == "valid" for r in rows)
    assert any(r["stride"][0] > 1 for r in rows) and any(r["stride"][1] > 1 for r in rows)
    assert any(max(r["dilation"]) > 1 for r in rows)
    assert any(r["w"][2] != r["w"][3] for r in rows)  # non-square kernels
    assert any(r["x"][2] != r["x"][3] for r in rows)  # non-square inputs
    assert any(r["groups"] == 1 for r in rows)
    assert any(r["groups"] == r["x"][1] > 1 for r in rows)  # depthwise
    assert any(1 < r["groups"] < r["x"][1] for r in rows)  # in between
    assert any(r["x"][0] == 8 for r in rows) and any(r["x"][1] >= 12 for r in rows)
    exact = [
        r
        for r in rows
        if isinstance(r["padding"], tuple)
        and r["x"][2] + 2 * r["padding"][0] == r["dilation"][0] * (r["w"][2] - 1) + 1
    ]
    assert exact  # kernel exactly as large as the padded input
    assert sum(c.gradcheck for c in CONV2D_ROWS) >= 15


# ---------------------------------------------------------------------------- lecture examples
SEED001_IMAGE = np.array(
    [
        [0, 0, 0, 0, 0, 0],
        [0, 1, 2, 2, 1, 0],
        [0, 2, 4, 4, 2, 0],
        [0, 1, 3, 3, 1, 0],
        [0, 1, 2, 3, 1, 0],
        [0, 0, 1, 1, 0, 0],
    ],
    dtype=np.float32,
)
LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32)


def _as_nchw(a: np.ndarray) -> st.Tensor:
    return st.tensor(a[None, None])


def test_seed001_laplacian_valid(kernel_set):
    out = F.conv2d(_as_nchw(SEED001_IMAGE), _as_nchw(LAPLACIAN))
    # the slide prints 3 at row 3, column 4; 2 is the right value (see SPEC)
    expected = [[0, -1, -1, 0], [-2, -5, -5, -2], [2, -2, -1, 2], [-1, 0, -5, 0]]
    np.testing.assert_array_equal(out.numpy()[0, 0], expected)


def test_seed001_laplacian_padding_1(kernel_set):
    out = F.conv2d(_as_nchw(SEED001_IMAGE), _as_nchw(LAPLACIAN), padding=1)
    assert out.shape == (1, 1, 6, 6)
    ref = TF.conv2d(torch.tensor(SEED001_IMAGE[None, None]), torch.tensor(LAPLACIAN[None, None]), padding=1)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(
        out.numpy()[0, 0, 1:5, 1:5], F.conv2d(_as_nchw(SEED001_IMAGE), _as_nchw(LAPLACIAN)).numpy()[0, 0]
    )


def test_seed001_2x2_kernel_stride_2(kernel_set):
    k = np.array([[0, 1], [1, -2]], dtype=np.float32)
    out = F.conv2d(_as_nchw(SEED001_IMAGE), _as_nchw(k), stride=2)
    np.testing.assert_array_equal(out.numpy()[0, 0], [[-2, -2, 1], [0, 1, 1], [1, 2, 0]])


@pytest.mark.parametrize("stride, size", [(1, 5), (2, 3), (3, 2)])
def test_seed002_7x7_input_3x3_filter(stride, size, kernel_set):
    """(W - F + 2P)/S + 1 = (7 - 3)/S + 1: 5 for S=1, 3 for S=2; for S=3 it is 2.33 ("doesn't fit"),
    and conv2d floors to 2 exactly as PyTorch does (the sizing tool is what flags it)."""
    out = F.conv2d(st.randn(1, 1, 7, 7), st.randn(1, 1, 3, 3), stride=stride)
    assert out.shape == (1, 1, size, size)


def test_seed002_curve_detector_receptive_field(kernel_set):
    """Seed 002: the curve-detector filter over a receptive field that holds a curve gives
    (50*30)+(50*30)+(50*30)+(20*30)+(50*30) = 6600, 'a large number'."""
    field = np.array(
        [
            [0, 0, 0, 0, 0, 0, 0, 30],
            [0, 0, 0, 0, 50, 50, 50, 0],
            [0, 0, 0, 20, 50, 0, 0, 0],
            [0, 0, 0, 50, 50, 0, 0, 0],
            [0, 0, 0, 50, 50, 0, 0, 0],
            [0, 0, 0, 50, 50, 0, 0, 0],
            [0, 0, 0, 50, 50, 0, 0, 0],
            [0, 0, 0, 50, 50, 0, 0, 0],
        ],
        dtype=np.float32,
    )
    curve = np.zeros((8, 8), dtype=np.float32)
    curve[0, 6] = curve[1, 4] = 30
    curve[2:6, 3] = 30
    out = F.conv2d(_as_nchw(field), _as_nchw(curve))
    assert out.shape == (1, 1, 1, 1)
    assert out.item() == 6600


def test_conv2d_keeps_float32_and_skips_unneeded_grads(kernel_set):
    x = st.randn(2, 3, 8, 8)
    w = st.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    assert y.dtype == st.float32
    # the backward keeps the input itself (not a padded copy: it pads again chunk by chunk) and
    # the weight, no im2col columns
    saved = [v for v in vars(y.grad_fn).values() if isinstance(v, np.ndarray)]
    assert sorted(a.shape for a in saved) == [(2, 3, 8, 8), (4, 3, 3, 3)]
    assert any(a is x.array for a in saved)
    assert np.shares_memory(y.grad_fn.w, w.numpy())
    y.sum().backward()
    assert w.grad.dtype == st.float32 and x.grad is None


def test_kernel_twins_agree_on_conv(kernel_set, conv_layout):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 11, 9)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 4)).astype(np.float32)
    out = {}
    for name in KERNEL_SETS:
        with st.config.use_kernels(name):
            out[name] = F.conv2d(
                st.tensor(x), st.tensor(w), stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2
            ).numpy()
    np.testing.assert_array_equal(out["numba"], out["numpy"])


# ---------------------------------------------------------------------------- bad input
def _raises(match, fn, exc=ValueError):
    with pytest.raises(exc, match=match):
        fn()


def test_conv_bad_inputs():
    x = st.randn(2, 3, 8, 8)
    _raises(
        r"input has 3 channels but weight expects 4 \(weight shape \(5, 4, 3, 3\)",
        lambda: F.conv2d(x, st.randn(5, 4, 3, 3)),
    )
    _raises(
        r"groups=2 must divide both in_channels \(3\)", lambda: F.conv2d(x, st.randn(4, 1, 3, 3), groups=2)
    )
    _raises(r"kernel 5 > padded input 4", lambda: F.conv2d(st.randn(1, 1, 4, 4), st.randn(1, 1, 5, 5)))
    _raises(
        r"dilated kernel 7 .* > padded input 6",
        lambda: F.conv2d(st.randn(1, 1, 4, 4), st.randn(1, 1, 3, 3), padding=1, dilation=3),
    )
    _raises(r"stride must be positive", lambda: F.conv2d(x, st.randn(1, 3, 3, 3), stride=0))
    _raises(r"dilation must be positive", lambda: F.conv2d(x, st.randn(1, 3, 3, 3), dilation=(1, -1)))
    _raises(
        r"padding='same' is not supported for strided",
        lambda: F.conv2d(x, st.randn(1, 3, 3, 3), stride=2, padding="same"),
    )
    _raises(
        r"padding must be an int, a tuple, 'valid' or 'same'",
        lambda: F.conv2d(x, st.randn(1, 3, 3, 3), padding="full"),
    )
    _raises(r"padding must be non-negative", lambda: F.conv2d(x, st.randn(1, 3, 3, 3), padding=-1))
    _raises(r"expected a 4-D input", lambda: F.conv2d(st.randn(8, 8), st.randn(1, 1, 3, 3)))
    _raises(r"weight must have 4 dimensions", lambda: F.conv2d(x, st.randn(3, 3, 3)))
    _raises(r"bias must have shape \(5,\)", lambda: F.conv2d(x, st.randn(5, 3, 3, 3), st.randn(4)))
    _raises(
        r"must be the same floating dtype",
        lambda: F.conv2d(x, st.randn(1, 3, 3, 3, dtype=st.float64)),
        TypeError,
    )
    _raises(r"stride must have 2 values", lambda: F.conv2d(x, st.randn(1, 3, 3, 3), stride=(1, 2, 3)))
    _raises(r"expected a 3-D input", lambda: F.conv1d(st.randn(2, 3, 4, 5), st.randn(1, 3, 3)))
    _raises(r"kernel 4 > padded input 3 along length", lambda: F.conv1d(st.randn(1, 1, 3), st.randn(1, 1, 4)))
    _raises(
        r"output_padding \(2, 2\) must be smaller than either stride",
        lambda: F.conv_transpose2d(x, st.randn(3, 2, 3, 3), stride=2, output_padding=2),
    )
    _raises(r"input has 3 channels but weight expects 2", lambda: F.conv_transpose2d(x, st.randn(2, 2, 3, 3)))
    _raises(
        r"output size .* is not positive",
        lambda: F.conv_transpose2d(st.randn(1, 1, 1, 1), st.randn(1, 1, 1, 1), padding=1),
    )


def test_conv2d_empty_batch_matches_torch(conv_layout):
    """A batch of zero images gives an empty output and zero weight/bias gradients."""
    x = st.randn(0, 3, 8, 8, requires_grad=True)
    w = st.randn(4, 3, 3, 3, requires_grad=True)
    b = st.randn(4, requires_grad=True)
    y = F.conv2d(x, w, b, padding=1)
    assert y.shape == (0, 4, 8, 8)
    y.sum().backward()
    assert x.grad.shape == (0, 3, 8, 8)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((4, 3, 3, 3), np.float32))
    np.testing.assert_array_equal(b.grad.numpy(), np.zeros(4, np.float32))

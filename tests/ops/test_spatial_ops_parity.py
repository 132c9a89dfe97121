"""pixel_shuffle / pixel_unshuffle, unfold / fold, affine_grid / grid_sample and max_unpool
against PyTorch (forward and backward, float32 and float64, gradcheck), plus their errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import striate as st
import striate.nn.functional as F
from harness import OpCase, check_case


def _normal(*shape):
    return lambda rng: [rng.standard_normal(shape)]


SHUFFLE_ROWS = (
    [
        OpCase(
            f"pixel_shuffle_{shape}_r{r}",
            _normal(*shape),
            lambda x, r=r: F.pixel_shuffle(x, r),
            lambda x, r=r: TF.pixel_shuffle(x, r),
        )
        for shape, r in [((2, 8, 3, 4), 2), ((9, 2, 3), 3), ((2, 1, 4, 1, 1), 2), ((1, 3, 2, 2), 1)]
    ]
    + [
        # empty batch: forward only (PyTorch's own backward rejects it: "invalid gradient ... [0, 1, 4, 4]")
        OpCase(
            "pixel_shuffle_empty_batch",
            _normal(0, 4, 2, 2),
            lambda x: F.pixel_shuffle(x, 2),
            lambda x: TF.pixel_shuffle(x, 2),
            backward=False,
        ),
    ]
    + [
        OpCase(
            f"pixel_unshuffle_{shape}_r{r}",
            _normal(*shape),
            lambda x, r=r: F.pixel_unshuffle(x, r),
            lambda x, r=r: TF.pixel_unshuffle(x, r),
        )
        for shape, r in [((2, 2, 4, 6), 2), ((1, 6, 9), 3), ((3, 1, 2, 2, 2), 2)]
    ]
)

FOLD_SETTINGS = [
    {"kernel_size": 2},
    {"kernel_size": 3, "padding": 1},
    {"kernel_size": (2, 3), "dilation": (2, 1), "padding": (1, 2), "stride": (2, 1)},
    {"kernel_size": 1, "stride": 2},
    {"kernel_size": (3, 2), "stride": 3},  # blocks leave pixels uncovered
]


def _fold_rows():
    rows = []
    for shape in [(2, 3, 7, 6), (3, 5, 4)]:
        for i, kw in enumerate(FOLD_SETTINGS):
            rows.append(
                OpCase(
                    f"unfold_{shape}_{i}",
                    _normal(*shape),
                    lambda x, kw=kw: F.unfold(x, **kw),
                    lambda x, kw=kw: TF.unfold(x, **kw),
                    small_inputs=_normal(1, 2, *shape[-2:]),
                )
            )
            blocks = TF.unfold(torch.zeros(1, 1, *shape[-2:]), **kw).shape[-1]
            k = int(np.prod(np.broadcast_to(kw["kernel_size"], 2)))
            cols = (shape[0], shape[1] * k, blocks) if len(shape) == 4 else (shape[0] * k, blocks)
            size = shape[-2:]
            rows.append(
                OpCase(
                    f"fold_{cols}_{i}",
                    _normal(*cols),
                    lambda c, kw=kw, s=size: F.fold(c, s, **kw),
                    lambda c, kw=kw, s=size: TF.fold(c, s, **kw),
                    small_inputs=_normal(1, k, blocks),
                )
            )
    return rows


def _grid_rows():
    rows = []
    for mode in ("bilinear", "nearest"):
        for padding_mode in ("zeros", "border", "reflection"):
            for align in (False, True):

                def ours(x, g, m=mode, p=padding_mode, a=align):
                    return F.grid_sample(x, g, m, p, a)

                def theirs(x, g, m=mode, p=padding_mode, a=align):
                    return TF.grid_sample(x, g, m, p, a)

                rows.append(
                    OpCase(
                        f"grid_sample_{mode}_{padding_mode}_{align}",
                        lambda rng: [
                            rng.standard_normal((2, 3, 5, 4)),
                            1.4 * rng.standard_normal((2, 6, 7, 2)),
                        ],
                        ours,
                        theirs,
                        small_inputs=lambda rng: [
                            rng.standard_normal((1, 2, 4, 3)),
                            1.4 * rng.standard_normal((1, 3, 4, 2)),
                        ],
                    )
                )
    # a one-pixel-wide input and a grid at exactly the corners / outside
    rows.append(
        OpCase(
            "grid_sample_1px",
            lambda rng: [rng.standard_normal((1, 2, 1, 3)), rng.uniform(-1.2, 1.2, (1, 2, 5, 2))],
            lambda x, g: F.grid_sample(x, g, padding_mode="reflection", align_corners=True),
            lambda x, g: TF.grid_sample(x, g, padding_mode="reflection", align_corners=True),
        )
    )
    for align in (False, True):
        rows.append(
            OpCase(
                f"affine_grid_{align}",
                lambda rng: [rng.standard_normal((2, 2, 3))],
                lambda t, a=align: F.affine_grid(t, (2, 3, 4, 5), a),
                lambda t, a=align: TF.affine_grid(t, (2, 3, 4, 5), a),
            )
        )
    rows.append(
        OpCase(
            "affine_grid_1x1",
            lambda rng: [rng.standard_normal((1, 2, 3))],
            lambda t: F.affine_grid(t, (1, 1, 1, 3), False),
            lambda t: TF.affine_grid(t, (1, 1, 1, 3), False),
        )
    )
    rows.append(
        OpCase(
            "affine_grid_then_sample",
            lambda rng: [
                rng.standard_normal((2, 3, 6, 5)),
                np.array([[[0.9, 0.2, 0.1], [-0.3, 1.1, 0.05]]] * 2) + 0.1 * rng.standard_normal((2, 2, 3)),
            ],
            lambda x, t: F.grid_sample(x, F.affine_grid(t, (2, 3, 4, 4), False), align_corners=False),
            lambda x, t: TF.grid_sample(x, TF.affine_grid(t, (2, 3, 4, 4), False), align_corners=False),
        )
    )
    return rows


def _pooled(shape, kernel, stride=None, padding=0, dims=2):
    pool = TF.max_pool2d if dims == 2 else TF.max_pool1d

    def inputs(rng):
        x = torch.tensor(rng.standard_normal(shape))
        y, idx = pool(x, kernel, stride, padding, return_indices=True)
        return [y.numpy(), idx.numpy()]

    return inputs


UNPOOL_ROWS = [
    OpCase(
        "max_unpool2d_k2",
        _pooled((2, 3, 6, 4), 2),
        lambda y, i: F.max_unpool2d(y, i, 2),
        lambda y, i: TF.max_unpool2d(y, i, 2),
        grad=(0,),
    ),
    OpCase(
        "max_unpool2d_k3s2p1_size",
        _pooled((2, 2, 7, 7), 3, 2, 1),
        lambda y, i: F.max_unpool2d(y, i, 3, 2, 1, output_size=(7, 7)),
        lambda y, i: TF.max_unpool2d(y, i, 3, 2, 1, output_size=(7, 7)),
        grad=(0,),
        gradcheck=False,
    ),  # overlapping windows can pick one pixel twice: both copies get its
    # gradient in PyTorch too, which finite differences do not see
    OpCase(
        "max_unpool2d_unbatched_overlap",
        _pooled((3, 5, 5), 3, 1),
        lambda y, i: F.max_unpool2d(y, i, 3, 1),
        lambda y, i: TF.max_unpool2d(y, i, 3, 1),
        grad=(0,),
        gradcheck=False,
        backward=False,
    ),  # overlapping windows write one pixel twice
    OpCase(
        "max_unpool1d_k2",
        _pooled((2, 3, 9), 2, dims=1),
        lambda y, i: F.max_unpool1d(y, i, 2, output_size=[9]),
        lambda y, i: TF.max_unpool1d(y, i, 2, output_size=[9]),
        grad=(0,),
    ),
]


@pytest.mark.parametrize("case", SHUFFLE_ROWS + _fold_rows() + _grid_rows() + UNPOOL_ROWS, ids=str)
def test_spatial_parity(case):
    check_case(case)


def test_fold_of_unfold_counts_each_pixel_per_block():
    x = st.ones(1, 1, 4, 4)
    cover = F.fold(F.unfold(x, 3, padding=1), (4, 4), 3, padding=1)
    assert cover.numpy()[0, 0].tolist() == [[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]]


def test_maxpool_indices_round_trip_module():
    x = st.rand(2, 3, 6, 6) + 0.5  # positive: the zeros unpooling adds never win a window
    pool, unpool = st.nn.MaxPool2d(2, return_indices=True), st.nn.MaxUnpool2d(2)
    y, idx = pool(x)
    back = unpool(y, idx, output_size=x.shape)
    assert back.shape == x.shape
    assert np.array_equal(st.nn.functional.max_pool2d(back, 2).numpy(), y.numpy())


def test_grad_fn_names_are_torchs():
    x = st.randn(1, 4, 4, 4, requires_grad=True)
    assert F.pixel_shuffle(x, 2).grad_fn.name() == "PixelShuffleBackward0"
    assert F.unfold(x, 2).grad_fn.name() == "Im2ColBackward0"
    theta = st.randn(1, 2, 3, requires_grad=True)
    grid = F.affine_grid(theta, (1, 4, 3, 3), align_corners=False)
    assert grid.grad_fn.name() == "AffineGridGeneratorBackward0"
    assert F.grid_sample(x, grid, align_corners=False).grad_fn.name() == "GridSampler2DBackward0"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.pixel_shuffle(st.randn(1, 3, 4, 4), 2), "divisible by the square of upscale_factor"),
        (lambda: F.pixel_shuffle(st.randn(4, 4), 2), "at least 3 dimensions"),
        (lambda: F.pixel_shuffle(st.randn(1, 4, 4, 4), 0), "positive upscale_factor"),
        (lambda: F.pixel_unshuffle(st.randn(1, 3, 4, 5), 2), "width to be divisible"),
        (lambda: F.unfold(st.randn(1, 2, 3, 3), 4), "does not fit"),
        (lambda: F.unfold(st.randn(2, 3), 2), "expected a 3-D or 4-D input"),
        (lambda: F.fold(st.randn(1, 8, 5), (4, 4), 2), "expected the last dimension of the input to be 9"),
        (lambda: F.fold(st.randn(1, 7, 9), (4, 4), 2), "divisible by the product of kernel_size"),
        (lambda: F.grid_sample(st.randn(1, 1, 3, 3), st.randn(2, 2, 2, 2)), "same batch size"),
        (lambda: F.grid_sample(st.randn(1, 1, 3, 3), st.randn(1, 2, 2, 2), mode="bicubic"), "bicubic"),
        (
            lambda: F.grid_sample(st.randn(1, 1, 3, 3), st.randn(1, 2, 2, 2), padding_mode="wrap"),
            "padding_mode",
        ),
        (lambda: F.grid_sample(st.randn(1, 1, 3, 3, 3), st.randn(1, 2, 2, 2, 3)), "volumetric"),
        (lambda: F.grid_sample(st.randn(1, 1, 3, 3), st.randn(1, 2, 2, 2).double()), "same floating dtype"),
        (lambda: F.affine_grid(st.randn(1, 3, 3), (1, 1, 4, 4)), "(N, 2, 3)"),
        (lambda: F.affine_grid(st.randn(1, 3, 4), (1, 1, 2, 4, 4)), "volumetric"),
        (lambda: F.affine_grid(st.randn(0, 2, 3), (0, 1, 3, 3)), "non-zero, positive output size"),
        (
            lambda: F.max_unpool2d(st.randn(1, 1, 2, 2), st.zeros(1, 1, 2, 2, dtype=st.int64) + 20, 2),
            "invalid max index: 20",
        ),
        (
            lambda: F.max_unpool2d(
                st.randn(1, 1, 2, 2), st.zeros(1, 1, 2, 2, dtype=st.int64), 2, output_size=(9, 9)
            ),
            "invalid output_size",
        ),
        (
            lambda: F.max_unpool2d(st.randn(1, 1, 2, 2), st.zeros(1, 1, 2, 1, dtype=st.int64), 2),
            "must have the shape",
        ),
    ],
)
def test_clear_errors(call, message):
    with pytest.raises((ValueError, TypeError, NotImplementedError)) as err:
        call()
    assert message in str(err.value)


@pytest.mark.parametrize(
    "mode, pad, shape",
    [
        ("constant", (1, 1), (2, 3, 3)),
        ("reflect", (1, 1), (2, 3, 3)),
        ("replicate", (1, 1, 1, 1), (1, 2, 3, 3)),
        ("reflect", (1, 1, 1, 1, 1, 1), (1, 2, 3, 3, 3)),
        ("circular", (1, 1, 1, 1), (1, 2, 3, 3)),
    ],
)
def test_pad_node_names_are_torchs(mode, pad, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    ours = F.pad(st.tensor(x, requires_grad=True), pad, mode=mode)
    theirs = TF.pad(torch.tensor(x, requires_grad=True), pad, mode=mode)
    assert ours.grad_fn.name() == theirs.grad_fn.name()


def test_saved_inputs_modified_in_place_raise_as_in_torch():
    for lib, f in ((torch, TF), (st, F)):
        x = lib.randn(1, 2, 4, 4, requires_grad=True) * 1
        y = f.grid_sample(x, lib.randn(1, 3, 3, 2), align_corners=False)
        x.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        a, b = lib.randn(3, 4, requires_grad=True) * 1, lib.randn(3, 5, requires_grad=True)
        y = f.bilinear(a, b, lib.randn(2, 4, 5, requires_grad=True))
        a.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        # pixel_shuffle and unfold read nothing back: an in-place change afterwards is allowed
        x = lib.randn(1, 4, 2, 2, requires_grad=True) * 1
        y = f.pixel_shuffle(x, 2).sum() + f.unfold(x, 2).sum()
        x.add_(1)
        y.backward()


@pytest.mark.parametrize(
    "x_shape, grid_shape",
    [((0, 2, 4, 4), (0, 3, 3, 2)), ((1, 0, 4, 4), (1, 2, 3, 2)), ((1, 2, 4, 4), (1, 0, 3, 2))],
)
def test_grid_sample_empty_shapes(x_shape, grid_shape):
    outs = []
    for lib, f in ((torch, TF), (st, F)):
        x, grid = lib.zeros(x_shape, requires_grad=True), lib.zeros(grid_shape, requires_grad=True)
        y = f.grid_sample(x, grid, align_corners=False)
        y.sum().backward()
        outs.append((tuple(y.shape), tuple(x.grad.shape), tuple(grid.grad.shape)))
    assert outs[0] == outs[1]


def test_scatter_rows_twins_agree():
    from striate.kernels import grid_compiled, reference

    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        index = rng.integers(0, 50, (4, 300))
        weight = rng.random((4, 300)).astype(dtype) * (rng.random((4, 300)) > 0.2)
        g_rows = rng.standard_normal((300, 7)).astype(dtype)
        a = reference.scatter_rows(index, weight, g_rows, 60)
        b = grid_compiled.scatter_rows(index, weight, g_rows, 60)
        assert a.dtype == b.dtype == dtype and a.shape == (60, 7)
        np.testing.assert_allclose(a, b, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_numpy_kernels_parity(mode):
    with st.config.use_kernels("numpy"):
        check_case(
            OpCase(
                f"grid_sample_numpy_twin_{mode}",
                lambda rng: [rng.standard_normal((2, 3, 5, 4)), 1.4 * rng.standard_normal((2, 6, 7, 2))],
                lambda x, g: F.grid_sample(x, g, mode, "border", align_corners=True),
                lambda x, g: TF.grid_sample(x, g, mode, "border", align_corners=True),
                gradcheck=False,
            )
        )

"""The two kernel twins (NumPy reference, Numba compiled) give the same answers, and the
switches around them (STRIATE_KERNELS, set_kernels, use_kernels, threads) behave."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import striate as st
from striate.kernels import compiled, reference


def _geometries(n: int, seed: int):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        C, N = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        kh, kw = (int(v) for v in rng.integers(1, 6, 2))
        sh, sw = (int(v) for v in rng.integers(1, 5, 2))
        dh, dw = (int(v) for v in rng.integers(1, 4, 2))
        hp, wp = (int(v) for v in rng.integers(1, 20, 2))
        oh, ow = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
        if oh >= 1 and ow >= 1:
            out.append((C, N, hp, wp, kh, kw, sh, sw, dh, dw, oh, ow))
    return out


@pytest.mark.parametrize("geometry", _geometries(25, seed=1), ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_col2im_twins(geometry, dtype):
    C, N, hp, wp, kh, kw, sh, sw, dh, dw, oh, ow = geometry
    rng = np.random.default_rng(0)
    xp = (
        rng.standard_normal((N, C, hp, wp)).astype(dtype).transpose(1, 0, 2, 3)
    )  # a strided view, as conv uses
    col_ref = reference.im2col(xp, kh, kw, sh, sw, dh, dw, oh, ow)
    assert col_ref.dtype == dtype
    i, j, y, x = kh - 1, kw - 1, oh - 1, ow - 1  # spot-check the definition at the far corner
    np.testing.assert_array_equal(col_ref[:, i, j, :, y, x], xp[:, :, y * sh + i * dh, x * sw + j * dw])
    # col2im is im2col's adjoint: <im2col(x), c> == <x, col2im(c)>, and the twins agree bit for bit
    c = rng.standard_normal(col_ref.shape).astype(dtype)
    back_ref = reference.col2im(c, hp, wp, sh, sw, dh, dw)
    back_fast = compiled.col2im(c, hp, wp, sh, sw, dh, dw)
    np.testing.assert_array_equal(back_ref, back_fast)
    assert back_ref.dtype == dtype
    lhs = float((col_ref.astype(np.float64) * c).sum())
    rhs = float((xp.astype(np.float64) * back_ref).sum())
    assert abs(lhs - rhs) <= 1e-4 * (1 + abs(lhs))


def _window_cases(n: int, seed: int):
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        H, W = (int(v) for v in rng.integers(1, 16, 2))
        if i % 3 == 2:  # adaptive windows: [floor(iH/O), ceil((i+1)H/O))
            oh, ow = (int(v) for v in rng.integers(1, 9, 2))
            ih, iw = np.arange(oh), np.arange(ow)
            hs, he = ih * H // oh, -((-(ih + 1) * H) // oh)
            ws, we = iw * W // ow, -((-(iw + 1) * W) // ow)
            cases.append((H, W, hs, he, ws, we, int((he - hs).max()), int((we - ws).max()), 1, 1))
        else:  # max_pool windows with padding / stride / dilation
            kh, kw = (int(v) for v in rng.integers(1, 5, 2))
            sh, sw = (int(v) for v in rng.integers(1, 4, 2))
            dh, dw = (int(v) for v in rng.integers(1, 3, 2))
            ph, pw = int(rng.integers(0, kh // 2 + 1)), int(rng.integers(0, kw // 2 + 1))
            oh = max(1, (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1)
            ow = max(1, (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1)
            hs, ws = np.arange(oh) * sh - ph, np.arange(ow) * sw - pw
            cases.append((H, W, hs, np.full(oh, H), ws, np.full(ow, W), kh, kw, dh, dw))
    return cases


@pytest.mark.parametrize(
    "case", _window_cases(30, seed=2), ids=lambda c: f"{c[0]}x{c[1]}_k{c[6]}x{c[7]}_d{c[8]}{c[9]}"
)
@pytest.mark.parametrize("ties", [False, True])
def test_window_max_twins(case, ties):
    H, W, hs, he, ws, we, kh, kw, dh, dw = case
    rng = np.random.default_rng(4)
    x = (rng.integers(-2, 3, (5, H, W)) if ties else rng.standard_normal((5, H, W))).astype(np.float32)
    x[0, 0, 0] = np.nan  # NaN propagates identically
    args = (
        x,
        hs.astype(np.int64),
        he.astype(np.int64),
        ws.astype(np.int64),
        we.astype(np.int64),
        kh,
        kw,
        dh,
        dw,
    )
    m_ref, i_ref = reference.window_max(*args)
    m_fast, i_fast = compiled.window_max(*args)
    np.testing.assert_array_equal(m_ref, m_fast)
    np.testing.assert_array_equal(i_ref, i_fast)
    g = rng.standard_normal(m_ref.shape).astype(np.float32)
    b_ref = reference.window_max_backward(g, i_ref, H, W)
    b_fast = compiled.window_max_backward(g, i_fast, H, W)
    np.testing.assert_allclose(b_ref, b_fast, rtol=1e-6, atol=1e-6)
    assert b_ref.dtype == b_fast.dtype == np.float32
    np.testing.assert_allclose(
        b_ref.sum(), g[i_ref >= 0].sum(), rtol=1e-4, atol=1e-4
    )  # nothing lost or doubled


def test_switches():
    assert st.config.get_kernels() in ("numba", "numpy")
    before = st.config.get_kernels()
    with st.config.use_kernels("numpy"):
        assert st.config.get_kernels() == "numpy"
        with st.config.use_kernels("numba"):
            assert st.config.get_kernels() == "numba"
        assert st.config.get_kernels() == "numpy"
    assert st.config.get_kernels() == before
    with pytest.raises(ValueError, match="unknown kernel set 'cuda'; use one of numba, numpy"):
        st.config.set_kernels("cuda")


def test_thread_control():
    st.config.set_num_threads(1)
    try:
        assert st.config.get_num_threads() == 1
    finally:
        st.config.set_num_threads(None)
    with pytest.raises(ValueError, match="n >= 1"):
        st.config.set_num_threads(0)


def _run(code: str, **env) -> str:
    src = str(Path(__file__).resolve().parents[2] / "src")
    full_env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""), **env)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_env_var_import_is_lazy_and_numba_cache_is_on_disk():
    code = (
        "import sys, striate as st, striate.nn.functional as F\n"
        "print(st.config.get_kernels(), 'numba' in sys.modules)\n"
        "F.max_pool2d(st.randn(1, 1, 4, 4), 2)\n"
        "print('numba' in sys.modules)\n"
    )
    assert _run(code, STRIATE_KERNELS="numpy") == "numpy False\nFalse"
    assert _run(code, STRIATE_KERNELS="numba") == "numba False\nTrue"  # loaded only when a kernel ran
    cache = Path(compiled.__file__).parent / "__pycache__"
    index_files = list(cache.glob("compiled.window_max*.nbi"))
    assert index_files, f"no Numba cache index in {cache}"
    bad = subprocess.run(
        [sys.executable, "-c", "import striate.config"],
        capture_output=True,
        text=True,
        env=dict(os.environ, STRIATE_KERNELS="gpu"),
        timeout=120,
    )
    assert bad.returncode != 0 and "STRIATE_KERNELS='gpu' is not a kernel set" in bad.stderr


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_grad_twins_follow_torch_on_nan_and_inf(dtype):
    """The gradient is 0 where relu's output is <= 0, even where g is NaN or inf, and g elsewhere,
    a NaN output included (PyTorch's threshold_backward), in both twins."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal(300).astype(dtype)
    x[:4] = [np.nan, 0.0, -1.0, 2.0]
    g = rng.standard_normal(300).astype(dtype)
    g[:4] = [1.0, np.nan, np.inf, np.nan]
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).backward(torch.tensor(g))
    y = np.maximum(x, 0)
    for twin in (reference, compiled):
        out = np.empty_like(g)
        twin.relu_grad(g, y, out)
        np.testing.assert_array_equal(out, xt.grad.numpy())


@pytest.mark.parametrize("shape", [(4, 3, 50), (1, 1, 1), (7, 5, 1), (2, 4, 33)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_channel_kernel_twins(shape, dtype):
    """The four per-channel passes agree between twins and with their formulas in float64."""
    rng = np.random.default_rng(6)
    x, g = (rng.standard_normal(shape).astype(dtype) * 3 + 1 for _ in range(2))
    C = shape[1]
    m, a, d, b = (rng.standard_normal(C).astype(dtype) for _ in range(4))
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    mean = x64.mean(axis=(0, 2))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for twin in (reference, compiled):
        got_mean, got_var = twin.channel_moments(x)
        np.testing.assert_allclose(got_mean, mean, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got_var, x64.var(axis=(0, 2)), rtol=1e-12)
        sum_g, sum_gc = twin.channel_grad_sums(g, x, mean)
        np.testing.assert_allclose(sum_g, g64.sum(axis=(0, 2)), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(sum_gc, (g64 * (x64 - mean[:, None])).sum(axis=(0, 2)), rtol=1e-10,
                                   atol=1e-10)
        out = np.empty_like(x)
        twin.channel_affine(x, m, a, b, out)
        np.testing.assert_allclose(out, (x64 - m[:, None]) * a[:, None] + b[:, None], rtol=tol, atol=tol)
        twin.channel_affine_grad(g, x, m, a, d, b, out)
        expect = a[:, None] * g64 + d[:, None] * (x64 - m[:, None]) + b[:, None]
        np.testing.assert_allclose(out, expect, rtol=tol, atol=tol * np.abs(expect).max())


def _compiled_winograd(name: str, r: int):
    """The Numba kernel the dispatcher picks for F(2x2, r x r)."""
    from striate import kernels

    with st.config.use_kernels("numba"):
        fn = kernels._winograd(name, r)
    assert fn.__module__ == compiled.__name__, fn  # the Numba twin, not the reference
    return fn


WINOGRAD_CASES = [(3, (2, 3, 5, 7)), (3, (1, 4, 4, 4)), (3, (3, 2, 1, 1)), (3, (2, 5, 6, 3)),
                  (3, (1, 1, 2, 9)), (5, (2, 3, 5, 7)), (5, (1, 2, 1, 1)), (5, (2, 4, 6, 3))]


@pytest.mark.parametrize("r, shape", WINOGRAD_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_winograd_transform_twins(r, shape, dtype):
    """The four Winograd transforms of F(2x2, 3x3) and F(2x2, 5x5): twins agree, the grad kernels
    are the adjoints of the forward ones (<T(a), b> == <a, T*(b)>), and tiles -> products ->
    untile is an r x r convolution."""
    n, C, oh, ow = shape
    th, tw, t, O = -(-oh // 2), -(-ow // 2), r + 1, 3
    rng = np.random.default_rng(0)
    xp = rng.standard_normal((n, C, 2 * th + r - 1, 2 * tw + r - 1)).astype(dtype)
    m = rng.standard_normal((t * t, O, n * th * tw)).astype(dtype)
    z = rng.standard_normal((t * t, C, n * th * tw)).astype(dtype)
    g = rng.standard_normal((n, O, oh, ow)).astype(dtype)
    bias = rng.standard_normal(O).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12

    def close(a, b):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * np.abs(b).max())

    def untile(twin_untile):
        y = np.empty((n, O, oh, ow), dtype)
        twin_untile(m, bias, y)
        return y

    ref = (reference.winograd_tiles(xp, th, tw, r), untile(lambda *a: reference.winograd_untile(*a, r)),
           reference.winograd_grad_tiles(g, th, tw, r), reference.winograd_grad_untile(z, n, th, tw, r))
    fast = (_compiled_winograd("winograd_tiles", r)(xp, th, tw),
            untile(_compiled_winograd("winograd_untile", r)),
            _compiled_winograd("winograd_grad_tiles", r)(g, th, tw),
            _compiled_winograd("winograd_grad_untile", r)(z, n, th, tw))
    for a, b in zip(fast, ref):
        close(a, b)
    v, y, dm, dx = ref
    close(np.vdot(y - bias.reshape(1, O, 1, 1), g), np.vdot(m, dm))
    close(np.vdot(v, z), np.vdot(xp, dx))
    from striate.ops import winograd

    w = rng.standard_normal((O, C, r, r)).astype(dtype)
    y = np.empty((n, O, oh, ow), dtype)
    _compiled_winograd("winograd_untile", r)(np.matmul(winograd.weight_transform(w), v), bias, y)
    expect = torch.nn.functional.conv2d(torch.from_numpy(xp), torch.from_numpy(w), torch.from_numpy(bias))
    close(y, expect.numpy()[:, :, :oh, :ow])

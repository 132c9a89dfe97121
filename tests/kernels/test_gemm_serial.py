"""striate's private serial BLAS (`striate.kernels.gemm_serial`): np.matmul's answers on every
layout, and NumPy's own BLAS left exactly as it was."""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from striate.kernels import gemm_serial

pytestmark = pytest.mark.skipif(not gemm_serial.available(),
                                reason="no private serial BLAS here (needs glibc and NumPy's OpenBLAS)")

SHAPES = [((5, 7), (7, 3)), ((4, 50, 70), (70, 300)), ((50, 70), (4, 70, 300)),
          ((2, 1, 60, 70), (3, 70, 90)), ((1, 700), (700, 1)), ((300, 1), (1, 400)),
          ((64, 300), (300, 500))]


def _layouts(m: np.ndarray):
    """m as C-contiguous, as a transposed copy (column-major matrices), and with strided rows."""
    yield m
    yield np.swapaxes(np.swapaxes(m, -1, -2).copy(), -1, -2)
    if m.shape[-2] > 1:
        yield np.repeat(m, 2, axis=-2)[..., ::2, :]


@pytest.fixture(autouse=True)
def every_product_private(monkeypatch):
    monkeypatch.setattr(gemm_serial, "OPENBLAS_SERIAL_MACS", 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sa, sb", SHAPES, ids=[f"{a}@{b}" for a, b in SHAPES])
def test_matches_numpy_matmul_on_every_layout(sa, sb, dtype):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa).astype(dtype), rng.standard_normal(sb).astype(dtype)
    expected = np.matmul(a, b)
    scale = float(np.abs(expected).max(initial=1.0))  # the house floor: 1e-5 of the largest magnitude
    rel = 1e-5 if dtype == np.float32 else 1e-12
    tol = {"rtol": rel, "atol": rel * scale}
    for la in _layouts(a):
        for lb in _layouts(b):
            got = gemm_serial.matmul(la, lb)
            assert got.shape == expected.shape and got.dtype == expected.dtype
            np.testing.assert_allclose(got, expected, **tol)
            out = np.empty(expected.shape[:-2] + expected.shape[:-3:-1], dtype).swapaxes(-1, -2)
            assert gemm_serial.matmul(la, lb, out) is out  # an output BLAS cannot write: copied in
            np.testing.assert_allclose(out, expected, **tol)
            out = np.full(expected.shape, np.nan, dtype)
            gemm_serial.matmul(la, lb, out)
            np.testing.assert_allclose(out, expected, **tol)


def test_falls_back_to_numpy_where_blas_cannot():
    ints = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(gemm_serial.matmul(ints, ints.T), ints @ ints.T)
    mixed = gemm_serial.matmul(np.ones((2, 3), np.float32), np.ones((3, 2)))
    assert mixed.dtype == np.float64 and (mixed == 3).all()
    assert gemm_serial.matmul(np.ones((0, 3)), np.ones((3, 4))).shape == (0, 4)
    with pytest.raises(ValueError):
        gemm_serial.matmul(np.ones((2, 3)), np.ones((4, 2)))
    out = np.empty((1, 64, 500))  # an output of another shape: whatever NumPy does with it
    gemm_serial.matmul(np.ones((64, 300)), np.ones((300, 500)), out)
    assert (out == 300).all()
    with pytest.raises(ValueError):
        gemm_serial.matmul(np.ones((64, 300)), np.ones((300, 500)), np.empty((64, 501)))
    a = np.random.default_rng(2).standard_normal((300, 300))
    expected = a @ a
    gemm_serial.matmul(a, a, a)  # the output is an input: NumPy's buffered answer
    np.testing.assert_allclose(a, expected, rtol=1e-12, atol=1e-10)


def test_numpy_blas_untouched_and_threads_multiply_at_once():
    """Products from four threads at once are right, and NumPy's OpenBLAS keeps its thread count
    (the private instance is not even among the libraries threadpoolctl sees)."""
    before = [(i["filepath"], i["num_threads"]) for i in threadpool_info()]
    rng = np.random.default_rng(1)
    pairs = [(rng.standard_normal((8, 96, 128)), rng.standard_normal((128, 80))) for _ in range(4)]
    results = [None] * 4

    def run(i):
        results[i] = [gemm_serial.matmul(*pairs[i]) for _ in range(5)]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (a, b), got in zip(pairs, results):
        for g in got:
            np.testing.assert_allclose(g, a @ b, rtol=1e-12, atol=1e-12)
    assert [(i["filepath"], i["num_threads"]) for i in threadpool_info()][:len(before)] == before

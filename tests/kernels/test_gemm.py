"""striate.kernels.gemm: products split over striate's threads equal the plain product."""

from __future__ import annotations

import numpy as np
import pytest

import striate as st
from striate.kernels.gemm import gemm


@pytest.mark.parametrize("shape", [(2048, 64, 64), (64, 2048, 64), (64, 64, 2048), (3, 5, 7)],
                         ids=["rows", "reduction", "columns", "small"])
def test_split_product_equals_plain_product(shape, monkeypatch):
    """(M, R) @ (R, N) with M, R or N the largest (each split orientation) and a small one."""
    M, R, N = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((M, R)).astype(np.float32)
    b = rng.standard_normal((R, N)).astype(np.float32)
    monkeypatch.setitem(st.config._state, "threads", 2)
    out = gemm(a, b)
    assert out.dtype == np.float32 and out.shape == (M, N)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(gemm(a[:, ::2], b[::2]), gemm(np.ascontiguousarray(a[:, ::2]), b[::2]))

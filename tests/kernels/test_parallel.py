"""striate.kernels.parallel: how a batch is cut into per-thread runs of cache-sized chunks."""

from __future__ import annotations

import numpy as np
import pytest

from striate.kernels import parallel


@pytest.mark.parametrize("n, item_bytes, threads", [(64, 1 << 20, 2), (7, 1, 3), (1, 10**9, 2), (5, 0, 8)])
def test_batch_parts_cover_the_batch_once_in_order(n, item_bytes, threads):
    parts = parallel.batch_parts(n, item_bytes, threads)
    assert 1 <= len(parts) <= threads
    chunks = [c for part in parts for c in part]
    assert [i for s, e in chunks for i in range(s, e)] == list(range(n))
    per_chunk = max(1, parallel.CHUNK_BYTES // max(item_bytes, 1))
    assert all(0 < e - s <= per_chunk for s, e in chunks)


def test_empty_batch_has_no_chunks():
    assert parallel.batch_parts(0, 100, 2) == []
    assert parallel.run_split(lambda s, e: (s, e), []) == []


def test_run_split_returns_results_in_chunk_order_across_threads():
    out = np.zeros(100)

    def work(start, stop):
        out[start:stop] = np.arange(start, stop)
        return start

    parts = parallel.batch_parts(100, parallel.CHUNK_BYTES // 10, 2)
    assert parallel.run_split(work, parts) == [s for part in parts for s, _ in part]
    np.testing.assert_array_equal(out, np.arange(100))


@pytest.mark.parametrize("kernel_set", ["numba", "numpy"])
def test_split_pooling_and_relu_equal_one_thread(kernel_set, monkeypatch):
    """Inputs above the split threshold run on two threads and give the one-thread answer exactly."""
    import striate as st
    import striate.nn.functional as F

    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 16, 32, 32)).astype(np.float32)  # 131,072 pixels: split
    results = {}
    for threads in (1, 2):
        monkeypatch.setitem(st.config._state, "threads", threads)
        with st.config.use_kernels(kernel_set):
            xt = st.tensor(x, requires_grad=True)
            y = F.max_pool2d(F.relu(xt), 3, stride=2, padding=1)
            y.backward(st.ones(*y.shape))
            results[threads] = (y.numpy(), xt.grad.numpy())
    np.testing.assert_array_equal(results[1][0], results[2][0])
    np.testing.assert_array_equal(results[1][1], results[2][1])


def test_run_split_inside_a_pool_thread_runs_inline():
    """Work that itself splits (from a pool thread) runs in that thread instead of deadlocking."""
    parts = parallel.batch_parts(4, parallel.CHUNK_BYTES, 2)

    def inner(start, stop):
        return parallel.run_split(lambda s, e: e - s, parallel.batch_parts(10, 1, 2))

    assert parallel.run_split(inner, parts) == [[5, 5]] * 4

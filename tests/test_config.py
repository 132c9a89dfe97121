"""st.config: no hidden process-wide effects, explicit threads, the reference and forced paths."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import striate as st
import striate.nn.functional as F

_PROBE = """
import ctypes
touched = []
class _Recording(ctypes.CDLL):
    def __getattr__(self, name):
        touched.append(name)
        return super().__getattr__(name)
ctypes.CDLL = _Recording
import numpy, threadpoolctl
before = [i["num_threads"] for i in threadpoolctl.threadpool_info()]
import striate as st, striate.nn.functional as F
after_import = [i["num_threads"] for i in threadpoolctl.threadpool_info()][:len(before)]
x = st.randn(4, 16, 12, 12, requires_grad=True)
F.conv2d(x, st.randn(16, 16, 3, 3)).sum().backward()          # the Winograd path
F.conv2d(x, st.randn(8, 16, 3, 3), stride=2).sum().backward()  # the im2col path
F.max_pool2d(x, 2).sum().backward()
after_conv = [i["num_threads"] for i in threadpoolctl.threadpool_info()][:len(before)]
print(before == after_import, before == after_conv, "mallopt" not in touched,
      not st.config._state.get("malloc_tuned"), before)
"""


def _probe() -> list[str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_import_and_ops_leave_blas_threads_and_allocator_alone():
    """`import striate`, convolutions (both paths), pooling and their backward change neither the
    BLAS thread count nor glibc's malloc settings (mallopt is never even looked up)."""
    keeps_import, keeps_ops, no_mallopt, untuned = _probe()[:4]
    assert (keeps_import, keeps_ops, no_mallopt, untuned) == ("True",) * 4


def test_threads_default_to_the_cores_and_never_touch_blas():
    """striate uses every core by default (OMP_NUM_THREADS when set), `set_num_threads` changes
    striate's count only, and NumPy's BLAS keeps its thread count throughout."""
    from threadpoolctl import threadpool_info

    from striate.kernels import gemm_serial

    def blas(libraries=None):  # {library: threads}; a library may load during the test (torch's)
        counts = {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
        return {k: v for k, v in counts.items() if libraries is None or k in libraries}

    before = blas()
    if not gemm_serial.available():
        pytest.skip("no private serial BLAS here (not glibc / no OpenBLAS in NumPy)")
    omp = os.environ.get("OMP_NUM_THREADS", "")
    cores = int(omp) if omp.isdigit() and int(omp) > 0 else len(os.sched_getaffinity(0))
    assert st.config.get_num_threads() == st.config.default_num_threads() == cores
    assert st.config.available_cores() == len(os.sched_getaffinity(0))
    for n in (1, 2, 3):
        with st.config.use_num_threads(n):
            assert st.config.get_num_threads() == n
            F.conv2d(st.randn(4, 8, 10, 10), st.randn(8, 8, 3, 3))
            assert blas(before) == before
    assert st.config.get_num_threads() == cores
    st.config.set_num_threads(1)
    st.config.set_num_threads(None)
    assert blas(before) == before and st.config.get_num_threads() == cores
    with pytest.raises(ValueError, match="n >= 1"):
        st.config.set_num_threads(0)


def test_default_threads_without_the_private_blas_stay_one(monkeypatch):
    """Where striate cannot open its private serial BLAS the default stays the caller's thread with
    NumPy's BLAS pool (the behaviour before issue 14); OMP_NUM_THREADS still wins."""
    from striate.kernels import gemm_serial

    monkeypatch.setitem(gemm_serial._state, "loaded", True)
    monkeypatch.setitem(gemm_serial._state, "fns", None)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delitem(st.config._state, "default_threads", raising=False)
    assert not gemm_serial.available() and st.config.get_num_threads() == 1
    x, w = np.ones((2, 3, 6, 6), np.float32), np.ones((4, 3, 3, 3), np.float32)
    assert (F.conv2d(st.tensor(x), st.tensor(w)).numpy() == 27).all()
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.delitem(st.config._state, "default_threads")
    assert st.config.get_num_threads() == 3  # (monkeypatch restores the real default afterwards)


def test_an_op_called_from_two_user_threads_at_once_is_correct(monkeypatch):
    """Application threads running convolutions (forward and backward) and linear layers at the
    same time, each on striate's threads and private BLAS, get the results one thread gets."""
    import threading

    from striate.kernels import gemm_serial

    monkeypatch.setattr(gemm_serial, "OPENBLAS_SERIAL_MACS", 0)  # every product on the private BLAS
    rng = np.random.default_rng(3)
    jobs = []
    for C, O, k, side, stride in [(8, 16, 3, 20, 1), (6, 16, 5, 14, 1), (3, 32, 3, 32, 2), (16, 8, 1, 9, 1)]:
        x = rng.standard_normal((16, C, side, side)).astype(np.float32)
        w = rng.standard_normal((O, C, k, k)).astype(np.float32)
        lw = rng.standard_normal((10, O)).astype(np.float32)
        jobs.append((x, w, lw, stride))

    def run(x, w, lw, stride):
        xs, ws, lws = (st.tensor(a, requires_grad=True) for a in (x, w, lw))
        y = F.relu(F.conv2d(xs, ws, stride=stride, padding=1))
        out = F.linear(y.mean((2, 3)), lws)
        (out.square().sum() + y.sum()).backward()
        return [t.numpy().copy() for t in (out, xs.grad, ws.grad, lws.grad)]

    with st.config.use_num_threads(2):
        expected = [run(*job) for job in jobs]
        results: dict = {}

        def worker(i: int) -> None:
            for _ in range(3):
                results.setdefault(i, []).append(run(*jobs[i]))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert len(results) == len(jobs)
    for i, runs in results.items():
        for got in runs:
            for g, e in zip(got, expected[i]):
                np.testing.assert_array_equal(g, e)  # the same chunks, the same sums: bit for bit


def _conv_grads(x, w, b, **kwargs):
    xs, ws, bs = (st.tensor(a, dtype=st.float64, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xs, ws, bs, **kwargs)
    ramp = np.arange(y.numel(), dtype=y.dtype).reshape(y.shape) / y.numel()
    y.backward(st.tensor(ramp + 0.5, dtype=st.float64))
    return [t.numpy().copy() for t in (y, xs.grad, ws.grad, bs.grad)]


@pytest.mark.parametrize("kwargs, C, O, k", [
    ({"padding": 1}, 8, 8, 3),                      # Winograd on the fast path
    ({"padding": 2}, 6, 16, 5),                     # Winograd 5x5
    ({"stride": 2, "padding": 1}, 3, 4, 3),         # im2col
    ({"dilation": 2, "padding": "same"}, 4, 6, 3),  # im2col with col2im
    ({"groups": 2, "padding": (0, 1)}, 4, 6, 3),    # grouped
], ids=["wino3", "wino5", "strided", "dilated_same", "groups"])
def test_reference_path_matches_fast_paths(kwargs, C, O, k):
    """The plain-NumPy reference (st.config.use_reference) and the fast path agree in float64
    to 1e-10, forward and every gradient."""
    rng = np.random.default_rng(0)
    groups = kwargs.get("groups", 1)
    x = rng.standard_normal((3, C, 10, 9))
    w = rng.standard_normal((O, C // groups, k, k))
    b = rng.standard_normal(O)
    fast = _conv_grads(x, w, b, **kwargs)
    with st.config.use_reference():
        ref = _conv_grads(x, w, b, **kwargs)
    for f, r in zip(fast, ref):
        np.testing.assert_allclose(f, r, rtol=1e-10, atol=1e-10)


def test_reference_path_passes_gradcheck():
    x = st.randn(2, 3, 6, 5, dtype=st.float64, requires_grad=True)
    w = st.randn(4, 3, 3, 2, dtype=st.float64, requires_grad=True)
    b = st.randn(4, dtype=st.float64, requires_grad=True)
    with st.config.use_reference():
        assert st.autograd.gradcheck(lambda *t: F.conv2d(*t, stride=(2, 1), padding=1), (x, w, b))
        assert st.autograd.gradcheck(lambda a: F.max_pool2d(a, 2), (x,))


def test_conv_path_can_be_forced_and_says_when_it_cannot():
    from striate.ops.conv import ConvGeometry, conv_path

    big = ConvGeometry(3, 3, 1, 1, 1, 1, 32, 32)
    assert conv_path(big, 1, 32, 32) == "winograd"
    assert conv_path(ConvGeometry(3, 3, 1, 1, 1, 1, 8, 8), 1, 3, 4) == "im2col"  # too few channels
    with st.config.use_conv_path("im2col"):
        assert conv_path(big, 1, 32, 32) == "im2col"
    with st.config.use_conv_path("winograd"):
        assert conv_path(ConvGeometry(3, 3, 1, 1, 1, 1, 8, 8), 1, 3, 4) == "winograd"
        x64 = st.tensor(np.random.default_rng(1).standard_normal((2, 3, 8, 8)), dtype=st.float64)
        w64 = st.tensor(np.random.default_rng(2).standard_normal((4, 3, 3, 3)), dtype=st.float64)
        forced = F.conv2d(x64, w64, padding=1).numpy()
        with pytest.raises(ValueError, match="only computes 3x3 and 5x5 layers with stride 1"):
            F.conv2d(x64, w64, stride=2)
    with st.config.use_reference():
        assert conv_path(big, 1, 32, 32) == "reference"
        np.testing.assert_allclose(forced, F.conv2d(x64, w64, padding=1).numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="unknown convolution path 'cuda'"):
        st.config.set_conv_path("cuda")
    assert st.config.get_conv_path() == "auto" and not st.config.get_reference()

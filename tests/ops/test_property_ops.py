"""Property test of the public operators against PyTorch under generated, often bad, input.

Hypothesis draws shapes (zeros included), argument values (zero, negative, huge), NaN/inf
values and wrong dtypes for convolution, pooling, padding, reshape, indexing, reductions and
losses: 10,400 cases in total (the sum of `max_examples` below). Every case must either equal
PyTorch (shape and values, NaN where PyTorch has NaN) or raise a clear striate error: a
ValueError or TypeError (IndexError for an index out of range, Python's protocol for `x[i]`)
whose message names the problem. Never an IndexError/ZeroDivisionError from inside striate,
a silent result where PyTorch refuses, or a floating-point exception on finite input: striate
runs under `np.errstate(all="raise")` whenever the inputs are finite.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="the property test needs hypothesis (striate[test])")
torch = pytest.importorskip("torch", reason="the property test compares with PyTorch (striate[test])")

import hypothesis.strategies as hs  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

import striate as st  # noqa: E402
import striate.nn.functional as F  # noqa: E402

HUGE = 2**40
# STRIATE_PROPERTY_SCALE=0.1 runs a tenth of the cases (while developing); CI runs them all
SCALE = float(os.environ.get("STRIATE_PROPERTY_SCALE", "1"))


def cases(n: int) -> int:
    return max(1, int(n * SCALE))


CLEAR = (ValueError, TypeError)
_NO_SHRINK = os.environ.get("STRIATE_PROPERTY_NO_SHRINK")  # faster while hunting bugs
SETTINGS = {"deadline": None, "database": None, "derandomize": True,
            "phases": [Phase.explicit, Phase.generate] if _NO_SHRINK else list(Phase),
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much]}

sizes = hs.integers(0, 5)
small_args = hs.one_of(hs.integers(-2, 4), hs.just(HUGE), hs.just(-HUGE))
dtypes = hs.sampled_from(["float32", "float32", "float32", "float64", "int64", "bool"])
specials = hs.sampled_from(["none", "none", "none", "nan", "inf", "-inf"])


@pytest.fixture(autouse=True, scope="module")
def numpy_kernels():
    """The plain NumPy kernels: each new dtype would otherwise compile Numba kernels (seconds
    each on a busy machine); the Numba twins are compared with these in tests/kernels."""
    with st.config.use_kernels("numpy"):
        yield


def make_array(shape, dtype: str, special: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape) * 3)
    if special != "none" and x.size:
        x.reshape(-1)[rng.integers(x.size)] = float(special)
    if dtype == "int64":
        return np.asarray(np.nan_to_num(x, posinf=9, neginf=-9).astype(np.int64))
    if dtype == "bool":
        return np.asarray(x > 0)
    return np.asarray(x.astype(dtype))


def _numpy(value):
    if isinstance(value, (tuple, list)):
        return [_numpy(v) for v in value]
    if hasattr(value, "detach"):
        return value.detach().numpy()
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def _assert_same(ours, theirs, what: str) -> None:
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), what
        for a, b in zip(ours, theirs):
            _assert_same(a, b, what)
        return
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, PyTorch {theirs.shape}"
    if theirs.dtype == bool or theirs.dtype.kind in "iu":
        assert np.array_equal(ours, theirs), f"{what}: {ours} vs PyTorch {theirs}"
        return
    a, b = ours.astype(np.float64), theirs.astype(np.float64)
    assert np.array_equal(np.isnan(a), np.isnan(b)), f"{what}: NaN at other places: {a} vs {b}"
    finite = np.isfinite(b)
    assert np.array_equal(a[~finite & ~np.isnan(b)], b[~finite & ~np.isnan(b)]), f"{what}: infinities differ"
    if finite.any():
        rtol = 1e-5 if theirs.dtype == np.float32 else 1e-10
        scale = np.abs(b[finite]).max()
        err = np.abs(a[finite] - b[finite])
        assert (err <= rtol * (np.abs(b[finite]) + scale) + 1e-30).all(), f"{what}: max error {err.max()}"


def compare(ours, theirs, finite: bool, what: str, clear=CLEAR) -> str:
    """Run both; returns 'equal', 'both refused' or 'striate refused'. Fails on anything else."""
    try:
        expected = _numpy(theirs())
        torch_error = None
    except Exception as e:  # noqa: BLE001 - PyTorch refuses with RuntimeError, ValueError, ...
        expected, torch_error = None, e
    try:
        with np.errstate(all="raise" if finite else "ignore"):
            got = _numpy(ours())
    except clear as e:
        assert not isinstance(e, ZeroDivisionError), f"{what}: {e!r}"
        assert len(str(e)) > 10, f"{what}: an error without a message: {e!r}"
        return "both refused" if torch_error is not None else "striate refused"
    except Exception as e:
        raise AssertionError(f"{what}: striate raised {type(e).__name__}: {e} (PyTorch: {torch_error!r})"
                             ) from e
    assert torch_error is None, \
        f"{what}: striate returned shape {np.shape(got)} where PyTorch refuses: {torch_error}"
    _assert_same(got, expected, what)
    return "equal"


def both(x: np.ndarray):
    return st.from_numpy(x.copy()), torch.from_numpy(x.copy())


def _finite(*arrays) -> bool:
    return all(a.dtype.kind != "f" or np.isfinite(a).all() for a in arrays)


# ---------------------------------------------------------------------------- convolution
@settings(max_examples=cases(1500), **SETTINGS)
@given(n=sizes, c=sizes, h=hs.integers(0, 7), w=hs.integers(0, 7), o=sizes, kh=hs.integers(0, 4),
       kw=hs.integers(0, 4), stride=small_args,
       padding=hs.one_of(small_args, hs.sampled_from(["same", "valid"])),
       dilation=small_args, groups=hs.one_of(hs.integers(-1, 3), hs.just(HUGE)), bias=hs.booleans(),
       xdt=dtypes, wdt=dtypes, special=specials, seed=hs.integers(0, 2**16))
def test_conv2d(n, c, h, w, o, kh, kw, stride, padding, dilation, groups, bias, xdt, wdt, special, seed):
    g = groups if isinstance(groups, int) and 0 < groups <= 3 else 1
    x = make_array((n, c, h, w), xdt, special, seed)
    wt = make_array((o, max(c // g, 0), kh, kw), wdt, "none", seed + 1)
    b = make_array((o,), wdt, "none", seed + 2) if bias else None
    (xs, xt), (ws, wt_) = both(x), both(wt)
    bs, bt = both(b) if bias else (None, None)
    compare(lambda: F.conv2d(xs, ws, bs, stride, padding, dilation, groups),
            lambda: torch.nn.functional.conv2d(xt, wt_, bt, stride, padding, dilation, groups),
            _finite(x, wt), "conv2d")


@settings(max_examples=cases(700), **SETTINGS)
@given(n=sizes, c=sizes, length=hs.integers(0, 9), o=sizes, k=hs.integers(0, 4), stride=small_args,
       padding=hs.one_of(small_args, hs.sampled_from(["same", "valid"])), dilation=small_args,
       xdt=dtypes, special=specials, seed=hs.integers(0, 2**16))
def test_conv1d(n, c, length, o, k, stride, padding, dilation, xdt, special, seed):
    x = make_array((n, c, length), xdt, special, seed)
    wt = make_array((o, c, k), "float32", "none", seed + 1)
    (xs, xt), (ws, wt_) = both(x), both(wt)
    compare(lambda: F.conv1d(xs, ws, None, stride, padding, dilation),
            lambda: torch.nn.functional.conv1d(xt, wt_, None, stride, padding, dilation),
            _finite(x), "conv1d")


@settings(max_examples=cases(600), **SETTINGS)
@given(n=sizes, c=hs.integers(0, 4), h=hs.integers(0, 5), o=hs.integers(0, 3), k=hs.integers(0, 3),
       stride=small_args, padding=small_args, output_padding=hs.integers(-1, 2), dilation=small_args,
       groups=hs.integers(-1, 2), special=specials, seed=hs.integers(0, 2**16))
def test_conv_transpose2d(n, c, h, o, k, stride, padding, output_padding, dilation, groups, special, seed):
    x = make_array((n, c, h, h), "float32", special, seed)
    wt = make_array((c, o, k, k), "float32", "none", seed + 1)
    (xs, xt), (ws, wt_) = both(x), both(wt)
    compare(lambda: F.conv_transpose2d(xs, ws, None, stride, padding, output_padding, groups, dilation),
            lambda: torch.nn.functional.conv_transpose2d(xt, wt_, None, stride, padding, output_padding,
                                                         groups, dilation),
            _finite(x), "conv_transpose2d")


# ---------------------------------------------------------------------------- pooling, padding
@settings(max_examples=cases(1200), **SETTINGS)
@given(n=sizes, c=sizes, h=hs.integers(0, 7), w=hs.integers(0, 7),
       k=hs.one_of(hs.integers(-1, 5), hs.just(HUGE)),
       stride=hs.one_of(hs.none(), small_args), padding=hs.integers(-1, 3), dilation=hs.integers(-1, 3),
       ceil=hs.booleans(), op=hs.sampled_from(["max", "avg", "avg_nopad"]), xdt=dtypes, special=specials,
       seed=hs.integers(0, 2**16))
def test_pool2d(n, c, h, w, k, stride, padding, dilation, ceil, op, xdt, special, seed):
    x = make_array((n, c, h, w), xdt, special, seed)
    xs, xt = both(x)
    if op == "max":
        ours = lambda: F.max_pool2d(xs, k, stride, padding, dilation, ceil)  # noqa: E731
        theirs = lambda: torch.nn.functional.max_pool2d(xt, k, stride, padding, dilation, ceil)  # noqa: E731
    else:
        inc = op == "avg"
        ours = lambda: F.avg_pool2d(xs, k, stride, padding, ceil, inc)  # noqa: E731
        theirs = lambda: torch.nn.functional.avg_pool2d(xt, k, stride, padding, ceil, inc)  # noqa: E731
    compare(ours, theirs, _finite(x), f"{op}_pool2d")


@settings(max_examples=cases(700), **SETTINGS)
@given(n=sizes, c=sizes, h=hs.integers(0, 7), w=hs.integers(0, 7),
       out=hs.one_of(hs.integers(-1, 6), hs.tuples(hs.integers(-1, 6), hs.integers(-1, 6)), hs.just(HUGE)),
       op=hs.sampled_from(["max", "avg"]), xdt=dtypes, special=specials, seed=hs.integers(0, 2**16))
def test_adaptive_pool2d(n, c, h, w, out, op, xdt, special, seed):
    x = make_array((n, c, h, w), xdt, special, seed)
    xs, xt = both(x)
    ours = getattr(F, f"adaptive_{op}_pool2d")
    theirs = getattr(torch.nn.functional, f"adaptive_{op}_pool2d")
    compare(lambda: ours(xs, out), lambda: theirs(xt, out), _finite(x), f"adaptive_{op}_pool2d")


@settings(max_examples=cases(1000), **SETTINGS)
@given(shape=hs.lists(hs.integers(0, 4), min_size=1, max_size=5),
       widths=hs.lists(hs.one_of(hs.integers(-3, 3), hs.just(HUGE)), min_size=0, max_size=7),
       mode=hs.sampled_from(["constant", "reflect", "replicate", "circular", "wrap"]),
       value=hs.sampled_from([None, 0.0, 1.5, float("nan")]), xdt=dtypes, special=specials,
       seed=hs.integers(0, 2**16))
def test_pad(shape, widths, mode, value, xdt, special, seed):
    x = make_array(tuple(shape), xdt, special, seed)
    xs, xt = both(x)
    compare(lambda: F.pad(xs, widths, mode, value), lambda: torch.nn.functional.pad(xt, widths, mode, value),
            _finite(x) and (value is None or np.isfinite(value)), f"pad {mode}")


# ---------------------------------------------------------------------------- shapes, indexing
@settings(max_examples=cases(800), **SETTINGS)
@given(shape=hs.lists(hs.integers(0, 4), min_size=0, max_size=4),
       target=hs.lists(hs.one_of(hs.integers(-2, 6), hs.just(HUGE)), min_size=0, max_size=4),
       view=hs.booleans(), seed=hs.integers(0, 2**16))
def test_reshape_and_view(shape, target, view, seed):
    x = make_array(tuple(shape), "float32", "none", seed)
    xs, xt = both(x)
    name = "view" if view else "reshape"
    compare(lambda: getattr(xs, name)(*target), lambda: getattr(xt, name)(*target), True, name)


index_items = hs.one_of(
    hs.integers(-6, 6),
    hs.builds(slice, hs.one_of(hs.none(), hs.integers(-6, 6)), hs.one_of(hs.none(), hs.integers(-6, 6)),
              hs.one_of(hs.none(), hs.integers(1, 3))),
    hs.just(None), hs.just(Ellipsis),
    hs.lists(hs.integers(-6, 6), min_size=0, max_size=3),
)


@settings(max_examples=cases(1100), **SETTINGS)
@given(shape=hs.lists(hs.integers(0, 4), min_size=1, max_size=3),
       index=hs.lists(index_items, min_size=1, max_size=3), seed=hs.integers(0, 2**16))
def test_indexing(shape, index, seed):
    x = make_array(tuple(shape), "float32", "none", seed)
    xs, xt = both(x)
    if index.count(Ellipsis) > 1:
        index = [i for i in index if i is not Ellipsis]
    key = tuple(np.asarray(i, dtype=np.int64) if isinstance(i, list) else i for i in index)
    tkey = tuple(torch.as_tensor(i) if isinstance(i, np.ndarray) else i for i in key)
    compare(lambda: xs[key], lambda: xt[tkey], True, f"x{list(shape)}[{index}]", clear=(*CLEAR, IndexError))


# ---------------------------------------------------------------------------- reductions, losses
@settings(max_examples=cases(1000), **SETTINGS)
@given(shape=hs.lists(hs.integers(0, 4), min_size=0, max_size=4),
       dim=hs.one_of(hs.none(), hs.integers(-5, 4), hs.lists(hs.integers(-4, 3), min_size=1, max_size=3)),
       keepdim=hs.booleans(),
       op=hs.sampled_from(["sum", "mean", "max", "min", "amax", "argmax", "var", "std"]),
       xdt=hs.sampled_from(["float32", "float64", "float32"]), special=specials, seed=hs.integers(0, 2**16))
def test_reductions(shape, dim, keepdim, op, xdt, special, seed):
    x = make_array(tuple(shape), xdt, special, seed)
    xs, xt = both(x)
    dims = tuple(dim) if isinstance(dim, list) else dim

    def call(t):
        fn = getattr(t, op)
        if dims is None:
            return fn()
        out = fn(dims, keepdim=keepdim) if op not in ("max", "min") else fn(dims, keepdim)
        return tuple(out) if op in ("max", "min") else out

    compare(lambda: call(xs), lambda: call(xt), _finite(x), f"{op}({dims}) of {list(shape)}")


@settings(max_examples=cases(1300), **SETTINGS)
@given(n=sizes, c=hs.integers(0, 5), extra=hs.lists(hs.integers(0, 3), max_size=2),
       target_shift=hs.sampled_from([0, 0, 0, 1, -1]), bad_target=hs.sampled_from(["ok", "ok", "ok", "float",
                                                                                    "big", "neg", "shape"]),
       ignore=hs.sampled_from([-100, 0, 1]), smoothing=hs.sampled_from([0.0, 0.0, 0.1, -0.1, 1.0, 1.5]),
       weight=hs.sampled_from([None, "ok", "short"]),
       reduction=hs.sampled_from(["mean", "sum", "none", "avg"]),
       op=hs.sampled_from(["cross_entropy", "nll_loss"]), special=specials, seed=hs.integers(0, 2**16))
def test_class_losses(n, c, extra, target_shift, bad_target, ignore, smoothing, weight, reduction, op,
                      special, seed):
    x = make_array((n, c, *extra), "float32", special, seed)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, max(c, 1), size=(n, *extra)).astype(np.int64)
    if bad_target == "float":
        y = y.astype(np.float32)
    elif bad_target == "big" and y.size:
        y.reshape(-1)[0] = c + 3
    elif bad_target == "neg" and y.size:
        y.reshape(-1)[0] = -5
    elif bad_target == "shape":
        y = y.reshape(-1)[: max(n - 1, 0)]
    wt = None if weight is None else rng.random(c if weight == "ok" else c + 1).astype(np.float32)
    (xs, xt), (ys, yt) = both(x), both(y)
    ws, wt_ = both(wt) if wt is not None else (None, None)
    if op == "cross_entropy":
        ours = lambda: F.cross_entropy(xs, ys, ws, ignore_index=ignore, reduction=reduction,  # noqa: E731
                                       label_smoothing=smoothing)
        theirs = lambda: torch.nn.functional.cross_entropy(xt, yt, wt_, ignore_index=ignore,  # noqa: E731
                                                           reduction=reduction, label_smoothing=smoothing)
    else:
        ours = lambda: F.nll_loss(xs, ys, ws, ignore_index=ignore, reduction=reduction)  # noqa: E731
        theirs = lambda: torch.nn.functional.nll_loss(xt, yt, wt_, ignore_index=ignore,  # noqa: E731
                                                      reduction=reduction)
    compare(ours, theirs, _finite(x), op)


@settings(max_examples=cases(500), **SETTINGS)
@given(a=hs.lists(hs.integers(0, 4), max_size=3), b=hs.lists(hs.integers(0, 4), max_size=3),
       reduction=hs.sampled_from(["mean", "sum", "none", "avg"]), op=hs.sampled_from(["mse", "bce"]),
       special=specials, seed=hs.integers(0, 2**16))
def test_pointwise_losses(a, b, reduction, op, special, seed):
    x = make_array(tuple(a), "float32", special, seed)
    t = make_array(tuple(b), "float32", "none", seed + 1)
    if op == "bce":
        t = np.asarray(t > 0, dtype=np.float32)
    (xs, xt), (ts, tt) = both(x), both(t)
    if op == "mse":
        ours = lambda: F.mse_loss(xs, ts, reduction=reduction)  # noqa: E731
        theirs = lambda: torch.nn.functional.mse_loss(xt, tt, reduction=reduction)  # noqa: E731
    else:
        ours = lambda: F.binary_cross_entropy_with_logits(xs, ts, reduction=reduction)  # noqa: E731
        theirs = lambda: torch.nn.functional.binary_cross_entropy_with_logits(xt, tt, reduction=reduction)  # noqa: E731
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns when mse_loss broadcasts different shapes
        compare(ours, theirs, _finite(x), op)


def test_cross_entropy_of_large_logits_is_exact_without_fp_exceptions():
    with np.errstate(all="raise"):
        loss = F.cross_entropy(st.tensor([[1000.0, 0.0]]), st.tensor([1]))
        assert loss.item() == 1000.0
        assert F.cross_entropy(st.tensor([[1000.0, 0.0]]), st.tensor([0])).item() == 0.0
        wide = st.tensor([[-1000.0, 1000.0]], dtype=st.float64)
        assert F.cross_entropy(wide, st.tensor([0])).item() == 2000.0


def test_zero_size_kernel_is_refused_as_pytorch_refuses():
    x = st.zeros(1, 1, 5, 5)
    for kernel in [(0, 3), (3, 0), (0, 0)]:
        with pytest.raises(ValueError, match="kernel"):
            F.conv2d(x, st.zeros(1, 1, *kernel))
        with pytest.raises(RuntimeError):
            torch.nn.functional.conv2d(torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, *kernel))

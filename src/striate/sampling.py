"""Samples from the generator's raw stream with PyTorch's CPU formulas (ATen's
`DistributionTemplates.h`, `DistributionsHelper.h`, `TransformationHelper.h`, `randperm_cpu`).

- uniform on [a, b): a 32-bit draw keeps its low 24 bits (float32) or a 64-bit draw its low 53
  bits (float64): x = bits / 2**24 (or 2**53), then x * (b - a) + a, fused.
- normal, float32, 16 or more contiguous values: all uniforms first, then Box-Muller on blocks
  of 16 (u1 = 1 - first 8, u2 = last 8; r = sqrt(-2 log u1), t = 2 pi u2; r cos t and r sin t
  fill the two halves) with Cephes' float32 log/sincos; a tail of n % 16 redraws 16 uniforms
  and recomputes the last 16 values.
- normal, other dtypes, 16 or more contiguous values: the same blocks in the dtype with libm's
  log, cos and sin.
- normal, fewer than 16 or non-contiguous: one Box-Muller pair per two values in float64
  (r = sqrt(-2 log1p(-u2)), t = 2 pi u1), the sine kept in the generator for the next draw.
- integers in [low, high): draw % (high - low) + low, with a 64-bit draw when the range needs it.
- permutations: Fisher-Yates swaps with 32-bit draws (n < 2**32 / 20, else the inside-out
  variant with 64-bit draws).
- Bernoulli(p): a float64 uniform < p (PyTorch's portable path; on Intel CPUs PyTorch builds
  with MKL draw dropout masks from MKL's own generator instead).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from striate import config, sampling_math
from striate.random import Generator, resolve
from striate.sampling_math import f32, f64, fma64

_MASK24 = np.uint64((1 << 24) - 1)
_MASK53 = np.uint64((1 << 53) - 1)
_SMALL_PERMUTATION = (2**32 - 1) // 20


_COMPILED_FROM = 4096  # smaller draws stay on NumPy: same values, and no Numba import for a bias


def _float32_kernels(n: int) -> Any:
    """The twin that runs the float32 loops over n values: Numba by default, NumPy for small n
    or under `st.config.use_kernels("numpy")` (the tests compare the two)."""
    if config.get_kernels() == "numpy" or n < _COMPILED_FROM:
        return sampling_math
    from striate.kernels import sampling_compiled

    return sampling_compiled


def _count(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _unit(gen: Generator, n: int, dtype: np.dtype) -> np.ndarray:
    """n uniforms in [0, 1): float32 from 24 bits of random(), float64 from 53 of random64()."""
    if dtype == np.float64:
        return (gen.random64(n) & _MASK53).astype(f64) * f64(2.0**-53)
    return (gen.random32(n) & _MASK24).astype(f32) * f32(2.0**-24)


def _float_dtype(dtype: Any, op: str) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{op}: needs a floating point dtype, got {dt}")
    return dt


def uniform(shape: tuple[int, ...], low: float = 0.0, high: float = 1.0, dtype: Any = np.float32,
            generator: Generator | None = None) -> np.ndarray:
    """U(low, high) samples of `shape` (float16 is drawn as float32 and rounded)."""
    dt = _float_dtype(dtype, "uniform_")
    if not low <= high:
        raise ValueError(f"uniform_ expects to return a [from, to) range, but found from={low} > to={high}")
    gen = resolve(generator)
    n = _count(shape)
    if dt == np.float64:
        lo, hi = f64(low), f64(high)
        values = fma64(_unit(gen, n, dt), hi - lo, lo)
    else:
        lo, hi = f32(low), f32(high)
        values = _float32_kernels(n).uniform_f32(gen.random32(n), lo, hi - lo)
    return values.astype(dt).reshape(shape)


_log = np.frompyfunc(math.log, 1, 1)  # libm, as PyTorch's scalar loop (NumPy's SIMD log may differ)
_cos = np.frompyfunc(math.cos, 1, 1)
_sin = np.frompyfunc(math.sin, 1, 1)


def _box_muller_libm(blocks: np.ndarray, mean: float, std: float) -> np.ndarray:
    """float64 blocks of 16 uniforms -> 16 normals each, as `normal_fill_16<double>`."""
    radius = np.sqrt(-2.0 * _log(1.0 - blocks[:, :8]).astype(f64))
    theta = f64(2.0 * math.pi) * blocks[:, 8:]
    cos = _cos(theta).astype(f64)
    sin = _sin(theta).astype(f64)
    return np.concatenate([fma64(radius * cos, std, mean), fma64(radius * sin, std, mean)], axis=1)


def _box_muller_f32(blocks: np.ndarray, mean: float, std: float) -> np.ndarray:
    kernels = _float32_kernels(blocks.size)
    return kernels.box_muller_f32(np.ascontiguousarray(blocks), f32(mean), f32(std))


def _normal_blocks(gen: Generator, n: int, dtype: np.dtype, mean: float, std: float) -> np.ndarray:
    fill = _box_muller_f32 if dtype == np.float32 else _box_muller_libm
    data = _unit(gen, n, dtype)
    out = data.copy()
    whole = n - n % 16
    if whole:
        out[:whole] = fill(data[:whole].reshape(-1, 16), mean, std).ravel()
    if n % 16:
        out[n - 16:] = fill(_unit(gen, 16, dtype).reshape(1, 16), mean, std).ravel()
    return out


def _normal_pairs(gen: Generator, n: int, mean: float, std: float) -> np.ndarray:
    """`normal_distribution<double>`: one Box-Muller pair per two values, the second cached."""
    out = np.empty(n, f64)
    for i in range(n):
        if gen.next_double_normal is not None:
            z, gen.next_double_normal = gen.next_double_normal, None
        else:
            u1, u2 = _unit(gen, 2, np.dtype(f64))
            r = math.sqrt(-2.0 * math.log1p(-u2))
            theta = 2.0 * math.pi * u1
            gen.next_double_normal = r * math.sin(theta)
            z = r * math.cos(theta)
        out[i] = z
    return fma64(out, std, mean)


def normal(shape: tuple[int, ...], mean: float = 0.0, std: float = 1.0, dtype: Any = np.float32,
           generator: Generator | None = None, contiguous: bool = True) -> np.ndarray:
    """N(mean, std^2) samples of `shape`; `contiguous=False` for a strided destination, which
    PyTorch fills one value at a time."""
    dt = _float_dtype(dtype, "normal_")
    if not std >= 0.0:
        raise ValueError(f"normal expects std >= 0.0, but found std {std}")
    gen = resolve(generator)
    n = _count(shape)
    if n >= 16 and contiguous:
        work = np.dtype(f32) if dt == np.float32 else np.dtype(f64)
        values = _normal_blocks(gen, n, work, mean, std)
    else:
        values = _normal_pairs(gen, n, mean, std)
    return values.astype(dt).reshape(shape)


def randint(low: int, high: int, shape: tuple[int, ...], dtype: Any = np.int64,
            generator: Generator | None = None) -> np.ndarray:
    """Integers in [low, high): draw % (high - low) + low."""
    low, high = int(low), int(high)
    if not low < high:
        raise ValueError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    gen = resolve(generator)
    span = high - low
    n = _count(shape)
    wide = span >= 2**32 and np.dtype(dtype) in (np.dtype(np.int64), np.dtype(f64), np.dtype(f32))
    bits = gen.random64(n) if wide else gen.random32(n)
    values = (bits % np.uint64(span)).astype(np.int64) + np.int64(low)
    return values.astype(dtype).reshape(shape)


def randperm(n: int, dtype: Any = np.int64, generator: Generator | None = None) -> np.ndarray:
    """A random permutation of 0..n-1 (PyTorch's `randperm_cpu`)."""
    n = int(n)
    if n < 0:
        raise ValueError(f"randperm: n must be non-negative, got {n}")
    gen = resolve(generator)
    if n < _SMALL_PERMUTATION:
        perm = list(range(n))
        draws = gen.random32(max(n - 1, 0)).tolist()
        for i, d in enumerate(draws):
            j = i + d % (n - i)
            perm[i], perm[j] = perm[j], perm[i]
    else:  # inside-out Fisher-Yates
        perm = [0] * n
        for i, d in enumerate(gen.random64(n).tolist()):
            j = d % (i + 1)
            perm[i] = perm[j]
            perm[j] = i
    return np.array(perm, dtype=dtype)


def _memory_order(array: np.ndarray) -> tuple[int, ...]:
    """Axes from the largest stride to the smallest: the order PyTorch's TensorIterator walks a
    strided destination in (it fills memory sequentially, not in index order)."""
    return tuple(sorted(range(array.ndim), key=lambda a: -abs(array.strides[a])))


def fill_uniform_(array: np.ndarray, low: float, high: float, generator: Generator | None = None) -> None:
    """`Tensor.uniform_` on `array` in place, in PyTorch's memory order."""
    axes = _memory_order(array)
    values = uniform(tuple(array.shape[a] for a in axes), low, high, array.dtype, generator)
    array[...] = values.transpose(np.argsort(axes))


def fill_normal_(array: np.ndarray, mean: float, std: float, generator: Generator | None = None) -> None:
    """`Tensor.normal_` on `array` in place: the block path when it is contiguous, else one
    value at a time in memory order."""
    axes = _memory_order(array)
    contiguous = bool(array.flags.c_contiguous)
    values = normal(tuple(array.shape[a] for a in axes), mean, std, array.dtype, generator, contiguous)
    array[...] = values.transpose(np.argsort(axes))


def bernoulli(shape: tuple[int, ...], p: float, generator: Generator | None = None) -> np.ndarray:
    """Booleans that are True with probability p: a float64 uniform < p."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"bernoulli expects p in [0, 1], got {p}")
    gen = resolve(generator)
    return (_unit(gen, _count(shape), np.dtype(f64)) < p).reshape(shape)


def random_int64(generator: Generator | None = None) -> int:
    """`torch.empty((), dtype=torch.int64).random_()`: a 64-bit draw modulo 2**63."""
    return int(resolve(generator).random64(1)[0] % np.uint64(2**63))


# ---------------------------------------------------------------------------- multinomial
# (issue 21: WeightedRandomSampler, st.multinomial) ATen's `multinomial`.
_log1p = np.frompyfunc(math.log1p, 1, 1)  # libm's log1p, as ATen's exponential transformation


def multinomial(weights: np.ndarray, num_samples: int, replacement: bool = False,
                generator: Generator | None = None) -> np.ndarray:
    """`torch.multinomial(weights, num_samples, replacement, generator=...)` for float32 or
    float64 weights of one row (1-D) or one row per distribution (2-D), bit for bit.

    Without replacement, or for a single sample, PyTorch takes the Gumbel-max shortcut:
    q ~ Exp(1) per entry of the whole tensor (-log1p(-u), u a 53-bit uniform, rounded to the
    weights' dtype), then per row the top `num_samples` of weights / q. With replacement, row
    after row, each sample is one 53-bit uniform located by binary search in the row's
    cumulative weights (summed in the weights' dtype) divided by their sum, the last bucket set
    to exactly 1.
    """
    w = np.asarray(weights)
    if w.dtype not in (np.dtype(f32), np.dtype(f64)):
        w = w.astype(f64)
    rows = w.reshape(1, -1) if w.ndim <= 1 else w
    n = int(num_samples)
    if n <= 0:
        raise ValueError(f"cannot sample n_sample <= 0 samples (num_samples={n})")
    if not replacement and n > rows.shape[1]:
        raise ValueError(f"cannot sample n_sample > prob_dist.size(-1) samples without replacement "
                         f"({n} > {rows.shape[1]}); ask for fewer samples or use replacement=True")
    gen = resolve(generator)
    if not replacement or n == 1:
        picked = _gumbel_top(rows, n, gen)
    else:
        picked = np.stack([_inverse_cdf(row, n, gen) for row in rows])
    return picked.reshape(-1) if w.ndim <= 1 else picked


_HINT = "; weights must be finite, non-negative and not all zero"


def _gumbel_top(rows: np.ndarray, n: int, gen: Generator) -> np.ndarray:
    if rows.size == 0 or not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise ValueError("probability tensor contains either `inf`, `nan` or element < 0" + _HINT)
    if np.any(rows.sum(axis=1) == 0):
        raise ValueError("invalid multinomial distribution (sum of probabilities <= 0)" + _HINT)
    q = (-_log1p(-_unit(gen, rows.size, np.dtype(f64))).astype(f64)).astype(rows.dtype)
    ratio = rows / q.reshape(rows.shape)
    if n == 1:
        return np.argmax(ratio, axis=1, keepdims=True).astype(np.int64)
    return np.argsort(-ratio, axis=1, kind="stable")[:, :n].astype(np.int64)


def _inverse_cdf(w: np.ndarray, n: int, gen: Generator) -> np.ndarray:
    if not np.all(w >= 0):  # ATen checks `val >= 0` first, so NaN reports this too
        raise ValueError("invalid multinomial distribution (encountering probability entry < 0)" + _HINT)
    if not np.all(np.isfinite(w)):
        raise ValueError("invalid multinomial distribution (encountering probability entry = infinity or NaN)"
                         + _HINT)
    cumulative = np.cumsum(w)  # sequential, in the weights' dtype, as ATen's loop
    total = cumulative[-1] if w.size else w.dtype.type(0)
    if not total > 0:
        raise ValueError("invalid multinomial distribution (sum of probabilities <= 0)" + _HINT)
    cumulative = cumulative / total
    cumulative[-1] = 1.0
    return np.searchsorted(cumulative, _unit(gen, n, np.dtype(f64)), side="left").astype(np.int64)

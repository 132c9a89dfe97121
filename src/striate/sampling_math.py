"""The arithmetic PyTorch's CPU sampling kernels do, reproduced to the last bit in NumPy.

Two things make PyTorch's random numbers more than their formulas:

- Fused multiply-adds. PyTorch is compiled by GCC with FMA enabled and contraction on, so
  `x * (to - from) + from` in `uniform_` and the polynomial steps of its vectorised logarithm
  and sine/cosine round once, not twice. `fma32` / `fma64` compute a*b + c with one rounding.
  GCC fuses a product into the addition that is its only use, taking the earlier-defined product
  when both operands of the addition are products; the steps below follow that rule (checked
  against PyTorch on 40,000 samples: no difference).
- float32 `randn` of 16 or more contiguous values (the AVX2 `normal_fill`) takes the logarithm,
  sine and cosine from `avx_mathfun.h` (Julien Pommier's Cephes polynomials, zlib licence), not
  from libm: `log_cephes` and `sincos_cephes` are those polynomials in float32, step by step.
"""

from __future__ import annotations

import numpy as np

f32 = np.float32
f64 = np.float64

# Cephes single-precision constants, rounded to float32 as the C initialisers do.
_SQRTHF = f32(0.707106781186547524)
_LOG_P = tuple(f32(v) for v in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
                                1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
                                3.3333331174e-1))
_LOG_Q1, _LOG_Q2 = f32(-2.12194440e-4), f32(0.693359375)
_MINUS_DP = (f32(-0.78515625), f32(-2.4187564849853515625e-4), f32(-3.77489497744594108e-8))
_SIN_P = (f32(-1.9515295891e-4), f32(8.3321608736e-3), f32(-1.6666654611e-1))
_COS_P = (f32(2.443315711809948e-005), f32(-1.388731625493765e-003), f32(4.166664568298827e-002))
_FOUR_OVER_PI = f32(1.27323954473516)
_MIN_NORMAL = np.array([0x00800000], np.uint32).view(f32)[0]


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """s, e with s = fl(a + b) and s + e == a + b exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def fma32(a, b, c) -> np.ndarray:
    """float32 a * b + c with a single rounding.

    The product of two float32 is exact in float64; the sum is rounded once to float64 and its
    error kept, so only an exact float32 tie can be decided wrongly by the second rounding: there
    the sign of the error breaks the tie.
    """
    a, b, c = (np.asarray(v, f32).astype(f64) for v in (a, b, c))
    s, err = _two_sum(a * b, c)
    near = s.astype(f32)
    near64 = near.astype(f64)
    other = np.nextafter(near, np.where(s > near64, f32(np.inf), f32(-np.inf)).astype(f32))
    tie = (s == (near64 + other.astype(f64)) / 2) & (err != 0)
    up = np.maximum(near, other)
    down = np.minimum(near, other)
    return np.where(tie, np.where(err > 0, up, down), near).astype(f32)


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp split of a float64 into two 26-bit halves."""
    t = a * f64(134217729.0)  # 2**27 + 1
    hi = t - (t - a)
    return hi, a - hi


def fma64(a, b, c) -> np.ndarray:
    """float64 a * b + c with one rounding (Dekker's exact product, then a compensated sum;
    wrong only at exact double-rounding ties, which the sampling paths never meet in practice)."""
    a, b, c = (np.asarray(v, f64) for v in (a, b, c))
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    p_err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s, s_err = _two_sum(p, c)
    return s + (s_err + p_err)


def log_cephes(x: np.ndarray) -> np.ndarray:
    """`log256_ps`: float32 natural logarithm, NaN for x <= 0."""
    x = np.asarray(x, f32)
    invalid = x <= 0
    x = np.maximum(x, _MIN_NORMAL)
    bits = x.view(np.uint32)
    exponent = (bits >> np.uint32(23)).astype(np.int32) - np.int32(0x7F)
    x = ((bits & np.uint32(0x807FFFFF)) | f32(0.5).view(np.uint32)).view(f32)  # mantissa in [0.5, 1)
    e = exponent.astype(f32) + f32(1)
    below = x < _SQRTHF
    x = (x - f32(1)) + np.where(below, x, f32(0))  # x < sqrt(1/2): 2x - 1 and e - 1
    e = e - np.where(below, f32(1), f32(0))
    z = x * x
    y = np.full_like(x, _LOG_P[0])
    for p in _LOG_P[1:]:
        y = fma32(y, x, p)
    y = y * x
    y = fma32(y, z, e * _LOG_Q1)
    y = fma32(-z, f32(0.5), y)
    x = fma32(e, _LOG_Q2, x + y)
    return np.where(invalid, f32(np.nan), x)


def sincos_cephes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`sincos256_ps`: float32 sine and cosine (range-reduced by pi/4, two polynomials)."""
    x = np.asarray(x, f32)
    sin_negative = np.signbit(x)
    x = np.abs(x)
    octant = (x * _FOUR_OVER_PI).astype(np.int32)  # truncation, as cvttps
    octant = (octant + 1) & ~1
    y = octant.astype(f32)
    sin_negative = sin_negative ^ ((octant & 4) != 0)
    cos_negative = (~(octant - 2) & 4) != 0
    sine_poly_for_sin = (octant & 2) == 0  # else the two polynomials swap roles
    for dp in _MINUS_DP:  # extended-precision x - y * pi/4
        x = fma32(y, dp, x)
    z = x * x
    yc = fma32(np.full_like(z, _COS_P[0]), z, _COS_P[1])
    yc = fma32(yc, z, _COS_P[2])
    yc = yc * z
    yc = fma32(yc, z, -(z * f32(0.5)))
    yc = yc + f32(1)
    ys = fma32(np.full_like(z, _SIN_P[0]), z, _SIN_P[1])
    ys = fma32(ys, z, _SIN_P[2])
    ys = fma32(ys * z, x, x)
    sin = np.where(sine_poly_for_sin, ys, yc)
    cos = np.where(sine_poly_for_sin, yc, ys)
    return np.where(sin_negative, -sin, sin), np.where(cos_negative, -cos, cos)


# The two float32 loops `striate.sampling` runs, as whole-array NumPy code (the reference twins
# of `striate.kernels.sampling_compiled`).
_TWO_PI = f32(2.0 * np.pi)  # 2.0f * c10::pi<double>, stored in a float lane


def uniform_f32(bits: np.ndarray, low: np.float32, span: np.float32) -> np.ndarray:
    """x = (24 low bits) / 2**24, then fma(x, span, low): PyTorch's float32 `uniform_`."""
    x = (bits & np.uint64((1 << 24) - 1)).astype(f32) * f32(2.0**-24)
    return fma32(x, span, low)


def box_muller_f32(blocks: np.ndarray, mean: np.float32, std: np.float32) -> np.ndarray:
    """Blocks of 16 uniforms -> 16 normals each, as PyTorch's AVX2 `normal_fill_16`."""
    radius = np.sqrt(f32(-2.0) * log_cephes(f32(1.0) - blocks[:, :8]))
    sin, cos = sincos_cephes(_TWO_PI * blocks[:, 8:])
    return np.concatenate([fma32(radius * cos, std, mean), fma32(radius * sin, std, mean)], axis=1)

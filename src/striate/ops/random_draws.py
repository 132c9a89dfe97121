"""Random draws that take a tensor (issue 21): `st.bernoulli`, `Tensor.bernoulli_`,
`st.multinomial`. The values come from `striate.sampling`, which follows PyTorch's CPU kernels
on the same Mersenne Twister stream, so after `st.manual_seed(n)` they equal torch's:

- bernoulli with a tensor of probabilities: one uniform per element in memory order, float64
  probabilities against a 53-bit uniform, float32 ones against a 24-bit uniform (ATen's
  `bernoulli_tensor_cpu_p_`); out = (u < p).
- bernoulli with a number p (`t.bernoulli_(0.3)`, `st.bernoulli(t, 0.3)`): a 53-bit uniform
  per element (ATen's portable `bernoulli_scalar_cpu_`). PyTorch builds with MKL on an Intel
  CPU draw these from MKL's own generator instead (not reproducible here); AMD CPUs and builds
  without MKL use the portable path, which is what striate matches.
- multinomial: see `striate.sampling.multinomial`.

`bernoulli(p)` has PyTorch's gradient: zero for p (the sample is a step function of p), so the
output requires grad when p does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate import sampling
from striate.autograd.function import Function
from striate.autograd.tensor import Tensor, wrap
from striate.ops.arithmetic import write_out
from striate.ops.inplace import apply_inplace
from striate.random import Generator, resolve

_MASK24 = np.uint64((1 << 24) - 1)
_MASK53 = np.uint64((1 << 53) - 1)


def _draw_against(p: np.ndarray, gen: Generator) -> np.ndarray:
    """u < p elementwise, one uniform per element of contiguous `p`, of p's precision."""
    n = p.size
    if p.dtype == np.float64:
        u = (gen.random64(n) & _MASK53).astype(np.float64) * 2.0**-53
    else:
        u = (gen.random32(n) & _MASK24).astype(np.float32) * np.float32(2.0**-24)
    return u.reshape(p.shape) < p


def _check_probabilities(p: np.ndarray) -> None:
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError("bernoulli: every probability must be in [0, 1] (PyTorch: Expected p_in >= 0 && "
                         "p_in <= 1 to be true); clamp them first")


def sample_bernoulli(shape_like: np.ndarray, p: Any, generator: Generator | None) -> np.ndarray:
    """0/1 values of `shape_like`'s shape and dtype, in its memory order; p a number or an array
    broadcast to that shape."""
    gen = resolve(generator)
    axes = sampling._memory_order(shape_like)
    shape = tuple(shape_like.shape[a] for a in axes)
    if isinstance(p, np.ndarray):
        if p.dtype.kind != "f":
            raise TypeError(f"bernoulli: probabilities must be floating point, got {p.dtype}")
        p = np.ascontiguousarray(np.broadcast_to(p, shape_like.shape).transpose(axes))
        _check_probabilities(p)
        hits = _draw_against(p, gen)
    else:
        hits = sampling.bernoulli(shape, float(p), gen)
    return hits.transpose(np.argsort(axes)).astype(shape_like.dtype)


class Bernoulli(Function):
    """z ~ Bernoulli(p) elementwise;  dz/dp = 0 (PyTorch's derivative)."""

    def forward(self, p, generator):
        return sample_bernoulli(p, p, generator)

    def backward(self, g):
        return (np.zeros_like(g),)


def bernoulli(input: Tensor, p: float | None = None, *, generator: Generator | None = None,  # noqa: A002
              out: Tensor | None = None) -> Tensor:
    """`torch.bernoulli(input)`: 1 with probability input[i] (a tensor of probabilities, float);
    `torch.bernoulli(input, p)`: a tensor shaped like input, 1 with probability p."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if p is not None:
        if not 0 <= p <= 1:
            raise ValueError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        result = wrap(sample_bernoulli(np.empty_like(input.array), p, generator), False)
    else:
        if input.array.dtype.kind != "f":
            raise TypeError(f"bernoulli(): the probabilities must be a floating point tensor, got "
                            f"{input.array.dtype}; use .float()")
        result = Bernoulli.apply(input, generator=generator)
    return write_out(result, out, "bernoulli")


def bernoulli_(t: Tensor, p: Any = 0.5, *, generator: Generator | None = None) -> Tensor:
    """`t.bernoulli_(p)`: fill t with 0/1 draws, p a number or a tensor of probabilities
    (broadcast to t's shape). A leaf that requires grad is refused as by every in-place op."""
    prob: Any = p.array if isinstance(p, Tensor) else p
    if not isinstance(prob, np.ndarray) and not 0 <= prob <= 1:
        raise ValueError(f"bernoulli_ expects p to be in [0, 1], but got p={prob}")
    values = sample_bernoulli(t.array, prob, generator)
    return apply_inplace(t, (), lambda a: values, lambda old: _constant_like(old, values))


def _constant_like(old: Tensor, values: np.ndarray) -> Tensor:
    """The new values as a graph node whose gradient to the old values is zero (a fill)."""
    return FillDrawn.apply(old, values=values)


class FillDrawn(Function):
    """z = fresh 0/1 values (in place);  dz/dold = 0."""

    def forward(self, old, values):
        return values.copy()

    def backward(self, g):
        return (np.zeros_like(g),)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Generator | None = None, out: Tensor | None = None) -> Tensor:
    """`torch.multinomial`: indices drawn from each row of non-negative weights (1-D or 2-D),
    without replacement by default."""
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if input.ndim not in (1, 2):
        raise ValueError(f"multinomial: prob_dist must be 1 or 2 dim, got {input.ndim} dimensions")
    if input.array.dtype.kind != "f":
        raise TypeError(f"multinomial only supports floating-point dtypes for input, got {input.array.dtype}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise TypeError(f"multinomial(): num_samples must be an int, got {type(num_samples).__name__}")
    result = wrap(sampling.multinomial(input.array, int(num_samples), replacement, generator), False)
    return write_out(result, out, "multinomial")

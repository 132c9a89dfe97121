"""`st.Tensor` methods of issue 21's remaining PyTorch names: `div(rounding_mode=)`,
`div_(rounding_mode=)`, `floor_divide`, `true_divide`, the `subtract`/`multiply`/`divide`
aliases, `unique`, `bernoulli`/`bernoulli_`, `multinomial`, `retain_grad()`/`retains_grad`.

Bound onto `Tensor` like `tensor_methods_extra` (copied from the class body below when
`striate.ops` is imported), after it.
"""

from __future__ import annotations

from typing import Any

from striate.autograd import retain_grad as _retain
from striate.autograd.tensor import Tensor
from striate.ops import arithmetic as _ar
from striate.ops import random_draws as _draws
from striate.ops import unique as _uniq


class TensorOperatorsMisc:
    """The methods `Tensor` gets from this module (see the module docstring)."""

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return _ar.div(self, other, rounding_mode=rounding_mode)

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return _ar.inplace_div(self, other, rounding_mode)

    def divide(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return _ar.div(self, other, rounding_mode=rounding_mode)

    def true_divide(self, other: Any) -> Tensor:
        return _ar.div(self, other)

    def floor_divide(self, other: Any) -> Tensor:
        return _ar.div(self, other, rounding_mode="floor")

    def subtract(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _ar.sub(self, other, alpha=alpha)

    def multiply(self, other: Any) -> Tensor:
        return _ar.mul(self, other)

    def unique(self, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
               return_counts: bool = False, dim: int | None = None) -> Any:
        return _uniq.unique(self, sorted, return_inverse, return_counts, dim)

    def bernoulli(self, p: float | None = None, *, generator: Any = None) -> Tensor:
        return _draws.bernoulli(self, p, generator=generator)

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Tensor:
        return _draws.bernoulli_(self, p, generator=generator)

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:
        return _draws.multinomial(self, num_samples, replacement, generator=generator)

    def retain_grad(self) -> None:
        """Fill this non-leaf tensor's `.grad` at backward (see `striate.autograd.retain_grad`)."""
        _retain.retain_grad(self)

    @property
    def retains_grad(self) -> bool:
        return _retain.retains_grad(self)


_NOT_METHODS = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__"}


def bind_misc_operators() -> None:
    """Copy the methods above onto `Tensor` (idempotent)."""
    for name, value in vars(TensorOperatorsMisc).items():
        if name not in _NOT_METHODS:
            setattr(Tensor, name, value)


bind_misc_operators()

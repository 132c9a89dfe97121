"""`axis=` and `keepdims=` as aliases of `dim=` and `keepdim=` (NumPy's names), as PyTorch accepts.

PyTorch's argument parser maps `axis` to `dim` and `keepdims` to `keepdim` for every function
and method that has them (`x.sum(axis=0)`, `x.argmax(axis=1)`, `torch.cat(ts, axis=1)`).
Giving both names is an error there ("sum() got an unexpected keyword argument 'axis'"); here
the same TypeError also says why.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

_ALIASES = (("axis", "dim"), ("keepdims", "keepdim"))


def with_axis_alias(fn: Callable, name: str | None = None) -> Callable:
    """`fn` accepting axis= for dim= and keepdims= for keepdim= (idempotent)."""
    if getattr(fn, "__axis_alias__", False):
        return fn
    params = list(inspect.signature(fn).parameters)
    label = name or fn.__name__
    positions = {real: params.index(real) for _, real in _ALIASES if real in params}

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not kwargs:  # the common call: nothing to translate
            return fn(*args)
        for alias, real in _ALIASES:
            if alias in kwargs and real in positions:
                if real in kwargs or len(args) > positions[real]:
                    raise TypeError(f"{label}() got an unexpected keyword argument '{alias}': "
                                    f"'{alias}' is an alias of '{real}', give only one of them")
                kwargs[real] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    wrapper.__axis_alias__ = True
    return wrapper


# Tensor methods (and torch functions of the same names) that take dim / keepdim
AXIS_METHODS = (
    "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "std", "var", "softmax",
    "log_softmax", "cumsum", "cumprod", "prod", "all", "any", "sort", "argsort", "topk",
    "count_nonzero", "squeeze", "unsqueeze", "chunk", "split", "gather", "index_select",
    "scatter", "scatter_add", "logsumexp", "unbind", "narrow",
)

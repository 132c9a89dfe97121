"""`st.unique` / `Tensor.unique` (`torch.unique`): the distinct values (or, with `dim`, the
distinct slices along that dimension), sorted ascending, optionally with the inverse indices
(where each input element or slice went: `values[inverse]` rebuilds the input) and the
counts. PyTorch's CPU kernel returns sorted values whatever `sorted=` says, and so does this.
Each NaN counts as its own value, as in PyTorch. The result is a new set of values, not a
function of the input that a gradient could flow through (PyTorch has no derivative for it
either), so it never requires grad.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor, wrap


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """values, or (values, inverse), (values, counts), (values, inverse, counts)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"unique(): argument 'input' must be a Tensor, not {type(input).__name__}")
    a = input.array
    if dim is None:
        values, inverse, counts = np.unique(a.reshape(-1), return_inverse=True, return_counts=True,
                                            equal_nan=False)
        inverse = inverse.reshape(a.shape)
    else:
        if not -a.ndim <= dim < max(a.ndim, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of [{-a.ndim}, {a.ndim - 1}], "
                             f"but got {dim})")
        axis = dim % a.ndim
        if a.shape[axis] == 0:
            values, inverse, counts = a, np.zeros(0, np.int64), np.zeros(0, np.int64)
        else:
            values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=axis,
                                                equal_nan=False)
        inverse = inverse.reshape(-1)
    out = [wrap(np.ascontiguousarray(values), False)]
    if return_inverse:
        out.append(wrap(inverse.astype(np.int64), False))
    if return_counts:
        out.append(wrap(counts.astype(np.int64), False))
    return out[0] if len(out) == 1 else tuple(out)

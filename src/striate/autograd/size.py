"""`st.Size`: the shape of a tensor, a tuple like `torch.Size`."""

from __future__ import annotations

import math
from typing import Any


class Size(tuple):
    """A tensor's shape: a tuple of ints (`t.shape`, `t.size()`), printed `striate.Size([2, 3])`.

    Slicing and adding keep it a Size, as in PyTorch; it compares equal to the plain tuple.
    One difference: inside an f-string (`f"{t.shape}"`) it formats as the tuple `(2, 3)`."""

    __slots__ = ()

    def __new__(cls, sizes: Any = ()) -> Size:
        return super().__new__(cls, sizes)

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds (1 for the 0-d shape)."""
        return math.prod(self)

    def __getitem__(self, index: Any) -> Any:
        out = super().__getitem__(index)
        return Size(out) if isinstance(index, slice) else out

    def __add__(self, other: Any) -> Size:
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> Size:
        return Size(tuple(other) + tuple(self))

    def __repr__(self) -> str:
        return f"striate.Size({list(self)})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        # f"{t.shape}" keeps the tuple form, so the library's error messages ("shape (2, 3)")
        # read the same as before; print(t.shape), str() and repr() give PyTorch's form.
        return format(tuple(self), spec)

    def __reduce__(self) -> tuple:
        return (Size, (tuple(self),))

"""`nn.Parameter`: a tensor that a `Module` registers as a learnable weight.

Assigning a `Parameter` to a module attribute (`self.weight = nn.Parameter(...)`) is what
puts it into `module.parameters()`, the list an optimizer updates. Otherwise it is an ordinary
`Tensor` that requires a gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor, _default_array, float32


class Parameter(Tensor):
    """A learnable tensor: `requires_grad=True` unless told otherwise.

    Built from a Tensor or a NumPy array it shares that memory (no copy), like
    `torch.nn.Parameter`; float arrays keep their dtype, other data follow `st.tensor`'s rules.

        >>> w = nn.Parameter(st.zeros(3, 2))
        >>> w.requires_grad
        True
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            arr = np.empty(0, float32)
        elif isinstance(data, Tensor):
            arr = data.array
        elif isinstance(data, np.ndarray) and data.dtype.kind == "f":
            arr = data
        else:
            arr = _default_array(data, None)
        self.array = arr
        self.grad = None
        self._ctx = None
        self._vc = None
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

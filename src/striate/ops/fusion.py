"""A layer and the ReLU after it as one graph node: the op-side half of `nn.Sequential`'s fusion.

    z = layer(x)            (a convolution, a fully connected layer, batch norm)
    y = relu(z) = max(0, z)
    dL/dz = dL/dy where y > 0, else 0          (relu's local gradient, seed 003)

`relu_fused(cls)` is `cls` with that ReLU as its epilogue: its forward writes the layer's
result into fresh memory and takes the max in place (no second array, no second node); its
backward masks dL/dy once and hands dL/dz to the layer's own backward. The node saves its
output (as ReLU's does), so an in-place change of y before backward raises, as in PyTorch, and
its name is ReLU's (`ReluBackward0`): the node PyTorch would show for y.

Who asks for it: `striate.nn.layers.fused` (the peephole in `nn.Sequential`) calls a layer
module inside `relu_after()`; the one op that builds the layer's node (`conv2d`, `linear`,
`batch_norm`) takes the request with `take_relu()`. The request is one-shot and per thread, and
`relu_after` withdraws it if nothing took it, so no other op ever sees it.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator

import numpy as np

from striate import kernels
from striate.autograd.function import Function
from striate.kernels import reference

_request = threading.local()


@contextlib.contextmanager
def relu_after() -> Iterator[list[bool]]:
    """Within the block, the next op that can take a ReLU epilogue takes it; the yielded box is
    [True] afterwards if one did (else the caller applies ReLU itself)."""
    taken = [False]
    _request.box = taken
    try:
        yield taken
    finally:
        _request.box = None


def take_relu() -> bool:
    """True (once) when the caller should build its node with a ReLU epilogue."""
    box = getattr(_request, "box", None)
    if box is None:
        return False
    _request.box = None
    box[0] = True
    return True


def relu_mask(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/dz: g where relu's output y > 0, else 0 (where g is NaN too), as ReLU's backward."""
    out = np.empty(g.shape, np.result_type(g, y))
    if g.shape == y.shape and all(a.flags.c_contiguous for a in (g, y)):
        kernels.relu_grad(g.reshape(-1), y.reshape(-1), out.reshape(-1))
    else:
        reference.relu_grad(g, y, out)
    return out


class ReLUEpilogue:
    """Mixin: the layer's Function with max(0, .) applied to its whole result in place."""

    saves_output = True

    def forward(self, *arrays: np.ndarray, **options) -> np.ndarray:
        z = super().forward(*arrays, **options)
        np.maximum(z, z.dtype.type(0), out=z)  # z is this node's own fresh result
        if self.needs_input_grad is not None:
            self.relu_out = z
        return z

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return super().backward(relu_mask(g, self.relu_out))

    def name(self) -> str:
        return "ReluBackward0"


class InKernelReLU:
    """Mixin for a Function that applies ReLU itself where its data are in cache when `self.relu`
    (its class says `relu = False`): the convolutions chunk by chunk, batch norm in its
    kernels. Its forward keeps its output as `self.relu_out` for the backward's mask."""

    saves_output = True
    relu = True

    def name(self) -> str:
        return "ReluBackward0"


@functools.cache
def relu_fused(cls: type[Function]) -> type[Function]:
    """`cls` with a ReLU epilogue (one class per layer Function, made once)."""
    mixin = InKernelReLU if "relu" in cls.__dict__ else ReLUEpilogue
    doc = f"{cls.__name__} then ReLU, one node."
    return type(f"{cls.__name__}ReLU", (mixin, cls), {"__doc__": doc})

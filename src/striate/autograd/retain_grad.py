"""`Tensor.retain_grad()` and `Tensor.retains_grad` (PyTorch's names).

A leaf's `.grad` is filled by backward; a non-leaf's is not, unless `retain_grad()` was called
on it: then the gradient that reaches the node which made it (its `grad_fn`) is also summed
into its `.grad` (accumulating over backward calls, as for a leaf). The node is told by
wrapping its `backward` on the node itself, so the engine needs no change; the engine drops the
wrapper with the rest of the node once the graph is freed.

An in-place change of the tensor after `retain_grad()` gives it a new node; `follow_inplace`
(called by the in-place machinery) wraps that one, and a wrapper only keeps the gradient while
its node is still the tensor's own, so `.grad` holds the gradient of the newest value, as in
PyTorch.
"""

from __future__ import annotations

import weakref

import numpy as np

from striate.autograd.tensor import Tensor, wrap

# id(tensor) -> weak reference, for `retains_grad` (a Tensor has __slots__ and no spare slot)
RETAINING: dict[int, weakref.ref] = {}


def retain_grad(t: Tensor) -> None:
    """Keep the gradient of this non-leaf tensor in `.grad` at the next backward (a no-op on a
    leaf, which keeps its own)."""
    if not t.requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if t._ctx is None or retains_grad(t):
        return
    key = id(t)
    RETAINING[key] = weakref.ref(t, lambda _ref, key=key: RETAINING.pop(key, None))
    _wrap(t)


def follow_inplace(t: Tensor) -> None:
    """After an in-place op gave `t` a new node: keep retaining its gradient there."""
    if retains_grad(t):
        _wrap(t)


def _wrap(t: Tensor) -> None:
    node = t._ctx
    target = weakref.ref(t)
    original = node.backward

    def backward_keeping_grad(g: np.ndarray):
        kept = target()
        if kept is not None and g is not None and kept._ctx is node:
            if kept.grad is None:
                kept.grad = wrap(np.array(g, dtype=kept.array.dtype, copy=True), False)
            else:
                kept.grad.array = kept.grad.array + g
        return original(g)

    node.backward = backward_keeping_grad


def retains_grad(t: Tensor) -> bool:
    """True for a non-leaf tensor whose gradient `retain_grad()` keeps (False for leaves)."""
    ref = RETAINING.get(id(t))
    return ref is not None and ref() is t and t._ctx is not None

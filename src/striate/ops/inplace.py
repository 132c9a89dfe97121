"""In-place operations (`add_`, `mul_`, `+=`, `x[i] = v`, `relu_`, ...) with PyTorch's rule.

An in-place op on a tensor that is part of the graph is recorded like any other op: the new
values are computed out of place from the old ones by the ordinary Function (`Add`, `Mul`,
`ReLU`, ...), written into the tensor's own memory, and the tensor's `grad_fn` becomes that
node. The node's first input is a private snapshot standing for the tensor's previous value
(its previous node), so the gradient flows through the old value exactly as for `y = y + x`:

    Y += X   ==   Y_new = Add(Y_old, X);  dL/dY_old = dL/dY_new,  dL/dX = dL/dY_new

Nodes recorded before the change still send their gradient to the old node (`seen_by` in
`striate.autograd.function`). The tensor's version counter goes up by one; a Function that
saved the old values for its backward notices the new version there and raises PyTorch's
"modified by an inplace operation" error instead of computing a wrong gradient.

Refused, as in PyTorch: an in-place change of a leaf that requires grad (outside `no_grad`),
of a view of such a leaf, and of an inference tensor outside inference mode.

Views: an in-place op on a view (`v = y[0]; v.mul_(2)`, `y[:, 1].zero_()`) also rewrites the
base's history and remakes the base's other views, as PyTorch's CopySlices
(`striate.autograd.rebase`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from striate.autograd.function import INPLACE_SEEN, Function, unbroadcast
from striate.autograd.grad_mode import _GRAD_ENABLED, _INFERENCE
from striate.autograd.rebase import (
    check_view_inplace,
    poison_after_untracked_change,
    rebase_history,
    snapshot,
)
from striate.autograd.retain_grad import RETAINING, follow_inplace
from striate.autograd.tensor import Tensor, _unwrap, _unwrap_index, check_writeable
from striate.autograd.version import ViewInfo, bump, view_info
from striate.ops import activation as _act
from striate.ops import elementwise as _ew


class Fill(Function):
    """Every element set to one value: no gradient reaches the old values."""

    def forward(self, x, value):
        return np.full_like(x, value)

    def backward(self, g):
        return (None,)


class Copy(Function):
    """dst.copy_(src): the old values are replaced by src (broadcast); src gets the gradient."""

    def forward(self, dst, src):
        self.src_shape = src.shape
        return np.broadcast_to(src, dst.shape).astype(dst.dtype, copy=True)

    def backward(self, g):
        return (None, unbroadcast(g, self.src_shape))


class IndexPut(Function):
    """x[index] = v: the picked places take v's values (and send their gradient to v); the
    others keep x's and pass its gradient through."""

    def forward(self, x, v, index):
        self.index, self.v_shape = index, v.shape
        out = x.copy()
        out[index] = v
        return out

    def backward(self, g):
        gx = None
        if self.needs_input_grad[0]:
            gx = g.copy()
            gx[self.index] = 0
        gv = None
        if self.needs_input_grad[1]:
            gv = unbroadcast(np.ascontiguousarray(g[self.index]), self.v_shape)
        return gx, gv


def _records(t: Tensor, operands: tuple, info: ViewInfo | None) -> bool:
    if not _GRAD_ENABLED[0]:
        return False
    return (t.requires_grad or (info is not None and info.base.requires_grad)
            or any(isinstance(o, Tensor) and o.requires_grad for o in operands))


def _check_target(t: Tensor) -> None:
    if not _INFERENCE[0] and t.is_inference():
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed. You can "
            "make a clone() to get a normal tensor before doing the in-place update."
        )
    check_writeable(t)


def _check_graph(t: Tensor, info: ViewInfo | None) -> None:
    """PyTorch's refusals of a recorded in-place op on `t`."""
    if info is not None:
        check_view_inplace(t, info)
    elif t._ctx is None and t.requires_grad:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation. Do the "
            "change under `with st.no_grad():` (as optimizers do), or on a clone()."
        )


def apply_inplace(t: Tensor, operands: tuple, plain: Callable[[np.ndarray], Any],
                  recorded: Callable[[Tensor], Tensor], copy_old: bool = False) -> Tensor:
    """Change `t` in place: `plain(array)` gives the new values when nothing is recorded;
    `recorded(old)` computes them with graph ops from `old`, a snapshot of `t`'s previous value
    (a copy when the op saves its first input for backward: `copy_old`)."""
    _check_target(t)
    info = view_info(t)
    if not _records(t, operands, info):
        new = plain(t.array)
        if new is not None:
            t.array[...] = new
        bump(t)
        if t._vc.views:
            poison_after_untracked_change(t)
        return t
    _check_graph(t, info)
    old = snapshot(t, copy_old)
    INPLACE_SEEN[0] = True  # from now on nodes are numbered (this one included)
    new = recorded(old)
    if new.array.shape != t.array.shape:
        raise RuntimeError(
            f"output with shape {list(t.shape)} doesn't match the broadcast shape "
            f"{list(new.shape)}: an in-place op cannot change a tensor's shape"
        )
    node = new._ctx
    t.array[...] = new.array
    version = bump(t)
    rebase_history(t, new, info)
    if RETAINING:  # retain_grad() follows the tensor to its new node
        follow_inplace(t)
    if node.saves_output:
        node.output_ref, node.out_version = weakref.ref(t), version
    return t


def _scaled(other: Any, alpha: Any, like: Tensor) -> Any:
    return other if alpha == 1 else _ew.mul(_ew.as_tensor(other, like), alpha)


class InplaceMethods:
    """The in-place methods `Tensor` gets (bound by `striate.ops.tensor_methods`)."""

    @property
    def _base(self) -> Tensor | None:
        """The tensor this view was made from by view ops (PyTorch's `_base`), else None."""
        info = view_info(self)
        return None if info is None else info.base

    def _is_view(self) -> bool:
        return view_info(self) is not None

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        o = _unwrap(other)
        return apply_inplace(self, (other,), lambda a: a + (o if alpha == 1 else alpha * o),
                             lambda old: _ew.add(old, _scaled(other, alpha, old)))

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        o = _unwrap(other)
        return apply_inplace(self, (other,), lambda a: a - (o if alpha == 1 else alpha * o),
                             lambda old: _ew.sub(old, _scaled(other, alpha, old)))

    def mul_(self, other: Any) -> Tensor:
        o = _unwrap(other)
        return apply_inplace(self, (other,), lambda a: a * o,
                             lambda old: _ew.mul(old, other), copy_old=True)

    def div_(self, other: Any) -> Tensor:
        o = _unwrap(other)
        return apply_inplace(self, (other,), lambda a: a / o,
                             lambda old: _ew.div(old, other), copy_old=True)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return apply_inplace(self, (), lambda a: np.clip(a, _unwrap(min), _unwrap(max)),
                             lambda old: _ew.clamp(old, min, max), copy_old=True)

    clip_ = clamp_

    def relu_(self) -> Tensor:
        def plain(a: np.ndarray) -> None:
            np.maximum(a, a.dtype.type(0), out=a)

        return apply_inplace(self, (), plain, _act.relu)

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        v = _unwrap(value)
        if isinstance(value, Tensor) and value.requires_grad:
            return self.copy_(value)
        return apply_inplace(self, (), lambda a: v, lambda old: Fill.apply(old, value=v))

    def copy_(self, src: Any, non_blocking: bool = False) -> Tensor:
        s = _unwrap(src)
        return apply_inplace(self, (src,), lambda a: s,
                             lambda old: Copy.apply(old, _ew.as_tensor(src, old)))

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def __setitem__(self, index: Any, value: Any) -> None:
        idx = _unwrap_index(index)
        v = _unwrap(value)

        def plain(a: np.ndarray) -> None:
            a[idx] = v  # straight into the memory: nothing to copy

        apply_inplace(self, (value,), plain,
                      lambda old: IndexPut.apply(old, _ew.as_tensor(value, old), index=idx))


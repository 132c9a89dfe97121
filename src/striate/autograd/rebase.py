"""In-place changes through views rewrite the base's history, as PyTorch's CopySlices does.

A view `v` of a base `b` (made by view ops: `b[0]`, `b.view(-1)`, `b.transpose(0, 1)`, ...)
shares `b`'s memory. After an in-place op `f` on `v` (`v.mul_(2)`), `b`'s values changed too,
so `b`'s history becomes

    b_new = CopySlices(b_old, f(v_old)):  b_old outside the view's region, f(v_old) inside it
    dL/db_old = dL/db_new with the region zeroed,   dL/d f(v_old) = (dL/db_new)[region]

and every view of `b` (`v` itself and older aliases such as `b[:, 1]`) is made again from the
new history: `w = view_chain(b_new)`, whose backward scatters dL/dw into b's shape (PyTorch's
AsStridedBackward0). An in-place op on `b` itself remakes its views the same way. The remade
node of a tensor is marked `inplace` with `prev` = its node before the change, so nodes recorded
earlier still route to the old history (`striate.autograd.function.seen_by`).

PyTorch refuses some of these changes, and so does striate, with its words: an in-place op on a
view of a leaf that requires grad, on a view made under `no_grad` (with grad mode on), and on
an output of a function that returns several views (`unbind`, `split`, `chunk`); such views are
also unusable after their base changed (here the error comes at backward, where PyTorch raises
when the view is next used).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import INPLACE_SEEN, Function, _next_seq
from striate.autograd.tensor import Tensor, wrap
from striate.autograd.version import MULTI_OUTPUT, NO_GRAD, ViewInfo, view_info, views_of


def replay(array: np.ndarray, chain: tuple) -> np.ndarray:
    """The view chain applied to `array` (a view of it where NumPy can make one)."""
    for op, options in chain:
        array = op().forward(array, **options)
    return array


def zero_region(g: np.ndarray, chain: tuple) -> np.ndarray:
    """A copy of `g` with the elements the view chain picks set to zero."""
    out = np.array(g, order="C")
    region = replay(out, chain)
    if region.flags.writeable and np.may_share_memory(region, out):
        region[...] = 0
    else:  # the chain copied (a reshape NumPy could not view): address by flat position
        where = replay(np.arange(out.size).reshape(out.shape), chain)
        out.reshape(-1)[where] = 0
    return out


class CopySlices(Function):
    """b_new = b_old with the view's region replaced by the view's new values."""

    message_name = "torch::autograd::CopySlices"  # PyTorch's name() of it, in its error texts

    def backward(self, g):
        region = replay(g, self.chain)
        if not self.needs_input_grad[0]:
            return None, region
        if region.size == g.size:  # the view covers the whole base (Conv1d's squeeze view)
            return np.zeros(g.shape, g.dtype), region
        return zero_region(g, self.chain), region


class AsStrided(Function):
    """A view made again from its base's new history; dL/dbase = the view ops' backward."""

    def backward(self, g):
        for fn in reversed(self.steps):
            g = fn.backward(g)[0]
        return (g,)


class RebasedViewError(Function):
    """Stands for a view whose history cannot be remade: its backward raises PyTorch's error."""

    def backward(self, g):
        raise RuntimeError(self.message)


def snapshot(t: Tensor, copy: bool = False) -> Tensor:
    """A private tensor standing for `t`'s present value and history."""
    s = wrap(t.array.copy() if copy else t.array, t.requires_grad)
    s._ctx = t._ctx
    return s


def attach(node: Function, parents: tuple, t: Tensor) -> None:
    """Make `node` (reading `parents`) `t`'s new history; earlier readers keep the old one."""
    INPLACE_SEEN[0] = True
    node.needs_input_grad = tuple([p.requires_grad for p in parents])
    node.parents = parents
    node.seq = _next_seq()
    node.inplace, node.prev = True, t._ctx
    t._ctx, t.requires_grad = node, True


def rebase_history(t: Tensor, new: Tensor, info: ViewInfo | None) -> None:
    """`t`'s memory now holds `new`'s values, computed by the recorded in-place op `new._ctx`:
    rewrite the history of `t`, of its base when `t` is a view, and of the base's views."""
    if info is None:
        node = new._ctx
        node.inplace, node.prev = True, t._ctx
        t._ctx, t.requires_grad = node, True
        base = t
    else:
        base = info.base
        node = CopySlices()
        node.chain = info.chain
        attach(node, (snapshot(base), new), base)
    views = views_of(base)
    if views:
        now = snapshot(base)  # the base's value and history after the change, for all its views
        for view in views:
            remake(view, now)


def remake(view: Tensor, base: Tensor) -> None:
    """Give `view` the history `view_chain(base)` (or an error node if PyTorch refuses it)."""
    info = view._view
    if info.meta is not None:
        poison(view, rebase_error(info, indirect=True))
        return
    node = AsStrided()
    steps, array = [], base.array
    try:
        for op, options in info.chain:
            fn = op()
            array = fn.forward(array, **options)
            steps.append(fn)
    except (IndexError, ValueError):  # the base's array was replaced (`.data = ...`)
        array = None
    if array is None or array.shape != view.array.shape:
        poison(view, "a view whose base's array was replaced (`base.data = ...`) cannot "
               "follow an in-place change of that base; make the view again from the base.")
        return
    node.steps = steps
    attach(node, (base,), view)


def poison(view: Tensor, message: str) -> None:
    """`view` is no longer usable for gradients: a backward that reaches it raises `message`."""
    node = RebasedViewError()
    node.message = message
    attach(node, (), view)


def poison_after_untracked_change(t: Tensor) -> None:
    """A change outside the graph (no_grad) leaves histories alone, but PyTorch still refuses
    views made under no_grad or by multi-output functions afterwards (their version moved)."""
    info = view_info(t)
    base = t if info is None else info.base
    if base.requires_grad:
        for view in views_of(base):
            if view._view.meta is not None:
                poison(view, rebase_error(view._view, indirect=True))


def check_view_inplace(t: Tensor, info: ViewInfo) -> None:
    """PyTorch's refusals of a recorded in-place op on the view `t`, in its order."""
    if info.meta is not None:
        raise RuntimeError(rebase_error(info, indirect=False))
    base = info.base
    if base._ctx is None and base.requires_grad:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def mark_multi_output(views: Any, name: str) -> None:
    """Mark the outputs of a function returning several views (`unbind` -> "Unbind")."""
    for i, v in enumerate(views):
        info = view_info(v)
        if info is not None and info.meta is None:
            v._view = info._replace(meta=MULTI_OUTPUT, name=name, output=i)


_CLARIFY = (
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your "
    "code by moving both the view and the inplace either both inside the no_grad block (if you "
    "don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked)."
)
_MULTI = (
    "This view is the output of a function that returns multiple views. Such functions do not "
    "allow the output views to be modified inplace. You should replace the inplace operation by "
    "an out-of-place one."
)


def rebase_error(info: ViewInfo, indirect: bool) -> str:
    """PyTorch's text for an in-place change it refuses on (or around) the view `info`."""
    what = ("its base or another view of its base has been modified inplace" if indirect
            else "is being modified inplace")
    if info.meta == NO_GRAD:
        return f"A view was created in no_grad mode and {what} with grad mode enabled. {_CLARIFY}"
    return f"Output {info.output} of {info.op_name()} is a view and {what}. {_MULTI}"

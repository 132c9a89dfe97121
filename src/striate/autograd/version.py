"""Version counters and view metadata: how many times a tensor's memory was changed in place,
and which tensors are views of which base.

PyTorch's rule for in-place changes: a Function that saved a tensor for its backward notes the
tensor's version when it saves it, and refuses to run its backward if the version moved since,
because the values it would read are no longer the ones its local gradient was computed for.

A view (`t.view(...)`, `t[0]`, `t.t()`, `t.detach()`) shares its base's memory, so it shares
its base's counter too: writing through the view bumps the base's version. The counter is a
small box created lazily (a fresh tensor has `_vc = None`, read as version 0), so the hot path
of every op, making a result tensor, pays nothing for it.

A view made by a view op (`Function.is_view`) also carries a `ViewInfo`: its base (the tensor
that owns the memory, as PyTorch's `_base`) and the chain of view ops that makes it from that
base. With it an in-place change through the view can rewrite the base's history, and every
other view of the base can be made again from the new history (`striate.autograd.rebase`).
"""

from __future__ import annotations

import weakref
from typing import Any, NamedTuple

from striate.autograd.grad_mode import _GRAD_ENABLED

# ViewInfo.meta: how the view was made (PyTorch's CreationMeta); such views refuse in-place
# changes that would rewrite their history.
NO_GRAD, MULTI_OUTPUT = "no_grad", "multi_output"


class VersionCounter:
    """One counter per piece of memory, shared by a tensor and all its views.

    `base` is a weak reference to the tensor that owns the memory, set once a view exists, so
    `is_view(t)` can tell a view from its base without keeping the base alive. `views` holds
    weak references to the views made by view ops (pruned of dead ones as it grows)."""

    __slots__ = ("value", "base", "views", "_prune_at")

    def __init__(self, value: int = 0) -> None:
        self.value = value
        self.base: weakref.ref | None = None
        self.views: list[weakref.ref] | None = None
        self._prune_at = 16


class ViewInfo(NamedTuple):
    """What makes a view from its base: `chain` is ((Function class, options), ...), replayed on
    the base's array in order; `meta` None, NO_GRAD or MULTI_OUTPUT; `name` (None: the last view
    op's) and `output` name the op for PyTorch's error text ("Output 1 of Unbind ...").
    Made on every view op by `tuple.__new__` (a class with __init__ costs three times as much)."""

    base: Any
    chain: tuple
    meta: str | None
    name: str | None = None
    output: int = 0

    def op_name(self) -> str:
        return self.name or view_op_name(*self.chain[-1])


def view_info(t: Any) -> ViewInfo | None:
    """`t`'s ViewInfo, or None when `t` was not made by a view op (cheap for plain tensors)."""
    box = t._vc
    if box is None or (box.base is not None and box.base() is t):
        return None  # no alias at all, or the base itself
    return getattr(t, "_view", None)


def counter(t: Any) -> VersionCounter:
    """`t`'s counter, created on first need."""
    box = t._vc
    if box is None:
        box = t._vc = VersionCounter()
    return box


def share_version(view: Any, base: Any) -> None:
    """Make `view` (whose array is a view of `base`'s) count versions with `base`."""
    box = counter(base)
    if box.base is None:
        box.base = weakref.ref(base)
    view._vc = box


def track_view(view: Any, source: Any, op: type, options: dict) -> None:
    """`view` was made from `source` by the view op `op(**options)` and shares its memory: it
    shares the version counter and learns its base and the view chain from that base.
    (On every view op: written out flat, share_version and view_info inlined.)"""
    box = source._vc
    if box is None:
        box = source._vc = VersionCounter()
    ref = box.base
    if ref is None:
        box.base = weakref.ref(source)
        parent = None
    else:
        parent = None if ref() is source else getattr(source, "_view", None)
    view._vc = box
    meta = None if _GRAD_ENABLED[0] else NO_GRAD
    if parent is None:
        view._view = _new_info(ViewInfo, (source, ((op, options),), meta, None, 0))
    else:
        view._view = _new_info(ViewInfo, (parent.base, parent.chain + ((op, options),),
                                          meta or parent.meta, None, 0))
    views = box.views
    if views is None:
        views = box.views = []
    views.append(weakref.ref(view))
    if len(views) > box._prune_at:
        box.views = views = [r for r in views if r() is not None]
        box._prune_at = 2 * len(views) + 16


_new_info = tuple.__new__


def views_of(base: Any) -> list[Any]:
    """The live views of `base` made by view ops (views of views included)."""
    box = base._vc
    if box is None or not box.views:
        return []
    found = [r() for r in box.views]
    return [v for v in found if v is not None and v._view.base is base]


def view_op_name(op: type, options: dict) -> str:
    """PyTorch's name for a view op in its error texts (Select, Slice, View, Permute, ...)."""
    if op.__name__ == "GetItem":
        parts = options["index"] if isinstance(options["index"], tuple) else (options["index"],)
        return "Slice" if any(isinstance(p, slice) for p in parts) else "Select"
    return {"Reshape": "View"}.get(op.__name__, op.__name__)


def bump(t: Any) -> int:
    """Record one in-place change of `t`'s memory; returns the new version."""
    box = counter(t)
    box.value += 1
    return box.value


def is_view(t: Any) -> bool:
    """True when `t` was made by a view op from another tensor (it does not own its memory)."""
    box = t._vc
    return box is not None and box.base is not None and box.base() is not t

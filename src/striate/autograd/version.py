"""Version counters: how many times a tensor's memory was changed in place.

PyTorch's rule for in-place changes: a Function that saved a tensor for its backward notes the
tensor's version when it saves it, and refuses to run its backward if the version moved since,
because the values it would read are no longer the ones its local gradient was computed for.

A view (`t.view(...)`, `t[0]`, `t.t()`, `t.detach()`) shares its base's memory, so it shares
its base's counter too: writing through the view bumps the base's version. The counter is a
small box created lazily (a fresh tensor has `_vc = None`, read as version 0), so the hot path
of every op, making a result tensor, pays nothing for it.
"""

from __future__ import annotations

import weakref
from typing import Any


class VersionCounter:
    """One counter per piece of memory, shared by a tensor and all its views.

    `base` is a weak reference to the tensor that owns the memory, set once a view exists, so
    `is_view(t)` can tell a view from its base without keeping the base alive."""

    __slots__ = ("value", "base", "rebased")

    def __init__(self, value: int = 0) -> None:
        self.value = value
        self.base: weakref.ref | None = None
        # Recorded in-place changes through views: (seq of the change's node, id of the view).
        # Another alias whose node is older than such a change holds a stale history (see
        # `stale_for`): the engine refuses to route its gradient instead of returning a wrong one.
        self.rebased: list[tuple[int, int]] | None = None


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


def bump(t: Any) -> int:
    """Record one in-place change of `t`'s memory; returns the new version."""
    box = counter(t)
    box.value += 1
    return box.value


def is_view(t: Any) -> bool:
    """True when `t` was made by a view op from another tensor (it does not own its memory)."""
    box = t._vc
    return box is not None and box.base is not None and box.base() is not t


def note_view_change(view: Any, seq: int) -> None:
    """Record that `view`'s memory (shared with its base) changed in the graph at node `seq`."""
    box = view._vc
    if box.rebased is None:
        box.rebased = []
    box.rebased.append((seq, id(view)))


def stale_for(t: Any, made: int, reader_seq: float, allowed: int | None = None) -> bool:
    """Whether `t`, whose node (as its reader sees it) has seq `made`, was changed through another
    view after that node and before its reader (seq `reader_seq`). `allowed`: a view id whose
    changes do not count (a write-back `base[idx] = view`)."""
    me = id(t)
    return any(vid != me and vid != allowed and made < seq < reader_seq
               for seq, vid in t._vc.rebased)

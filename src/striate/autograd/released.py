"""What a graph node keeps of its inputs: the tensor itself, or a weak stand-in for a large input
its backward never reads.

A node needs its inputs for two things: the *values* its backward reads (`saves_inputs`), and
the *way back* to the nodes that made them. Keeping every input tensor alive for the second
reason would keep every intermediate activation of a network until backward: a batch norm's
output feeding a ReLU (which reads its own output), the sum `out + identity` of a residual
block. PyTorch's graph keeps only the producers (`grad_fn`) of such inputs, so their memory is
returned as soon as the program drops them; striate does the same with `ReleasedInput`: a weak
reference to the tensor plus its producer node, which is all the backward walk reads.

Small inputs (below `tuning.RELEASE_INPUTS_FROM_BYTES`) stay referenced, so a graph drawn with
`st.viz.graph` still shows every value of the lecture's small examples; ONNX export traces its
own forward under `keep_graph_inputs()`, which keeps them all.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from striate import tuning
from striate.autograd.tensor import Tensor

# [release large unread inputs]: off inside `keep_graph_inputs()`
_RELEASING = [True]


class ReleasedInput:
    """Stands in a node's `parents` for a large non-leaf input whose value backward never reads.

    `_ctx` and `requires_grad` answer as the tensor would while it is alive (an in-place change
    gives it a newer node, which the backward walk routes past); once it is gone, its node as
    it was when this node was recorded (in-place changes need a live tensor, so it is the same).
    """

    __slots__ = ("ref", "ctx", "array_dtype", "shape")

    def __init__(self, t: Tensor) -> None:
        self.ref = weakref.ref(t)
        self.ctx = t._ctx
        self.array_dtype: np.dtype = t.array.dtype
        self.shape = t.array.shape

    @property
    def _ctx(self) -> Any:
        t = self.ref()
        return self.ctx if t is None else t._ctx

    @property
    def requires_grad(self) -> bool:
        t = self.ref()
        return True if t is None else t.requires_grad

    def __repr__(self) -> str:
        state = "alive" if self.ref() is not None else "released"
        return f"<ReleasedInput shape={tuple(self.shape)} dtype={self.array_dtype} ({state})>"


def graph_inputs(fn_class: type, inputs: tuple[Tensor, ...]) -> tuple[Any, ...]:
    """The node's `parents`: `inputs`, with each large non-leaf input that backward does not read
    replaced by a `ReleasedInput` (view ops keep theirs: their output shares the input's memory
    and its history is rewritten through them)."""
    if fn_class.is_view or not _RELEASING[0]:
        return inputs
    threshold = tuning.RELEASE_INPUTS_FROM_BYTES
    saved = fn_class.saves_inputs
    kept = None
    for i, t in enumerate(inputs):
        if t._ctx is not None and i not in saved and t.array.nbytes >= threshold:
            if kept is None:
                kept = list(inputs)
            kept[i] = ReleasedInput(t)
    return inputs if kept is None else tuple(kept)


def input_tensor(parent: Any) -> Tensor | None:
    """The tensor a `parents` entry stands for, or None once a released input is gone."""
    return parent.ref() if parent.__class__ is ReleasedInput else parent


def input_dtype(parent: Any) -> np.dtype:
    """The NumPy dtype of a `parents` entry (alive or released)."""
    return parent.array_dtype if parent.__class__ is ReleasedInput else parent.array.dtype


@contextlib.contextmanager
def keep_graph_inputs() -> Iterator[None]:
    """Within the block, graph nodes keep every input tensor (for tools that walk the graph's
    tensors afterwards, such as ONNX export's trace)."""
    before = _RELEASING[0]
    _RELEASING[0] = False
    try:
        yield
    finally:
        _RELEASING[0] = before

"""The computational graph: one `Function` node per operation, and the backward pass.

Seed 003 draws backpropagation as a circuit of "gates". Each gate knows its *local*
gradient; the chain rule multiplies it with the gradient flowing back from the output:

    dL/dx = dL/dz * dz/dx

A `Function` subclass is one gate. `forward(*arrays)` computes the output from NumPy arrays
and keeps what the backward needs; `backward(grad)` receives dL/dz and returns dL/dx for each
input (or None where no gradient is needed). `backward()` in this module walks the graph once,
in reverse topological order, with a loop rather than recursion so a 150-layer ResNet never
meets the recursion limit, and frees each node as soon as it has passed its gradient on.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import numpy as np

from striate.autograd.grad_mode import (  # noqa: F401  (re-exported: the old import path)
    _GRAD_ENABLED,
    _INFERENCE,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from striate.autograd.names import torch_name
from striate.autograd.released import graph_inputs, input_dtype
from striate.autograd.tensor import Tensor, wrap
from striate.autograd.version import track_view

# Creation order of recorded nodes: an in-place change gives a tensor a new node, and a node
# recorded before that change must still send its gradient to the tensor's earlier node.
_next_seq = itertools.count(1).__next__
# [any in-place op recorded yet]: until then the backward walk skips the in-place routing checks
# on every edge (set once by `striate.ops.inplace` / `striate.autograd.rebase`).
INPLACE_SEEN = [False]


class Function:
    """One node of the graph: a forward and its local backward, side by side.

    Subclasses implement::

        def forward(self, *arrays, **options) -> np.ndarray
        def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]

    `self.needs_input_grad` (a tuple of bools, one per tensor input, or None when nothing is
    recorded) is set before `forward` runs, so a forward can skip saving what no backward
    will use. `saves_inputs` lists the input positions whose *values* backward reads, and
    `saves_output = True` says backward reads the output's values (sigmoid, exp, softmax); if
    such a tensor is modified in place between forward and backward, backward raises instead
    of returning a wrong gradient.
    """

    saves_inputs: tuple[int, ...] = ()
    # {i: (j, ...)}: saved input i is read only to compute the gradients of inputs j (Mul's x is
    # needed only for y's gradient). An input whose readers need no gradient is not checked,
    # as PyTorch saves it only then. Inputs not listed are always checked.
    saved_for: dict[int, tuple[int, ...]] = {}
    saves_output: bool = False
    # True for an op whose output may be a view of input 0's memory (reshape, permute, basic
    # indexing): the output then shares input 0's version counter, and remembers its base and
    # this op (`forward(array, **options)` must be replayable on any array of the input's shape)
    # so an in-place change through it can rewrite the base's history (autograd.rebase).
    is_view: bool = False
    needs_input_grad: tuple[bool, ...] | None = None
    # the input tensors while the graph is alive (a large one backward does not read: a weak
    # `autograd.released.ReleasedInput`, so its memory returns when the program drops it)
    parents: tuple[Any, ...] | None = None
    # Set on the node of an in-place op (see striate.ops.inplace): `prev` is the node the
    # modified tensor had before; nodes recorded earlier (smaller `seq`) still route there.
    inplace: bool = False
    seq: int = 0  # creation order, counted from the first in-place op on (see `seen_by`)
    out_version: int = 0  # the output's version when a saved output was recorded

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # PyTorch-style custom Functions (static forward(ctx, ...)) get the ctx-style apply.
        super().__init_subclass__(**kwargs)
        if isinstance(cls.__dict__.get("forward"), staticmethod):
            cls.apply = classmethod(_apply_ctx_style)  # type: ignore[method-assign, assignment]

    @classmethod
    def apply(cls, *inputs: Tensor, **options: Any) -> Tensor:
        fn = cls()
        record = False
        if _GRAD_ENABLED[0]:
            try:
                for t in inputs:
                    if t.requires_grad:
                        record = True
                        break
            except AttributeError:
                raise _not_tensor_error(cls, inputs) from None
        if record:
            fn.needs_input_grad = tuple([t.requires_grad for t in inputs])
        try:
            arrays = [t.array for t in inputs]
        except AttributeError:
            raise _not_tensor_error(cls, inputs) from None
        out = fn.forward(*arrays, **options)
        if out.__class__ is not np.ndarray:  # NumPy turns 0-d results into scalars
            out = np.asarray(out)
        result = wrap(out, record)
        if cls.is_view and np.may_share_memory(out, arrays[0]):
            track_view(result, inputs[0], cls, options)
        if record:
            if INPLACE_SEEN[0]:  # before any in-place op, every node is older than all of them
                fn.seq = _next_seq()
            fn.parents = graph_inputs(cls, inputs)
            if cls.saves_inputs:  # versions now (None: no counter yet, version 0)
                fn.versions = tuple([None if (b := t._vc) is None else b.value for t in inputs])
            if cls.saves_output:
                fn.output_ref = weakref.ref(result)
            result._ctx = fn
        elif _INFERENCE[0]:
            result._inference = True
        return result

    def forward(self, *arrays: np.ndarray, **options: Any) -> np.ndarray:  # pragma: no cover
        raise TypeError(f"{type(self).__name__} is a Function without forward(); subclasses define "
                        "forward(self, *arrays, **options) and backward(self, grad)")

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:  # pragma: no cover
        raise TypeError(f"{type(self).__name__} is a Function without backward(); subclasses define "
                        "backward(self, grad) returning one gradient per tensor input")

    def _check_versions(self) -> None:
        for i in self.saves_inputs:
            t = self.parents[i]
            saved = self.versions[i] or 0
            if t._version != saved and self._reads(i):
                raise RuntimeError(_modified_message(t, seen_by(t._ctx, self), t._version, saved))
        if self.saves_output:
            out = self.output_ref()
            if out is not None and out._version != self.out_version:
                raise RuntimeError(_modified_message(out, self, out._version, self.out_version))

    def _reads(self, i: int) -> bool:
        """Whether this backward reads saved input i (see `saved_for`)."""
        readers = self.saved_for.get(i)
        return readers is None or any(self.needs_input_grad[j] for j in readers)

    def name(self) -> str:
        """PyTorch's name for this node (`AddBackward0`, `ConvolutionBackward0`, ...)."""
        return torch_name(type(self).__name__)

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """One `(node, 0)` pair per input, as PyTorch's: the input's own node, an
        `AccumulateGrad` for a leaf that requires grad, `(None, 0)` for an input without grad."""
        parents = self.parents
        if parents is None:
            raise RuntimeError(_FREED_GRAPH_MESSAGE)
        pairs = []
        for p in parents:
            ctx = seen_by(p._ctx, self)
            if ctx is not None:
                pairs.append((ctx, 0))
            elif p.requires_grad and p._ctx is None:
                pairs.append((AccumulateGrad(p), 0))
            else:
                pairs.append((None, 0))
        return tuple(pairs)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad:
    """The node PyTorch puts where a gradient reaches a leaf: `.variable` is the leaf."""

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable
        self.next_functions: tuple = ()

    def name(self) -> str:
        return "struct torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def seen_by(ctx: Function | None, node: Function) -> Function | None:
    """The node of a tensor as `node` saw it: in-place changes made after `node` was recorded
    (their nodes have a larger `seq`) are walked back through."""
    while ctx is not None and ctx.inplace and ctx.seq > node.seq:
        ctx = ctx.prev
    return ctx


_LEGACY_TYPE = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _modified_message(t: Tensor, maker: Function | None, now: int, expected: int) -> str:
    kind = _LEGACY_TYPE.get(t.array.dtype.name, t.array.dtype.name)
    made = (f", which is output 0 of {getattr(maker, 'message_name', None) or maker.name()},"
            if maker is not None else "")
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [striate.{kind}Tensor {list(t.array.shape)}]{made} is at version {now}; "
        f"expected version {expected} instead. Hint: the tensor was changed in place (+=, add_, "
        "x[i] = v, relu(inplace=True), ...) after an operation saved it for its gradient; change "
        "a clone() instead, or write the step out of place (y = y + x)."
    )


def _apply_ctx_style(cls: type, *args: Any) -> Tensor:
    from striate.autograd.custom_function import apply_ctx_style  # it imports this module

    return apply_ctx_style(cls, *args)


def _not_tensor_error(cls: type, inputs: tuple) -> TypeError:
    kinds = ", ".join(type(t).__name__ for t in inputs)
    return TypeError(f"{cls.__name__}.apply takes Tensors as positional arguments (got {kinds}); wrap "
                     "arrays with st.tensor(...) and pass every other setting as a keyword option")


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a gradient back to the shape of an input that NumPy broadcast.

    Broadcasting copies an input along new or size-1 axes; the gradient of a copy is the
    sum of the gradients of all its copies.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


_FREED_GRAPH_MESSAGE = (
    "trying to backward through the graph a second time: its saved values were freed by the "
    "first backward(). Pass retain_graph=True to the first call if you need to backward twice."
)


def _consumer_counts(roots: list[Function]) -> dict[Function, int]:
    """For every node reachable from `roots`, how many edges of the graph consume its output.

    One iterative pass over the graph (no recursion, so depth is unlimited); a node whose saved
    values were freed by an earlier backward raises here, before any gradient is written.
    """
    counts = dict.fromkeys(roots, 0)
    stack = list(counts)
    pop, push = stack.pop, stack.append
    inplace = INPLACE_SEEN[0]
    while stack:
        node = pop()
        parents = node.parents
        if parents is None:
            raise RuntimeError(_FREED_GRAPH_MESSAGE)
        for p in parents:
            ctx = p._ctx
            if inplace and ctx is not None and ctx.inplace:
                ctx = seen_by(ctx, node)
            if ctx is not None:
                if ctx in counts:
                    counts[ctx] += 1
                else:
                    counts[ctx] = 1
                    push(ctx)
    return counts


def topological_order(root_fn: Function) -> list[Function]:
    """Nodes reachable from `root_fn`, each after every node that consumes its output (Kahn's
    algorithm on the consumer counts, the order `run_backward` walks; `st.viz.graph` draws it)."""
    counts = _consumer_counts([root_fn])
    order, ready = [], [root_fn]
    while ready:
        node = ready.pop()
        order.append(node)
        for p in node.parents:
            ctx = p._ctx
            if ctx is not None and ctx.inplace:
                ctx = seen_by(ctx, node)
            if ctx is not None:
                counts[ctx] -= 1
                if not counts[ctx]:
                    ready.append(ctx)
    return order


def _accumulate_leaf(leaf: Tensor, grad: np.ndarray) -> None:
    if grad.dtype != leaf.array.dtype:
        grad = grad.astype(leaf.array.dtype)
    if leaf.grad is None:
        # A backward may return the same array for several inputs (add returns its grad
        # twice); a leaf owns its .grad, so it gets a copy.
        leaf.grad = wrap(np.array(grad, copy=True), False)
    else:
        leaf.grad.array = leaf.grad.array + grad
    hooks = leaf._hooks
    if hooks:
        for hook in hooks:
            hook(leaf)


def to_leaf(leaf: Tensor, grad: np.ndarray, capture: dict[Any, Any] | None) -> None:
    """A gradient reaching a leaf: into its `.grad`, or into `capture` when `grad()` asked."""
    if capture is None:
        _accumulate_leaf(leaf, grad)
    elif id(leaf) in capture:
        prev = capture[id(leaf)]
        capture[id(leaf)] = grad.copy() if prev is None else prev + grad


def run_backward(root: Tensor, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Backpropagate `grad` (dL/droot) to every leaf that requires grad (into its `.grad`)."""
    if root._ctx is None:
        _accumulate_leaf(root, grad)
        return
    run_graph({root._ctx: grad}, retain_graph)


def run_graph(root_grads: dict[Function, np.ndarray], retain_graph: bool = False,
              capture: dict[Any, Any] | None = None) -> None:
    """Backpropagate the gradients of the root nodes' outputs through the graph.

    Kahn's algorithm: a node runs its backward once every consumer of its output has passed its
    gradient back (the gradients of all paths summed: dL/dx = sum over consumers), so each node
    runs once and its summed gradient is dropped right after. Unless `retain_graph`, each node
    also drops what it saved as soon as it is done, so the graph's memory is returned during the
    backward pass itself.

    Without `capture`, gradients reaching a leaf that requires grad accumulate into its `.grad`.
    With `capture` (what `st.autograd.grad` passes: keys `id(leaf)` or a node, values None), no
    `.grad` is touched: the summed gradient of each captured leaf and each captured node's output
    is stored in `capture` instead.
    """
    counts = _consumer_counts(list(root_grads))
    grads = dict(root_grads)
    ready = [n for n in root_grads if not counts[n]]
    pop, push = ready.pop, ready.append
    inplace = INPLACE_SEEN[0]
    while ready:
        node = pop()
        g = grads.pop(node, None)
        parents = node.parents
        if capture is not None and node in capture and g is not None:
            capture[node] = g
        if g is None:  # no gradient reached this node: only release its inputs' counts
            in_grads = (None,) * len(parents)
        else:
            if node.saves_inputs or node.saves_output:
                node._check_versions()
            in_grads = node.backward(g)
        for parent, ig in zip(parents, in_grads):
            ctx = parent._ctx
            if inplace and ctx is not None and ctx.inplace:
                ctx = seen_by(ctx, node)
                if ctx is None:
                    continue  # it was not in the graph yet when this node read it
            if ctx is None:
                if ig is not None and parent.requires_grad:
                    to_leaf(parent, ig, capture)
                continue
            if ig is not None:
                dtype = input_dtype(parent)
                if ig.dtype is not dtype and ig.dtype != dtype:
                    ig = ig.astype(dtype)
                prev = grads.get(ctx)
                grads[ctx] = ig if prev is None else prev + ig
            left = counts[ctx] - 1
            counts[ctx] = left
            if not left:
                push(ctx)
        if not retain_graph:
            # Free what this node saved: the graph is used once, so memory does not grow
            # over a training run. An in-place node keeps what routes earlier readers.
            if inplace and node.inplace:
                keep = (node.seq, node.prev)
                node.__dict__.clear()
                node.inplace, (node.seq, node.prev) = True, keep
            else:
                node.__dict__.clear()

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

import weakref
from typing import Any

import numpy as np

from striate.autograd.grad_mode import (  # noqa: F401  (re-exported: the old import path)
    _GRAD_ENABLED,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from striate.autograd.tensor import Tensor, wrap


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
    saves_output: bool = False
    needs_input_grad: tuple[bool, ...] | None = None
    parents: tuple[Tensor, ...] | None = None  # the input tensors, while the graph is alive

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
        if record:
            fn.parents = inputs
            if cls.saves_inputs:
                fn.versions = tuple([t._version for t in inputs])
            if cls.saves_output:
                fn.output_ref = weakref.ref(result)
            result._ctx = fn
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
            if t._version != self.versions[i]:
                raise RuntimeError(
                    f"a tensor of shape {t.shape} that {type(self).__name__} saved for its "
                    f"gradient was modified in place (version {self.versions[i]} -> "
                    f"{t._version}) after the forward pass; the gradient would be wrong. "
                    "Modify a copy (t.clone()) or do the in-place change after backward()."
                )
        if self.saves_output:
            out = self.output_ref()
            if out is not None and out._version != 0:
                raise RuntimeError(
                    f"the output (shape {out.shape}) of {type(self).__name__}, which its gradient "
                    f"needs, was modified in place (version 0 -> {out._version}) after the forward "
                    "pass; the gradient would be wrong. Modify a copy (t.clone()) instead."
                )

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"


def _apply_ctx_style(cls: type, *args: Any) -> Tensor:
    from striate.autograd.custom_function import apply_ctx_style

    return apply_ctx_style(cls, *args)


def _not_tensor_error(cls: type, inputs: tuple) -> TypeError:
    kinds = ", ".join(type(t).__name__ for t in inputs)
    return TypeError(
        f"{cls.__name__}.apply takes Tensors as positional arguments (got {kinds}); wrap arrays "
        "with st.tensor(...) and pass every other setting as a keyword option"
    )


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


def _consumer_counts(root_fn: Function) -> dict[Function, int]:
    """For every node reachable from `root_fn`, how many edges of the graph consume its output.

    One iterative pass over the graph (no recursion, so depth is unlimited); a node whose saved
    values were freed by an earlier backward raises here, before any gradient is written.
    """
    counts = {root_fn: 0}
    stack = [root_fn]
    pop, push = stack.pop, stack.append
    while stack:
        parents = pop().parents
        if parents is None:
            raise RuntimeError(_FREED_GRAPH_MESSAGE)
        for p in parents:
            ctx = p._ctx
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
    counts = _consumer_counts(root_fn)
    order, ready = [], [root_fn]
    while ready:
        node = ready.pop()
        order.append(node)
        for p in node.parents:
            ctx = p._ctx
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


def run_backward(root: Tensor, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Backpropagate `grad` (dL/droot) to every leaf that requires grad.

    Kahn's algorithm: a node runs its backward once every consumer of its output has passed its
    gradient back (the gradients of all paths summed: dL/dx = sum over consumers), so each node
    runs once and its summed gradient is dropped right after. Unless `retain_graph`, each node
    also drops what it saved as soon as it is done, so the graph's memory is returned during the
    backward pass itself.
    """
    root_fn = root._ctx
    if root_fn is None:
        _accumulate_leaf(root, grad)
        return
    counts = _consumer_counts(root_fn)
    grads = {root_fn: grad}
    ready = [root_fn]
    pop, push = ready.pop, ready.append
    while ready:
        node = pop()
        g = grads.pop(node, None)
        parents = node.parents
        if g is None:  # no gradient reached this node: only release its inputs' counts
            in_grads = (None,) * len(parents)
        else:
            if node.saves_inputs or node.saves_output:
                node._check_versions()
            in_grads = node.backward(g)
        for parent, ig in zip(parents, in_grads):
            ctx = parent._ctx
            if ctx is None:
                if ig is not None and parent.requires_grad:
                    _accumulate_leaf(parent, ig)
                continue
            if ig is not None:
                dtype = parent.array.dtype
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
            # over a training run.
            node.__dict__.clear()

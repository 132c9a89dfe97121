"""`st.autograd.grad`, `st.autograd.backward` and the deprecated `st.autograd.Variable`.

`grad(outputs, inputs)` runs the same backward pass as `loss.backward()` (the Kahn walk of
`striate.autograd.function.run_graph`) but returns dL/d(input) for the given inputs instead of
accumulating into every leaf's `.grad`: no `.grad` is touched, as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.autograd.function import run_graph, to_leaf
from striate.autograd.tensor import Tensor, wrap


def _as_list(x: Any, what: str) -> list[Any]:
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, (list, tuple)):
        return list(x)
    raise TypeError(f"{what} must be a tensor or a sequence of tensors, got {type(x).__name__}")


def _root_grads(outputs: list[Tensor], grad_outputs: Any) -> list[np.ndarray]:
    """dL/d(output) for each output: ones for a scalar output when none is given."""
    given = [None] * len(outputs) if grad_outputs is None else _as_list(grad_outputs, "grad_outputs")
    if len(given) != len(outputs):
        raise RuntimeError(f"grad_outputs has {len(given)} tensors but there are {len(outputs)} outputs; "
                           "pass one gradient per output (None for a scalar output)")
    grads = []
    for out, g in zip(outputs, given):
        if not isinstance(out, Tensor):
            raise TypeError(f"outputs must be tensors, got {type(out).__name__}")
        if not out.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn: no input of the computation had requires_grad=True")
        if g is None:
            if out.array.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; this "
                                   f"output has shape {tuple(out.shape)}: pass grad_outputs")
            grads.append(np.ones_like(out.array))
            continue
        arr = np.asarray(g.array if isinstance(g, Tensor) else g, dtype=out.array.dtype)
        if arr.shape != out.array.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output has a shape of {arr.shape} and "
                               f"output has a shape of {tuple(out.shape)}")
        grads.append(arr)
    return grads


def _run(outputs: list[Tensor], grads: list[np.ndarray], retain_graph: bool,
         capture: dict | None) -> None:
    roots: dict[Any, np.ndarray] = {}
    for out, g in zip(outputs, grads):
        if out._ctx is None:  # a leaf as its own output
            to_leaf(out, g, capture)
            continue
        prev = roots.get(out._ctx)
        roots[out._ctx] = g if prev is None else prev + g
    if roots:
        run_graph(roots, retain_graph, capture)


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of `outputs` with respect to `inputs`, as a tuple (PyTorch's signature).

    `grad_outputs` are dL/d(output) (needed for non-scalar outputs); the graph is freed unless
    `retain_graph`. An input the outputs do not depend on is an error unless `allow_unused`
    (then its gradient is None, or zeros with `materialize_grads`). `create_graph=True` (a
    graph of the backward, for higher derivatives) is not available: striate's backward
    functions compute on NumPy arrays, so a clear error says so.
    """
    if create_graph:
        raise RuntimeError(
            "st.autograd.grad(create_graph=True) needs double backward (a graph of the backward "
            "pass), which striate does not record: its Functions compute gradients on NumPy "
            "arrays. Use create_graph=False, or estimate higher derivatives by finite differences."
        )
    if is_grads_batched:
        raise RuntimeError("st.autograd.grad(is_grads_batched=True) is not supported; loop over "
                           "the batch of grad_outputs instead")
    outs = _as_list(outputs, "outputs")
    ins = _as_list(inputs, "inputs")
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    for t in ins:
        if not isinstance(t, Tensor):
            raise TypeError(f"inputs must be tensors, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    capture: dict[Any, Any] = {}
    for t in ins:
        capture[t._ctx if t._ctx is not None else id(t)] = None
    _run(outs, _root_grads(outs, grad_outputs), bool(retain_graph), capture)
    result: list[Tensor | None] = []
    for t in ins:
        g = capture[t._ctx if t._ctx is not None else id(t)]
        if g is None:
            if not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            result.append(wrap(np.zeros_like(t.array), False) if materialize_grads else None)
        else:
            result.append(wrap(np.array(g, dtype=t.array.dtype, copy=True), False))
    return tuple(result)


def backward(tensors: Tensor | Sequence[Tensor], grad_tensors: Any = None,
             retain_graph: bool | None = None, create_graph: bool = False,
             inputs: Any = None) -> None:
    """Accumulate the gradients of `tensors` into the leaves' `.grad` (`torch.autograd.backward`)."""
    if create_graph:
        raise RuntimeError("backward(create_graph=True) needs double backward, which striate does "
                           "not record; use create_graph=False")
    if inputs is not None:
        raise RuntimeError("st.autograd.backward(inputs=...) is not supported; use "
                           "st.autograd.grad(outputs, inputs) to get the gradients of some inputs")
    outs = _as_list(tensors, "tensors")
    _run(outs, _root_grads(outs, grad_tensors), bool(retain_graph), None)


class _VariableMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """Deprecated (as in PyTorch): `Variable(t, requires_grad=...)` returns a tensor sharing
    `t`'s memory, with `requires_grad` as given; every tensor is an instance of `Variable`."""

    def __new__(cls, data: Any = None, requires_grad: bool = False, volatile: bool = False) -> Any:
        if data is None:
            return wrap(np.zeros(0, np.float32), False)
        t = data.detach() if isinstance(data, Tensor) else Tensor(data)
        return t.requires_grad_(requires_grad) if requires_grad else t

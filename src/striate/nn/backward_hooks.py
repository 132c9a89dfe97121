"""Module backward hooks: `register_full_backward_hook` and `register_full_backward_pre_hook`.

As in PyTorch, a module with such hooks routes its tensor inputs and its output through an
identity node (`BackwardHookFunction`, PyTorch's `BackwardHookFunctionBackward`):

    x --[input identity]--> forward(...) --> y --[output identity]--> rest of the graph

In the backward pass the output node sees dL/dy first: it calls the pre-hooks
`hook(module, grad_output) -> None | new grad_output`, then passes the (maybe replaced) gradient
on. The input node later sees dL/dx: it calls the hooks
`hook(module, grad_input, grad_output) -> None | new grad_input` and passes the result on.
grad_input has one entry per positional argument (None for non-tensors and for tensors that need
no gradient); grad_output one per output. When no input requires a gradient the hooks fire from
the output node with grad_input all None (their return value must then be None).

Limits (striate's nodes have one output): a module returning several tensors cannot take these
hooks (a clear error at forward time), and in a module with several tensor inputs that need
gradients the hooks see every grad_input but may not replace them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.grad_mode import is_grad_enabled
from striate.autograd.tensor import Tensor, wrap


class BackwardHookFunction(Function):
    """y = x (the same memory); dL/dx = on_grad(dL/dy), where the module's hooks run."""

    is_view = True

    def forward(self, x, *, on_grad):
        self.on_grad = on_grad
        return x

    def backward(self, g):
        return (self.on_grad(g),)


def _as_arrays(result: Any, expected: tuple, what: str) -> list:
    """A hook's replacement tuple, checked against what it replaces, as arrays (or None)."""
    if not isinstance(result, (tuple, list)):
        result = (result,)
    if len(result) != len(expected):
        raise RuntimeError(f"{what} returned an invalid number of gradients, got {len(result)}, but "
                           f"expected {len(expected)}")
    arrays = []
    for new, old in zip(result, expected):
        if new is None:
            arrays.append(None)
            continue
        if not isinstance(new, Tensor):
            raise TypeError(f"a backward hook must return striate Tensors (or None), "
                            f"got {type(new).__name__}")
        if old is not None and tuple(new.shape) != tuple(old.shape):
            raise RuntimeError(f"a backward hook returned a gradient of shape {tuple(new.shape)} where "
                               f"shape {tuple(old.shape)} was expected")
        arrays.append(new.array)
    return arrays


def _as_tensors(arrays: list) -> tuple:
    return tuple(None if a is None else wrap(a, False) for a in arrays)


class BackwardHook:
    """The state of one call of a hooked module: which arguments are tensors, the grad_output."""

    def __init__(self, module: Any, hooks: dict, pre_hooks: dict) -> None:
        self.module = module
        self.hooks: list[Callable] = list(hooks.values())
        self.pre_hooks: list[Callable] = list(pre_hooks.values())
        self.n_inputs = 0
        self.grad_index: list[int] = []  # positions of the inputs that require grad
        self.arrived: dict[int, np.ndarray] = {}
        self.grad_outputs: tuple | None = None

    def setup_input_hook(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        if not is_grad_enabled():
            return args
        new_args = list(args)
        for i, arg in enumerate(args):
            if isinstance(arg, Tensor) and arg.requires_grad:
                self.grad_index.append(i)
                new_args[i] = BackwardHookFunction.apply(arg, on_grad=self._input_grad(i))
        return tuple(new_args)

    def setup_output_hook(self, output: Any) -> Any:
        if not is_grad_enabled():
            return output
        if isinstance(output, Tensor):
            if not output.requires_grad:
                return output
            return BackwardHookFunction.apply(output, on_grad=self._output_grad)
        tensors = [o for o in output if isinstance(o, Tensor)] if isinstance(output, (tuple, list)) else []
        if len(tensors) == 1 and tensors[0].requires_grad:
            wrapped = BackwardHookFunction.apply(tensors[0], on_grad=self._output_grad)
            return type(output)(wrapped if o is tensors[0] else o for o in output)
        if any(t.requires_grad for t in tensors):
            raise NotImplementedError(
                f"{type(self.module).__name__} returns {len(tensors)} tensors: striate's full backward "
                "hooks support modules with one output tensor; register a tensor hook "
                "(output.register_hook) or hook a submodule instead"
            )
        return output

    def _output_grad(self, g: np.ndarray) -> np.ndarray | None:
        grad_outputs: tuple = (wrap(g, False),)
        for hook in self.pre_hooks:
            result = hook(self.module, grad_outputs)
            if result is not None:
                grad_outputs = _as_tensors(_as_arrays(result, grad_outputs, "Backward pre hook"))
        self.grad_outputs = grad_outputs
        if not self.grad_index:  # no input needs a gradient: the hooks fire now (torch warns)
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module "
                          "outputs since no inputs require gradients. See the documentation of "
                          "Module.register_full_backward_hook for more details.", stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                result = hook(self.module, grad_inputs, grad_outputs)
                if result is not None and not (isinstance(result, tuple) and all(r is None for r in result)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should "
                                       "always return None or None for all gradients.")
        out = grad_outputs[0]
        return None if out is None else out.array

    def _input_grad(self, position: int) -> Callable[[np.ndarray], np.ndarray | None]:
        def on_grad(g: np.ndarray) -> np.ndarray | None:
            self.arrived[position] = g
            if len(self.arrived) < len(self.grad_index) or self.grad_outputs is None:
                return g
            grad_inputs = tuple(wrap(self.arrived[i], False) if i in self.arrived else None
                                for i in range(self.n_inputs))
            for hook in self.hooks:
                result = hook(self.module, grad_inputs, self.grad_outputs)
                if result is None:
                    continue
                if len(self.grad_index) > 1:
                    raise RuntimeError(
                        f"a full backward hook of {type(self.module).__name__} returned new gradients for "
                        "a module with several tensor inputs that require grad; striate passes each "
                        "input's gradient on as it arrives, so only one-input modules may replace them"
                    )
                grad_inputs = _as_tensors(_as_arrays(result, grad_inputs, "Backward hook"))
            self.arrived.clear()
            self.grad_outputs = None
            out = grad_inputs[position]
            return None if out is None else out.array

        return on_grad

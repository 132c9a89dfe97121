"""PyTorch-style custom autograd Functions: `forward(ctx, ...)` and `backward(ctx, grad)` as
static methods working on Tensors, `ctx.save_for_backward(...)` / `ctx.saved_tensors`.

    class LegendrePolynomial3(st.autograd.Function):       # "Learning PyTorch with examples"
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    y = LegendrePolynomial3.apply(x)

striate's own operations subclass the same `Function` with methods on NumPy arrays
(`forward(self, *arrays)`, `backward(self, grad)`); a subclass whose `forward` is a
staticmethod is a PyTorch-style one, and its `apply` is `apply_ctx_style` below: one graph node
(`CtxFunctionNode`) runs the user's forward without recording (as PyTorch does) and calls the
user's backward with the output's gradient as a Tensor. As in PyTorch, arguments that are not
Tensors are passed through and their gradients (None) are dropped; backward must return one
gradient per argument of forward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.grad_mode import no_grad
from striate.autograd.tensor import Tensor, wrap


class FunctionCtx:
    """The `ctx` a PyTorch-style Function's forward and backward share."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self._saved: tuple[Any, ...] = ()

    def save_for_backward(self, *tensors: Any) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward takes Tensors or None, got {type(t).__name__}; keep "
                                "other values as attributes of ctx (ctx.alpha = alpha)")
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        return self._saved


class CtxFunctionNode(Function):
    """The graph node of one call of a PyTorch-style Function (see the module docstring)."""

    def forward(self, *arrays: np.ndarray, user: type, ctx: FunctionCtx, args: tuple,
                positions: tuple[int, ...]) -> np.ndarray:
        with no_grad():
            out = user.forward(ctx, *args)
        if not isinstance(out, Tensor):
            raise TypeError(f"{user.__name__}.forward must return one Tensor (got {type(out).__name__}); "
                            "striate's PyTorch-style Functions have a single output")
        self.user, self.ctx, self.positions, self.n_args = user, ctx, positions, len(args)
        return out.array

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        with no_grad():
            grads = self.user.backward(self.ctx, wrap(grad, False))
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != self.n_args:
            raise RuntimeError(f"function {self.user.__name__}Backward returned an incorrect number of "
                               f"gradients (expected {self.n_args}, got {len(grads)})")
        return tuple(_as_array(grads[p]) for p in self.positions)


def _as_array(g: Any) -> np.ndarray | None:
    if g is None:
        return None
    return g.array if isinstance(g, Tensor) else np.asarray(g)


def apply_ctx_style(user: type, *args: Any) -> Tensor:
    """`UserFunction.apply(*args)` for a PyTorch-style Function `user`."""
    positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
    ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
    return CtxFunctionNode.apply(*(args[i] for i in positions), user=user, ctx=ctx, args=args,
                                 positions=positions)

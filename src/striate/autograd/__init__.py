"""Automatic differentiation: the tensor, the graph of `Function` nodes, and gradcheck."""

from striate.autograd.function import (
    Function,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
    unbroadcast,
)
from striate.autograd.gradcheck import GradcheckError, gradcheck
from striate.autograd.tensor import Tensor, wrap

__all__ = [
    "Function",
    "GradcheckError",
    "Tensor",
    "enable_grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "unbroadcast",
    "wrap",
]

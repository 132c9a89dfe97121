"""Automatic differentiation: the tensor, the graph of `Function` nodes, and gradcheck."""

from striate.autograd.function import (
    Function,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
    unbroadcast,
)
from striate.autograd.grad_api import Variable, backward, grad
from striate.autograd.grad_mode import inference_mode
from striate.autograd.gradcheck import GradcheckError, gradcheck
from striate.autograd.tensor import Tensor, wrap

__all__ = [
    "Function",
    "GradcheckError",
    "Tensor",
    "Variable",
    "backward",
    "grad",
    "inference_mode",
    "enable_grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "unbroadcast",
    "wrap",
]

"""`striate.nn.functional`: the stateless operations, named as in `torch.nn.functional`.

Each name is re-exported from the module in `striate.ops` where its forward and backward live.
"""

from striate.ops.activation import elu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from striate.ops.linalg import linear
from striate.ops.loss import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "elu",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]

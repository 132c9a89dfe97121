"""`Maxout` (Goodfellow et al. 2013), one of the activations of seed 003: each output unit is
the maximum of `pieces` affine functions of the input,

    h_j(x) = max_{k = 1..pieces} (x . W_{j,k} + b_{j,k})

striate's own layer (PyTorch has none). Parameter layout: one affine map to
out_features * pieces values, `weight` (out_features * pieces, in_features) and `bias`
(out_features * pieces,), where row j * pieces + k holds piece k of output unit j. So the affine
output reshaped to (..., out_features, pieces) has the pieces of one unit side by side, and
`torch.nn.Linear(in, out * pieces)` followed by `.view(..., out, pieces).max(-1).values` is the
same function with the same state_dict.
"""

from __future__ import annotations

import math

import striate.nn.functional as F
from striate.autograd.tensor import Tensor
from striate.creation import empty
from striate.nn import init
from striate.nn.layers.linear import check_positive_int, reset_bias_uniform
from striate.nn.module import Module
from striate.nn.parameter import Parameter


class Maxout(Module):
    """Maxout units: out[..., j] = max_k (x W^T + b)[..., j * pieces + k].

    Initialised like `Linear(in_features, out_features * pieces)` (U(-1/sqrt(in), 1/sqrt(in))).
    The gradient flows to the winning piece only (ties, of probability zero for real inputs, share it).

        >>> layer = nn.Maxout(64, 10, pieces=3)     # 64 -> 10 units, 3 pieces each
    """

    def __init__(self, in_features: int, out_features: int, pieces: int, bias: bool = True,
                 dtype=None) -> None:
        super().__init__()
        check_positive_int(in_features, "in_features", "Maxout")
        check_positive_int(out_features, "out_features", "Maxout")
        check_positive_int(pieces, "pieces", "Maxout")
        self.in_features = in_features
        self.out_features = out_features
        self.pieces = pieces
        self.weight = Parameter(empty(out_features * pieces, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features * pieces, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        reset_bias_uniform(self.bias, self.weight)

    def forward(self, input: Tensor) -> Tensor:
        z = F.linear(input, self.weight, self.bias)
        z = z.reshape(*input.shape[:-1], self.out_features, self.pieces)
        return z.amax(dim=-1)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}, "
                f"bias={self.bias is not None}")

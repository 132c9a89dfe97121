"""One step of a recurrent layer: `RNNCell`, `LSTMCell`, `GRUCell` (PyTorch's names and shapes).

Parameters `weight_ih` (G*H, I), `weight_hh` (G*H, H), `bias_ih`, `bias_hh` (G*H,), all
U(-1/sqrt(H), 1/sqrt(H)). A cell runs the layer Function of striate.ops.recurrent for T = 1, so
its forward and backward are the same code as the full layers'.
"""

from __future__ import annotations

import math
from typing import Any

from striate.autograd.tensor import Tensor
from striate.creation import empty, zeros
from striate.nn import init
from striate.nn.layers.linear import check_device, check_positive_int
from striate.nn.module import Module
from striate.nn.parameter import Parameter
from striate.ops.recurrent import recurrent_layer


class RNNCellBase(Module):
    def __init__(self, mode: str, gates: int, input_size: int, hidden_size: int, bias: bool,
                 device: Any, dtype: Any) -> None:
        super().__init__()
        check_device(device)
        check_positive_int(input_size, "input_size", type(self).__name__, allow_zero=True)
        check_positive_int(hidden_size, "hidden_size", type(self).__name__)
        self.mode, self.input_size, self.hidden_size, self.bias = mode, input_size, hidden_size, bias
        self.weight_ih = Parameter(empty(gates * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(gates * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(gates * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(gates * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _step(self, input: Tensor, hx: tuple[Tensor | None, ...]) -> tuple[Tensor, ...]:  # noqa: A002
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            got = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"{name}: expected input of shape (N, {self.input_size}) or "
                             f"({self.input_size},), got {got}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        states = []
        for h in hx:
            if h is None:
                h = zeros(x.shape[0], self.hidden_size, dtype=input.dtype)
            elif not batched:
                h = h.unsqueeze(0)
            if tuple(h.shape) != (x.shape[0], self.hidden_size):
                raise ValueError(f"{name}: state of shape {tuple(h.shape)} should be "
                                 f"({x.shape[0]}, {self.hidden_size}) (batch, hidden_size)")
            states.append(h)
        weights = (self.weight_ih, self.weight_hh) + ((self.bias_ih, self.bias_hh) if self.bias else ())
        out, finals = recurrent_layer(self.mode, x.unsqueeze(0), tuple(states), weights)
        return tuple(f if batched else f.squeeze(0) for f in finals)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(f"RNN_{nonlinearity.upper()}", 1, input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        return self._step(input, (hx,))[0]


class LSTMCell(RNNCellBase):
    """One LSTM step; forward(input, (h, c)) returns (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__("LSTM", 4, input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        h, c = self._step(input, (None, None) if hx is None else tuple(hx))
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step; forward(input, h) returns h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__("GRU", 3, input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        return self._step(input, (hx,))[0]

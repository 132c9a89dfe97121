"""Recurrent layers `RNN`, `LSTM`, `GRU` with PyTorch's arguments, parameter names and state_dict.

A stack of `num_layers` layers (two directions each when bidirectional): layer l reads the
previous layer's output (both directions concatenated), with dropout between layers in training.
Parameters of layer l, direction suffix "" or "_reverse" (G = 1 RNN, 4 LSTM, 3 GRU gates):

    weight_ih_l{l}{suffix} (G*H, I or D*H),  weight_hh_l{l}{suffix} (G*H, H),
    bias_ih_l{l}{suffix} (G*H,),  bias_hh_l{l}{suffix} (G*H,)       all ~ U(-1/sqrt(H), 1/sqrt(H))

Shapes: input (T, N, I) ((N, T, I) with batch_first, (T, I) unbatched); h0/c0 and h_n/c_n
(D*num_layers, N, H); output (T, N, D*H). The time loops and BPTT are in striate.ops.recurrent.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import striate.nn.functional as F
from striate.autograd.tensor import Tensor
from striate.creation import empty, zeros
from striate.nn import init
from striate.nn.layers.linear import check_device, check_positive_int
from striate.nn.module import Module
from striate.nn.parameter import Parameter
from striate.nn.rnn_utils import PackedSequence, pack_like, pad_packed_sequence
from striate.ops.recurrent import recurrent_layer
from striate.ops.shape import cat, stack

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """The shared stack of recurrent layers; `mode` is RNN_TANH, RNN_RELU, LSTM or GRU."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        check_device(device)
        check_positive_int(input_size, "input_size", name, allow_zero=True)
        check_positive_int(hidden_size, "hidden_size", name)
        check_positive_int(num_layers, "num_layers", name)
        if isinstance(dropout, bool) or not 0 <= float(dropout) <= 1:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout!r}")
        if proj_size:
            raise ValueError(f"{name}: proj_size (LSTM projections) is not supported by striate; "
                             "use proj_size=0 and a Linear layer on the output")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout={dropout} acts only between layers, and num_layers=1 has none",
                          stacklevel=2)
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers = num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = {"weight_ih": (gate_size, layer_input), "weight_hh": (gate_size, hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                for kind, shape in shapes.items():
                    setattr(self, f"{kind}_l{layer}{suffix}", Parameter(empty(*shape, dtype=dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _layer_weights(self, layer: int, suffix: str) -> tuple[Tensor, ...]:
        kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if self.bias else ("weight_ih", "weight_hh")
        return tuple(getattr(self, f"{k}_l{layer}{suffix}") for k in kinds)

    def _initial_states(self, hx: Any, batch: int, dtype: Any, batched: bool) -> tuple[Tensor, ...]:
        n_states = 2 if self.mode == "LSTM" else 1
        expected = (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)
        if hx is None:
            return tuple(zeros(*expected, dtype=dtype) for _ in range(n_states))
        states = tuple(hx) if n_states == 2 else (hx,)
        if n_states == 2 and len(states) != 2 or not all(isinstance(s, Tensor) for s in states):
            raise TypeError(f"{type(self).__name__}: hx must be "
                            f"{'a tuple (h_0, c_0) of Tensors' if n_states == 2 else 'a Tensor'} or None")
        if not batched:
            states = tuple(s.unsqueeze(1) for s in states)
        for s in states:
            if tuple(s.shape) != expected:
                raise ValueError(f"{type(self).__name__}: initial state of shape {tuple(s.shape)} should be "
                                 f"{expected[:1] + expected[2:] if not batched else expected} "
                                 "(num_layers * num_directions, batch, hidden_size)")
            if s.dtype != dtype:
                raise TypeError(f"{type(self).__name__}: initial state dtype {s.dtype} differs from the "
                                f"input's {dtype}")
        return states

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:  # noqa: A002
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            padded, lengths = pad_packed_sequence(input)
            self._check_input(padded)
            states = self._initial_states(hx, padded.shape[1], padded.dtype, True)
            output, finals = self._run_stack(padded, states, lengths.numpy())
            return pack_like(output, input), (tuple(finals) if self.mode == "LSTM" else finals[0])
        if not isinstance(input, Tensor) or input.ndim not in (2, 3):
            raise ValueError(f"{name}: expected input of shape (T, N, input_size), (N, T, input_size) with "
                             f"batch_first=True, (T, input_size) unbatched, or a PackedSequence; got "
                             f"{tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__}")
        self._check_input(input)
        batched = input.ndim == 3
        x = input if not batched else (input.transpose(0, 1) if self.batch_first else input)
        if not batched:
            x = x.unsqueeze(1)
        states = self._initial_states(hx, x.shape[1], input.dtype, batched)
        output, finals = self._run_stack(x, states)
        if batched and self.batch_first:
            output = output.transpose(0, 1)
        elif not batched:
            output = output.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        return output, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def _check_input(self, input: Tensor) -> None:  # noqa: A002
        name = type(self).__name__
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {input.shape[-1]} features, the layer expects "
                             f"input_size={self.input_size}")
        if input.dtype != self.weight_ih_l0.dtype:
            raise TypeError(f"{name}: input dtype {input.dtype} differs from the weights' "
                            f"{self.weight_ih_l0.dtype}; convert one with .to()")

    def _run_stack(self, x: Tensor, states: tuple[Tensor, ...],
                   lengths: Any = None) -> tuple[Tensor, list[Tensor]]:
        directions = 2 if self.bidirectional else 1
        final = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                k = layer * directions + d
                out, last = recurrent_layer(self.mode, x, tuple(s[k] for s in states),
                                            self._layer_weights(layer, suffix), reverse=d == 1,
                                            lengths=lengths)
                outs.append(out)
                for bucket, value in zip(final, last):
                    bucket.append(value)
            x = outs[0] if directions == 1 else cat(outs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, [stack(b, dim=0) for b in final]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        defaults = (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False))
        for key, default in defaults:
            if getattr(self, key) != default:
                s += f", {key}={getattr(self, key)}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory; forward returns (output, (h_n, c_n)). Gates i, f, g, o as PyTorch."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: Any = None, dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit; forward returns (output, h_n). Gates r, z, n as PyTorch."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)

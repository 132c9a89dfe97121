"""Layers that only LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998) uses.

- `ScaledTanh`: the paper's squashing function f(a) = A tanh(S a), A = 1.7159, S = 2/3, chosen
  so that f(1) = 1 and f(-1) = -1 and the second derivative is largest at a = +-1.
- `TrainableSubsampling` (S2, S4): each unit adds the four inputs of its 2x2 window, multiplies
  the sum by one trainable coefficient per map and adds one trainable bias per map:
  2 parameters per map, (4 + 1) connections per output unit.
- `PartiallyConnectedConv2d` (C3): a 5x5 convolution whose output map j only reads the input
  maps listed in the paper's Table I (60 of the 6 x 16 pairs): 1,516 parameters instead of 2,416,
  "to break the symmetry in the network" and keep the number of connections in bounds.
- `EuclideanRBF` (the output layer): y_i = sum_j (x_j - w_ij)^2, the squared distance between
  F6's 84 outputs and the 84-dimensional prototype of class i (a stylized 7x12 bitmap of
  +-1 pixels), fixed by default as in the paper.

Each layer carries `summary_counts(input_shape, output_shape)` so `st.summary` can report the
paper's connection counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import striate as st
import striate.nn as nn
import striate.nn.functional as F
from striate.autograd.function import Function
from striate.autograd.tensor import Tensor

__all__ = [
    "DIGIT_BITMAPS",
    "LECUN_C3_TABLE",
    "EuclideanRBF",
    "PartiallyConnectedConv2d",
    "ScaledTanh",
    "TrainableSubsampling",
    "digit_prototypes",
    "lecun_uniform_",
    "rbf_loss",
]

LECUN_A = 1.7159
LECUN_S = 2.0 / 3.0

# Table I of LeCun et al. 1998: the S2 maps (0-5) that each C3 map (0-15) reads. Maps 0-5 take
# three contiguous maps, 6-11 four contiguous, 12-14 four non-contiguous, 15 all six.
LECUN_C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


def lecun_uniform_(tensor: Tensor, fan_in: int | np.ndarray) -> Tensor:
    """The paper's initialisation: weights uniform in (-2.4/F_i, 2.4/F_i), F_i the unit's fan-in.

    `fan_in` may be an array broadcastable to the tensor when units differ (C3's maps read 3, 4
    or 6 input maps)."""
    bound = 2.4 / np.asarray(fan_in, dtype=np.float64)
    u = st.random.default_generator().uniform(-1.0, 1.0, size=tensor.shape)
    with st.no_grad():
        tensor.copy_((u * bound).astype(tensor.dtype))
    return tensor


class ScaledTanh(nn.Module):
    """f(a) = A tanh(S a) with A = 1.7159, S = 2/3 (LeCun et al. 1998, Appendix A)."""

    def __init__(self, amplitude: float = LECUN_A, slope: float = LECUN_S) -> None:
        super().__init__()
        self.amplitude, self.slope = float(amplitude), float(slope)

    def forward(self, x: Tensor) -> Tensor:
        return st.tanh(x * self.slope) * self.amplitude

    def extra_repr(self) -> str:
        return f"amplitude={self.amplitude}, slope={self.slope:.4g}"


class TrainableSubsampling(nn.Module):
    """LeNet-5's S2/S4: y = w_c * (sum of the k x k window of map c) + b_c, windows not overlapping.

    Parameters: 2 per map (the coefficient w_c and the bias b_c); connections: out_elems * (k*k + 1).
    Like PyTorch's pooling, a trailing row or column that does not fill a window is dropped
    (and `st.summary` warns about it).
    """

    def __init__(self, channels: int, kernel_size: int = 2) -> None:
        super().__init__()
        if channels < 1 or kernel_size < 1:
            raise ValueError(f"TrainableSubsampling: channels ({channels}) and kernel_size ({kernel_size}) "
                             "must be positive")
        self.channels, self.kernel_size, self.stride, self.padding = channels, kernel_size, kernel_size, 0
        self.weight = nn.Parameter(st.empty(channels))
        self.bias = nn.Parameter(st.empty(channels))
        fan_in = kernel_size * kernel_size
        lecun_uniform_(self.weight, fan_in)
        lecun_uniform_(self.bias, fan_in)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"TrainableSubsampling expects (N, {self.channels}, H, W), got {tuple(x.shape)}")
        k = self.kernel_size
        n, c, h, w = x.shape
        oh, ow = h // k, w // k
        if oh == 0 or ow == 0:
            raise ValueError(f"TrainableSubsampling: the {k}x{k} window does not fit a {h}x{w} map")
        if (oh * k, ow * k) != (h, w):
            x = x[:, :, : oh * k, : ow * k]
        window_sums = x.reshape(n, c, oh, k, ow, k).sum(dim=(3, 5))
        return window_sums * self.weight.reshape(1, c, 1, 1) + self.bias.reshape(1, c, 1, 1)

    def summary_counts(self, input_shape: Sequence[int], output_shape: Sequence[int]) -> dict[str, int]:
        out_elems = int(np.prod(output_shape))
        return {"connections": out_elems * (self.kernel_size ** 2 + 1), "macs": out_elems}

    def extra_repr(self) -> str:
        return f"{self.channels}, kernel_size={self.kernel_size}"


class _ScatterKernel(Function):
    """Place the compact C3 kernels into a dense (out, in, k, k) kernel with zeros elsewhere.

    forward: K[o_p, i_p] = w[p] for each connection p of the table; backward: dL/dw[p] = dL/dK[o_p, i_p].
    """

    def forward(self, w: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                shape: tuple[int, ...]) -> np.ndarray:
        self.rows, self.cols = rows, cols
        dense = np.zeros(shape, dtype=w.dtype)
        dense[rows, cols] = w
        return dense

    def backward(self, g: np.ndarray) -> tuple[np.ndarray]:
        return (g[self.rows, self.cols],)


class PartiallyConnectedConv2d(nn.Module):
    """A convolution in which output map o reads only the input maps `connections[o]` (C3).

    weight: one k x k kernel per connection, shape (number of connections, k, k); bias: one per
    output map. With Table I: 60 kernels of 5x5 + 16 biases = 1,516 parameters, and on a
    14x14x6 input 10 * 10 * 1,516 = 151,600 connections.
    """

    def __init__(self, in_channels: int = 6, out_channels: int = 16, kernel_size: int = 5,
                 connections: Sequence[Sequence[int]] = LECUN_C3_TABLE, bias: bool = True) -> None:
        super().__init__()
        if len(connections) != out_channels:
            raise ValueError(f"PartiallyConnectedConv2d: the connection table has {len(connections)} rows "
                             f"but out_channels={out_channels}; give one tuple of input maps per output map")
        pairs = []
        for o, inputs in enumerate(connections):
            if not inputs or len(set(inputs)) != len(inputs):
                raise ValueError(f"PartiallyConnectedConv2d: output map {o} must read distinct input maps, "
                                 f"got {inputs!r}")
            for i in inputs:
                if not 0 <= i < in_channels:
                    raise ValueError(f"PartiallyConnectedConv2d: output map {o} reads input map {i}, but "
                                     f"in_channels={in_channels}")
                pairs.append((o, i))
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, 1, 0, 1
        self.connections = tuple(tuple(int(i) for i in c) for c in connections)
        self._rows = np.array([o for o, _ in pairs], dtype=np.int64)
        self._cols = np.array([i for _, i in pairs], dtype=np.int64)
        self.weight = nn.Parameter(st.empty(len(pairs), kernel_size, kernel_size))
        self.bias = nn.Parameter(st.empty(out_channels)) if bias else None
        # the fan-in of a unit of map o is len(connections[o]) * k * k
        fan_in = np.array([len(self.connections[o]) for o in self._rows]) * kernel_size ** 2
        lecun_uniform_(self.weight, fan_in.reshape(-1, 1, 1))
        if self.bias is not None:
            lecun_uniform_(self.bias, np.array([len(c) for c in self.connections]) * kernel_size ** 2)

    def dense_weight(self) -> Tensor:
        """The equivalent full (out, in, k, k) kernel, zero where Table I has no connection."""
        k = self.kernel_size
        return _ScatterKernel.apply(self.weight, rows=self._rows, cols=self._cols,
                                    shape=(self.out_channels, self.in_channels, k, k))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"PartiallyConnectedConv2d expects (N, {self.in_channels}, H, W), got "
                             f"{tuple(x.shape)}")
        return F.conv2d(x, self.dense_weight(), self.bias)

    def summary_counts(self, input_shape: Sequence[int], output_shape: Sequence[int]) -> dict[str, int]:
        positions = int(np.prod(output_shape[1:]))
        weights = int(np.prod(self.weight.shape))
        biases = self.out_channels if self.bias is not None else 0
        return {"connections": positions * (weights + biases), "macs": positions * weights}

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"connections={len(self._rows)} of {self.in_channels * self.out_channels}")


# 7 x 12 bitmaps of the ten digits ('#' = +1, '.' = -1), in the spirit of the paper's Fig. 3:
# stylized characters make prototypes that similar-looking classes (0/O, 1/l) share, unlike
# random codes. Drawn for striate; the paper's exact bitmaps are not published as data.
DIGIT_BITMAPS: tuple[tuple[str, ...], ...] = (
    (".......", "..###..", ".#...#.", "#.....#", "#.....#", "#.....#",
     "#.....#", "#.....#", "#.....#", ".#...#.", "..###..", "......."),
    (".......", "...#...", "..##...", ".#.#...", "...#...", "...#...",
     "...#...", "...#...", "...#...", "...#...", ".#####.", "......."),
    (".......", "..###..", ".#...#.", "#.....#", "......#", ".....#.",
     "....#..", "...#...", "..#....", ".#.....", "#######", "......."),
    (".......", "#######", ".....#.", "....#..", "...#...", "..###..",
     ".....#.", "......#", "......#", "#....#.", ".####..", "......."),
    (".......", ".....#.", "....##.", "...#.#.", "..#..#.", ".#...#.",
     "#....#.", "#######", ".....#.", ".....#.", ".....#.", "......."),
    (".......", "#######", "#......", "#......", "#.###..", "##...#.",
     "......#", "......#", "......#", "#....#.", ".####..", "......."),
    (".......", "...##..", "..#....", ".#.....", "#......", "#.###..",
     "##...#.", "#.....#", "#.....#", ".#...#.", "..###..", "......."),
    (".......", "#######", "......#", ".....#.", ".....#.", "....#..",
     "....#..", "...#...", "...#...", "..#....", "..#....", "......."),
    (".......", "..###..", ".#...#.", "#.....#", ".#...#.", "..###..",
     ".#...#.", "#.....#", "#.....#", ".#...#.", "..###..", "......."),
    (".......", "..###..", ".#...#.", "#.....#", "#.....#", ".#...##",
     "..###.#", "......#", ".....#.", "....#..", "..##...", "......."),
)


def digit_prototypes(num_classes: int = 10, features: int = 84, dtype: Any = np.float32) -> np.ndarray:
    """The RBF prototypes: the 7x12 digit bitmaps as +-1 codes for 10 classes and 84 features;
    otherwise random +-1 codes drawn from striate's seeded generator (`st.manual_seed`)."""
    if num_classes == 10 and features == 84:
        codes = np.array([[1.0 if ch == "#" else -1.0 for row in bitmap for ch in row]
                          for bitmap in DIGIT_BITMAPS])
        return codes.astype(dtype)
    bits = st.random.default_generator().integers(0, 2, size=(num_classes, features))
    return (2.0 * bits - 1.0).astype(dtype)


class EuclideanRBF(nn.Module):
    """LeNet-5's output layer: y_i = sum_j (x_j - w_ij)^2 for each class i.

    The prototypes w_i (shape (out_features, in_features)) are fixed +-1 codes by default, kept as
    a buffer named `weight`; with `trainable=True` they are a Parameter. The output is a
    *penalty*: the smaller y_i, the closer the input is to class i's prototype.
    """

    def __init__(self, in_features: int = 84, out_features: int = 10, prototypes: Any = None,
                 trainable: bool = False) -> None:
        super().__init__()
        if prototypes is None:
            protos = digit_prototypes(out_features, in_features)
        else:
            protos = np.asarray(prototypes, dtype=np.float32)
            if protos.shape != (out_features, in_features):
                raise ValueError(f"EuclideanRBF: prototypes must have shape ({out_features}, {in_features}), "
                                 f"got {protos.shape}")
        self.in_features, self.out_features, self.trainable = in_features, out_features, bool(trainable)
        if trainable:
            self.weight = nn.Parameter(st.tensor(protos))
        else:
            self.register_buffer("weight", st.tensor(protos))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"EuclideanRBF expects (N, {self.in_features}), got {tuple(x.shape)}")
        diff = x.unsqueeze(1) - self.weight.unsqueeze(0)  # (N, classes, features)
        return (diff * diff).sum(dim=2)

    def summary_counts(self, input_shape: Sequence[int], output_shape: Sequence[int]) -> dict[str, int]:
        n = self.in_features * self.out_features
        return {"connections": n, "macs": n}

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, trainable={self.trainable}"


def rbf_loss(scores: Tensor, target: Any, j: float | None = None, reduction: str = "mean") -> Tensor:
    """LeNet-5's training criteria on the classic model's output scores s_i = -y_i.

    j=None: the paper's eq. (8), E = mean_p y_{D_p}: the squared Euclidean distance between F6's
    output and the prototype of the target class (the "MSE against the target's prototype",
    summed over the 84 features). With fixed prototypes this is what the paper trains first.

    j given: eq. (9), E = mean_p [ y_{D_p} + log(e^{-j} + sum_i e^{-y_i}) ], which also pushes the
    wrong classes' penalties up; it equals cross-entropy over the scores plus one extra "rubbish"
    class of score -j, and `F.cross_entropy(scores, target)` is its j -> infinity limit.
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"rbf_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if scores.ndim != 2:
        raise ValueError(f"rbf_loss expects scores of shape (N, classes), got {tuple(scores.shape)}")
    idx = target.array if isinstance(target, Tensor) else np.asarray(target)
    idx = idx.astype(np.int64, copy=False).reshape(-1, 1)
    if idx.shape[0] != scores.shape[0]:
        raise ValueError(f"rbf_loss: {idx.shape[0]} targets for {scores.shape[0]} outputs")
    if idx.size and (idx.min() < 0 or idx.max() >= scores.shape[1]):
        raise ValueError(f"rbf_loss: targets must be class indices in [0, {scores.shape[1]})")
    if j is None:
        per_example = -scores.gather(1, st.tensor(idx)).reshape(-1)
        if reduction == "none":
            return per_example
        return per_example.mean() if reduction == "mean" else per_example.sum()
    rubbish = st.full((scores.shape[0], 1), -float(j), dtype=scores.dtype)
    return F.cross_entropy(st.cat([scores, rubbish], dim=1), st.tensor(idx.reshape(-1)), reduction=reduction)

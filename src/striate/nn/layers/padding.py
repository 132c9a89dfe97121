"""Padding layers: `ZeroPad1d/2d/3d`, `ConstantPad1d/2d/3d`, `ReflectionPad1d/2d/3d`,
`ReplicationPad1d/2d/3d`, `CircularPad1d/2d/3d`, as in `torch.nn`.

Each holds a padding tuple (left, right[, top, bottom[, front, back]]) and calls `F.pad`, where
the four modes and their backward live (`striate.ops.pad`):

    constant   fill with `value`              [a b c d] -> v v | a b c d | v v
    reflect    mirror, edge not repeated      [a b c d] -> c b | a b c d | c b
    replicate  repeat the edge                [a b c d] -> a a | a b c d | d d
    circular   wrap around                    [a b c d] -> c d | a b c d | a b

An int pads every side by that amount; a tuple gives each side (2 values per padded dimension).
"""

from __future__ import annotations

from typing import Any

import striate.nn.functional as F
from striate.autograd.tensor import Tensor
from striate.nn.module import Module


def _padding_tuple(padding: Any, dims: int, layer: str) -> tuple[int, ...]:
    """PyTorch's `_ntuple(2 * dims)`: an int for every side, else exactly 2 * dims ints."""
    if isinstance(padding, bool):
        raise TypeError(f"{layer}: padding must be an int or a tuple of {2 * dims} ints, got {padding!r}")
    if isinstance(padding, int):
        return (padding,) * (2 * dims)
    try:
        values = tuple(int(p) for p in padding)
    except TypeError:
        raise TypeError(f"{layer}: padding must be an int or a tuple of {2 * dims} ints, "
                        f"got {padding!r}") from None
    if len(values) != 2 * dims:
        raise ValueError(f"{layer}: padding must be an int or a tuple of {2 * dims} ints "
                         f"(before, after for each of the last {dims} dimension(s)), got {padding!r}")
    return values


class _PadNd(Module):
    """What every padding layer shares: `padding` as a tuple and one call to `F.pad`."""

    mode = "constant"
    dims = 2

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _padding_tuple(padding, self.dims, type(self).__name__)

    def _check_rank(self, input: Tensor) -> None:
        ranks = (self.dims + 1, self.dims + 2)
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a striate Tensor, "
                            f"got {type(input).__name__}")
        if input.ndim not in ranks:
            raise ValueError(f"{type(self).__name__}: expected a {ranks[0]}-D or {ranks[1]}-D input "
                             f"(unbatched or batched), got shape {tuple(input.shape)}")

    def forward(self, input: Tensor) -> Tensor:
        self._check_rank(input)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """y = x surrounded by `value` (negative padding crops, as with F.pad)."""

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a striate Tensor, "
                            f"got {type(input).__name__}")
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with a constant: (left, right)."""

    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with a constant: (left, right, top, bottom)."""

    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dimensions with a constant: (left, right, top, bottom, front, back)."""

    dims = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dimension with zeros: (left, right)."""

    dims = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dimensions with zeros: (left, right, top, bottom).

        >>> nn.ZeroPad2d((1, 1, 2, 0))(x)   # (N, C, H, W) -> (N, C, H + 2, W + 2)
    """

    dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dimensions with zeros."""

    dims = 3


class ReflectionPad1d(_PadNd):
    """Mirror the last dimension without repeating the edge; each amount < that dimension's size."""

    mode, dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Mirror the last two dimensions without repeating the edge (CycleGAN's and pix2pix's
    padding); each amount must be smaller than the dimension it pads."""

    mode, dims = "reflect", 2


class ReflectionPad3d(_PadNd):
    """Mirror the last three dimensions without repeating the edge."""

    mode, dims = "reflect", 3


class ReplicationPad1d(_PadNd):
    """Repeat the edge value along the last dimension."""

    mode, dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Repeat the edge pixels along the last two dimensions."""

    mode, dims = "replicate", 2


class ReplicationPad3d(_PadNd):
    """Repeat the edge voxels along the last three dimensions."""

    mode, dims = "replicate", 3


class CircularPad1d(_PadNd):
    """Wrap the last dimension around (periodic boundary); each amount <= its size."""

    mode, dims = "circular", 1


class CircularPad2d(_PadNd):
    """Wrap the last two dimensions around (a torus); each amount <= the dimension's size."""

    mode, dims = "circular", 2


class CircularPad3d(_PadNd):
    """Wrap the last three dimensions around."""

    mode, dims = "circular", 3


"""Seed 002's MNIST ConvNet ("Now let's develop it with PyTorch"):

    28x28x1 -> Conv 5x5 pad 2 (16) + BatchNorm + ReLU -> 28x28x16 -> MaxPool 2 -> 14x14x16
            -> Conv 5x5 pad 2 (32) + BatchNorm + ReLU -> 14x14x32 -> MaxPool 2 -> 7x7x32
            -> Linear(7*7*32, 10)

Attribute names layer1 / layer2 / fc are the slide's, so the slide's state_dict loads as is.
"""

from __future__ import annotations

import striate.nn as nn
from striate.autograd.tensor import Tensor

__all__ = ["ConvNet", "mnist_convnet"]


def _block(in_channels: int, out_channels: int, convs: int = 1, kernel_size: int = 5) -> nn.Sequential:
    """`convs` x (Conv 'same' + BatchNorm + ReLU), then MaxPool 2 (one conv: the slide's block)."""
    layers: list[nn.Module] = []
    for i in range(convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, kernel_size=kernel_size,
                             stride=1, padding=kernel_size // 2),
                   nn.BatchNorm2d(out_channels), nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(kernel_size=2, stride=2))


class ConvNet(nn.Module):
    """Two Conv-BatchNorm-ReLU-MaxPool blocks (16 and 32 channels) and one fully connected layer.

    `width` multiplies both channel counts (2 gives 32 and 64: "a slightly larger net");
    `hidden` > 0 adds a fully connected hidden layer of that many ReLU units before `fc`
    (attribute `hidden`); with `dropout` > 0 a Dropout sits just before `fc` (attribute `drop`,
    no parameters); `convs_per_block` = 2 stacks two Conv-BN-ReLU before each pool (VGG's
    pattern) and `kernel_size` (odd) sets the filters' size, padded to keep 28x28 and 14x14.
    The defaults are the slide's network exactly, with the slide's state_dict keys.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 1,
                 dropout: float = 0.0, hidden: int = 0, convs_per_block: int = 1,
                 kernel_size: int = 5) -> None:
        super().__init__()
        if convs_per_block < 1 or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"convs_per_block must be >= 1 and kernel_size odd, got {convs_per_block} "
                             f"and {kernel_size}")
        if width < 1:
            raise ValueError(f"width must be a positive integer, got {width}")
        if hidden < 0:
            raise ValueError(f"hidden must be 0 (no hidden layer) or a positive size, got {hidden}")
        c1, c2 = 16 * width, 32 * width
        self.layer1 = _block(in_channels, c1, convs_per_block, kernel_size)
        self.layer2 = _block(c1, c2, convs_per_block, kernel_size)
        self.channels = c2
        features = 7 * 7 * c2
        self.hidden = nn.Sequential(nn.Linear(features, hidden), nn.ReLU()) if hidden else None
        self.drop = nn.Dropout(dropout) if dropout else None
        self.fc = nn.Linear(hidden or features, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        out = self.layer1(x)
        out = self.layer2(out)
        if out.shape[1:] != (self.channels, 7, 7):
            raise ValueError(f"ConvNet expects 28x28 inputs (7x7x{self.channels} before fc), got "
                             f"{tuple(x.shape)} -> {tuple(out.shape)}")
        out = out.reshape(out.shape[0], -1)
        if self.hidden is not None:
            out = self.hidden(out)
        if self.drop is not None:
            out = self.drop(out)
        return self.fc(out)


def mnist_convnet(num_classes: int = 10, in_channels: int = 1, width: int = 1,
                  dropout: float = 0.0, hidden: int = 0, convs_per_block: int = 1,
                  kernel_size: int = 5) -> ConvNet:
    """Seed 002's two-layer ConvNet for 28x28 MNIST digits (the options: see ConvNet)."""
    return ConvNet(num_classes=num_classes, in_channels=in_channels, width=width, dropout=dropout,
                   hidden=hidden, convs_per_block=convs_per_block, kernel_size=kernel_size)

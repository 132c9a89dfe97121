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


def _block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=5, stride=1, padding=2),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
    )


class ConvNet(nn.Module):
    """Two Conv-BatchNorm-ReLU-MaxPool blocks (16 and 32 channels) and one fully connected layer.

    `width` multiplies both channel counts (2 gives 32 and 64: "a slightly larger net");
    `hidden` > 0 adds a fully connected hidden layer of that many ReLU units before `fc`
    (attribute `hidden`); with `dropout` > 0 a Dropout sits just before `fc` (attribute `drop`,
    no parameters). The defaults are the slide's network exactly, with the slide's state_dict keys.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 1,
                 dropout: float = 0.0, hidden: int = 0) -> None:
        super().__init__()
        if width < 1:
            raise ValueError(f"width must be a positive integer, got {width}")
        if hidden < 0:
            raise ValueError(f"hidden must be 0 (no hidden layer) or a positive size, got {hidden}")
        c1, c2 = 16 * width, 32 * width
        self.layer1 = _block(in_channels, c1)
        self.layer2 = _block(c1, c2)
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
                  dropout: float = 0.0, hidden: int = 0) -> ConvNet:
    """Seed 002's two-layer ConvNet for 28x28 MNIST digits (width/dropout/hidden: see ConvNet)."""
    return ConvNet(num_classes=num_classes, in_channels=in_channels, width=width, dropout=dropout,
                   hidden=hidden)

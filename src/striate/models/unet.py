"""U-Net (Ronneberger, Fischer, Brox 2015; seed 002, "Image segmentation"): a contracting path of
two 3x3 convolutions (+ ReLU) per level and 2x2 max-pools that double the channels and halve the
size, an expanding path of 2x2 "up-convolutions" (ConvTranspose2d, stride 2) that halve the
channels and double the size, each followed by two 3x3 convolutions on the up-sampled maps
concatenated with the same-level maps from across the "U" (the skip connections), and a final
1x1 convolution to one score map per class.

Difference from the paper: the paper's 3x3 convolutions are unpadded, so every level loses a
border and the skip maps are cropped before the concatenation (572x572 input -> 388x388 output).
Here every 3x3 convolution has padding=1, so the output has the input's size and nothing needs
cropping; the input size must then be divisible by 2^depth.

    unet(in_channels=1, num_classes=2, base=64, depth=4): 64-128-256-512-1024 channels, as in the paper.
"""

from __future__ import annotations

import striate as st
import striate.nn as nn
from striate.autograd.tensor import Tensor

__all__ = ["DoubleConv", "Down", "UNet", "Up", "unet"]


class DoubleConv(nn.Module):
    """(3x3 conv pad 1 -> [BatchNorm] -> ReLU) twice."""

    def __init__(self, in_channels: int, out_channels: int, batch_norm: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for c_in in (in_channels, out_channels):
            layers.append(nn.Conv2d(c_in, out_channels, kernel_size=3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.ReLU(inplace=True))
        self.conv = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class Down(nn.Module):
    """2x2 max-pool (stride 2), then DoubleConv doubling the channels."""

    def __init__(self, in_channels: int, out_channels: int, batch_norm: bool = False) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.conv = DoubleConv(in_channels, out_channels, batch_norm)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(self.pool(x))


class Up(nn.Module):
    """2x2 up-convolution halving the channels, concatenation with the skip maps, DoubleConv."""

    def __init__(self, in_channels: int, out_channels: int, batch_norm: bool = False) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(in_channels // 2 + out_channels, out_channels, batch_norm)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        return self.conv(st.cat([skip, self.up(x)], dim=1))


class UNet(nn.Module):
    """U-Net with `depth` poolings and `base` channels at the top level (padded convolutions)."""

    def __init__(self, in_channels: int = 1, num_classes: int = 2, base: int = 64, depth: int = 4,
                 batch_norm: bool = False) -> None:
        super().__init__()
        if depth < 1 or base < 1:
            raise ValueError(f"unet: depth ({depth}) and base ({base}) must be positive")
        self.depth = depth
        self.inc = DoubleConv(in_channels, base, batch_norm)
        self.downs = nn.ModuleList([Down(base * 2 ** i, base * 2 ** (i + 1), batch_norm)
                                    for i in range(depth)])
        self.ups = nn.ModuleList([Up(base * 2 ** (i + 1), base * 2 ** i, batch_norm)
                                  for i in reversed(range(depth))])
        self.outc = nn.Conv2d(base, num_classes, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        multiple = 2 ** self.depth
        if x.ndim != 4 or x.shape[2] % multiple or x.shape[3] % multiple:
            raise ValueError(f"UNet with depth {self.depth} needs (N, C, H, W) with H and W divisible by "
                             f"{multiple}, got {tuple(x.shape)}; pad or crop the image")
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up in self.ups:
            x = up(x, skips.pop())
        return self.outc(x)


def unet(in_channels: int = 1, num_classes: int = 2, base: int = 64, depth: int = 4,
         batch_norm: bool = False) -> UNet:
    """Seed 002's U-Net with padding=1 convolutions (output size = input size)."""
    return UNet(in_channels=in_channels, num_classes=num_classes, base=base, depth=depth,
                batch_norm=batch_norm)

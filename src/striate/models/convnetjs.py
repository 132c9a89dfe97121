"""ConvNetJS's CIFAR-10 demo network (Karpathy), the one the lectures run in the browser:

    input 32x32x3
    conv 16 filters 5x5, stride 1, pad 2, ReLU -> 32x32x16;  pool 2x2 stride 2 -> 16x16x16
    conv 20 filters 5x5, stride 1, pad 2, ReLU -> 16x16x20;  pool 2x2 stride 2 -> 8x8x20
    conv 20 filters 5x5, stride 1, pad 2, ReLU -> 8x8x20;    pool 2x2 stride 2 -> 4x4x20
    fc 10 (softmax: the logits here; cross-entropy applies the softmax)
"""

from __future__ import annotations

import striate as st
import striate.nn as nn
from striate.autograd.tensor import Tensor

__all__ = ["ConvNetJSCifar", "convnetjs_cifar"]


class ConvNetJSCifar(nn.Module):
    """Three conv(5x5, pad 2)-ReLU-pool(2) stages of 16, 20, 20 filters and a 10-way classifier."""

    def __init__(self, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 16, kernel_size=5, stride=1, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(16, 20, kernel_size=5, stride=1, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(20, 20, kernel_size=5, stride=1, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        )
        self.classifier = nn.Linear(4 * 4 * 20, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        if x.shape[1:] != (20, 4, 4):
            raise ValueError(f"convnetjs_cifar expects 32x32 inputs (4x4x20 before the classifier), got "
                             f"{tuple(x.shape)}")
        return self.classifier(st.flatten(x, 1))


def convnetjs_cifar(num_classes: int = 10, in_channels: int = 3) -> ConvNetJSCifar:
    """ConvNetJS's CIFAR-10 demo: 32x32x3 -> 3 x (conv 5x5 pad 2, ReLU, pool 2) -> fc 10."""
    return ConvNetJSCifar(num_classes=num_classes, in_channels=in_channels)

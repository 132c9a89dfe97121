"""AlexNet (Krizhevsky, Sutskever, Hinton 2012) as seed 003's "full (simplified) AlexNet" table,
one tower (the paper split it over two GPUs):

    [227x227x3]  INPUT
    [55x55x96]   CONV1: 96 11x11 filters at stride 4, pad 0     34,944 params = 34,848 weights + 96 biases
    [27x27x96]   MAX POOL1: 3x3 filters at stride 2             0 params
    [27x27x96]   NORM1: local response normalisation
    [27x27x256]  CONV2: 256 5x5 filters at stride 1, pad 2      614,656
    [13x13x256]  MAX POOL2: 3x3 filters at stride 2
    [13x13x256]  NORM2
    [13x13x384]  CONV3: 384 3x3 filters at stride 1, pad 1      885,120
    [13x13x384]  CONV4: 384 3x3 filters at stride 1, pad 1      1,327,488
    [13x13x256]  CONV5: 256 3x3 filters at stride 1, pad 1      884,992
    [6x6x256]    MAX POOL3: 3x3 filters at stride 2
    [4096]       FC6   37,752,832      [4096] FC7   16,781,312      [1000] FC8   4,097,000
    total 62,378,344 parameters; ReLU after every conv and FC6/FC7, dropout 0.5 before FC6 and FC7.

Not torchvision's `alexnet` (that is the 64-192-384-256-256 "one weird trick" variant), so its
weights do not load here; the key layout (features.N, avgpool, classifier.N) is the same.

NORM follows the paper: b = a / (k + alpha * sum over n=5 neighbouring maps of a^2)^beta with
k = 2, alpha = 1e-4, beta = 0.75. PyTorch's LocalResponseNorm divides alpha by n, so the module
gets alpha = 5 * 1e-4. The order POOL then NORM is the slide's (the paper normalises first).
"""

from __future__ import annotations

import striate as st
import striate.nn as nn
from striate.autograd.tensor import Tensor

__all__ = ["AlexNet", "alexnet"]


class AlexNet(nn.Module):
    """Single-tower AlexNet of seed 003 for 227x227x3 inputs."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        lrn = {"size": 5, "alpha": 5 * 1e-4, "beta": 0.75, "k": 2.0}
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 96, kernel_size=11, stride=4),   # CONV1
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                  # POOL1
            nn.LocalResponseNorm(**lrn),                            # NORM1
            nn.Conv2d(96, 256, kernel_size=5, padding=2),           # CONV2
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                  # POOL2
            nn.LocalResponseNorm(**lrn),                            # NORM2
            nn.Conv2d(256, 384, kernel_size=3, padding=1),          # CONV3
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1),          # CONV4
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),          # CONV5
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                  # POOL3
        )
        # identity at 227x227; lets other input sizes reach FC6 with 6x6x256 (as torchvision does)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),                           # FC6
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),                                  # FC7
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),                           # FC8
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = st.flatten(x, 1)
        return self.classifier(x)


def alexnet(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> AlexNet:
    """Seed 003's simplified (single-tower) AlexNet: 62,378,344 parameters with 1,000 classes."""
    return AlexNet(num_classes=num_classes, in_channels=in_channels, dropout=dropout)

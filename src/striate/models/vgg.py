"""VGG (Simonyan and Zisserman 2014, seed 002): stacks of 3x3 convolutions (stride 1, pad 1) and
2x2 max-pools, then three fully connected layers. Layout, initialisation and state_dict keys are
torchvision's (features.N, avgpool, classifier.N), so torchvision's weights load.

Configurations (numbers are conv output channels, M a 2x2 max-pool):
    A (vgg11): 64 M 128 M 256 256 M 512 512 M 512 512 M
    B (vgg13): 64 64 M 128 128 M 256 256 M 512 512 M 512 512 M
    D (vgg16): 64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M   138,357,544 params
    E (vgg19): 64 64 M 128 128 M 256 256 256 256 M 512 x4 M 512 x4 M

Two stacked 3x3 convolutions see a 5x5 window and three see 7x7, with fewer parameters
(3 * 3^2 C^2 = 27C^2 instead of 49C^2) and more non-linearities (seed 002, "Why the smaller kernels?").
"""

from __future__ import annotations

import striate as st
import striate.nn as nn
from striate.autograd.tensor import Tensor

__all__ = ["VGG", "VGG_CONFIGS", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
           "vgg19_bn"]

VGG_CONFIGS: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}


def make_layers(config: list[int | str], batch_norm: bool = False, in_channels: int = 3) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = in_channels
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(channels, int(v), kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(int(v)))
            layers.append(nn.ReLU(inplace=True))
            channels = int(v)
    return nn.Sequential(*layers)


def torchvision_init_(model: nn.Module) -> None:
    """torchvision's initialisation of VGG and MobileNetV2, module by module in `modules()` order
    (so the draws follow PyTorch's after the same seed): convolutions He-normal over fan-out
    (gain sqrt(2)), zero biases; batch norm weight 1, bias 0; linear layers N(0, 0.01), zero bias."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


class VGG(nn.Module):
    """torchvision's VGG: features, AdaptiveAvgPool2d((7, 7)), classifier (4096, 4096, classes)."""

    def __init__(self, features: nn.Sequential, num_classes: int = 1000, dropout: float = 0.5,
                 init_weights: bool = True) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            torchvision_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = st.flatten(x, 1)
        return self.classifier(x)


def _vgg(config: str, batch_norm: bool, num_classes: int, in_channels: int, dropout: float) -> VGG:
    return VGG(make_layers(VGG_CONFIGS[config], batch_norm, in_channels), num_classes=num_classes,
               dropout=dropout)


def vgg11(batch_norm: bool = False, num_classes: int = 1000, in_channels: int = 3,
          dropout: float = 0.5) -> VGG:
    """VGG configuration A (11 weight layers); 224x224x3 inputs."""
    return _vgg("A", batch_norm, num_classes, in_channels, dropout)


def vgg13(batch_norm: bool = False, num_classes: int = 1000, in_channels: int = 3,
          dropout: float = 0.5) -> VGG:
    """VGG configuration B (13 weight layers)."""
    return _vgg("B", batch_norm, num_classes, in_channels, dropout)


def vgg16(batch_norm: bool = False, num_classes: int = 1000, in_channels: int = 3,
          dropout: float = 0.5) -> VGG:
    """VGG configuration D (16 weight layers): 138,357,544 parameters (138,365,992 with batch norm)."""
    return _vgg("D", batch_norm, num_classes, in_channels, dropout)


def vgg19(batch_norm: bool = False, num_classes: int = 1000, in_channels: int = 3,
          dropout: float = 0.5) -> VGG:
    """VGG configuration E (19 weight layers)."""
    return _vgg("E", batch_norm, num_classes, in_channels, dropout)


def vgg11_bn(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> VGG:
    return vgg11(True, num_classes, in_channels, dropout)


def vgg13_bn(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> VGG:
    return vgg13(True, num_classes, in_channels, dropout)


def vgg16_bn(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> VGG:
    return vgg16(True, num_classes, in_channels, dropout)


def vgg19_bn(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> VGG:
    return vgg19(True, num_classes, in_channels, dropout)

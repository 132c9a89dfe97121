"""SqueezeNet (Iandola et al. 2016): AlexNet's accuracy with 50x fewer parameters. A Fire module
squeezes the channels with 1x1 convolutions, then expands them again with 1x1 and 3x3
convolutions side by side whose outputs are concatenated; the classifier is a 1x1 convolution
to the classes followed by global average pooling (no fully connected layer).

Layout, initialisation and state_dict keys are torchvision's (`features.N.squeeze/expand1x1/
expand3x3`, `classifier.1`), so its weights load: version "1_0" has 1,248,424 parameters
(1,000 classes), "1_1" 1,235,496 and 2.4x less computation (3x3 stem of 64, earlier pooling).
"""

from __future__ import annotations

import striate as st
import striate.nn as nn
from striate.autograd.tensor import Tensor

__all__ = ["Fire", "SqueezeNet", "squeezenet1_0", "squeezenet1_1"]


class Fire(nn.Module):
    """squeeze 1x1 + ReLU, then cat(ReLU(expand 1x1), ReLU(expand 3x3)) along the channels."""

    def __init__(self, inplanes: int, squeeze_planes: int, expand1x1_planes: int,
                 expand3x3_planes: int) -> None:
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return st.cat([self.expand1x1_activation(self.expand1x1(x)),
                       self.expand3x3_activation(self.expand3x3(x))], 1)


def _pool() -> nn.MaxPool2d:
    return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)


def _features(version: str, in_channels: int) -> list[nn.Module]:
    if version == "1_0":
        return [nn.Conv2d(in_channels, 96, kernel_size=7, stride=2), nn.ReLU(inplace=True), _pool(),
                Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128), _pool(),
                Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256), _pool(), Fire(512, 64, 256, 256)]
    if version == "1_1":
        return [nn.Conv2d(in_channels, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True), _pool(),
                Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), _pool(),
                Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), _pool(),
                Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256),
                Fire(512, 64, 256, 256)]
    raise ValueError(f"Unsupported SqueezeNet version {version}: 1_0 or 1_1 expected")


class SqueezeNet(nn.Module):
    """torchvision's SqueezeNet; the final conv starts from N(0, 0.01), the others Kaiming-uniform."""

    def __init__(self, version: str = "1_0", num_classes: int = 1000, dropout: float = 0.5,
                 in_channels: int = 3) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.features = nn.Sequential(*_features(version, in_channels))
        final_conv = nn.Conv2d(512, num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d((1, 1)))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        return st.flatten(self.classifier(self.features(x)), 1)


def squeezenet1_0(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> SqueezeNet:
    """SqueezeNet 1.0 (the paper's; minimum input 21x21)."""
    return SqueezeNet("1_0", num_classes=num_classes, in_channels=in_channels, **kwargs)


def squeezenet1_1(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> SqueezeNet:
    """SqueezeNet 1.1 (the official repository's; minimum input 17x17)."""
    return SqueezeNet("1_1", num_classes=num_classes, in_channels=in_channels, **kwargs)

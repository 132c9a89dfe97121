"""MobileNetV2 (Sandler, Howard, Zhu, Zhmoginov, Chen 2018): inverted residual blocks with
linear bottlenecks. Each block expands the channels t-fold with a 1x1 conv, filters each channel
on its own with a 3x3 depthwise conv (groups = channels: 9 weights per channel instead of 9 C),
then projects back down with a 1x1 conv and no activation (a ReLU on the narrow bottleneck would
destroy information); when the stride is 1 and the widths agree, the input is added back.

Layout, initialisation, state_dict keys (`features.N.conv.M.K`, `classifier.1`) and the
parameter count (3,504,872 for 1,000 classes) are torchvision's, so its weights load.

    setting (t expansion, c channels, n blocks, s first stride):
    [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]
    stem 3x3 stride 2 (32), head 1x1 (1280), global average pool, dropout 0.2, linear.
"""

from __future__ import annotations

import striate as st
import striate.nn as nn
import striate.nn.functional as F
from striate.autograd.tensor import Tensor
from striate.models.vgg import torchvision_init_

__all__ = ["ConvBNReLU6", "InvertedResidual", "MobileNetV2", "make_divisible", "mobilenet_v2"]

INVERTED_RESIDUAL_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
                             [6, 160, 3, 2], [6, 320, 1, 1]]


def make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """The nearest multiple of `divisor` to v, never more than 10% below it (torchvision's rule)."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class ConvBNReLU6(nn.Sequential):
    """conv (no bias, 'same' padding) -> BatchNorm -> ReLU6: torchvision's Conv2dNormActivation
    as MobileNetV2 uses it (keys 0, 1)."""

    def __init__(self, in_planes: int, out_planes: int, kernel_size: int = 3, stride: int = 1,
                 groups: int = 1) -> None:
        super().__init__(
            nn.Conv2d(in_planes, out_planes, kernel_size, stride, (kernel_size - 1) // 2, groups=groups,
                      bias=False),
            nn.BatchNorm2d(out_planes),
            nn.ReLU6(inplace=True),
        )


class InvertedResidual(nn.Module):
    """1x1 expand (t > 1) -> 3x3 depthwise (stride) -> 1x1 linear projection; + x when shapes allow."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")
        self.stride = stride
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvBNReLU6(inp, hidden_dim, kernel_size=1))
        layers += [ConvBNReLU6(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
                   nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """torchvision's MobileNetV2 (`width_mult` scales every width, rounded to `round_nearest`)."""

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0,
                 inverted_residual_setting: list[list[int]] | None = None, round_nearest: int = 8,
                 dropout: float = 0.2, in_channels: int = 3) -> None:
        super().__init__()
        setting = inverted_residual_setting
        if setting is None:
            setting = INVERTED_RESIDUAL_SETTING
        if len(setting) == 0 or any(len(row) != 4 for row in setting):
            raise ValueError("inverted_residual_setting should be non-empty or a 4-element list, "
                             f"got {setting}")
        input_channel = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features: list[nn.Module] = [ConvBNReLU6(in_channels, input_channel, stride=2)]
        for t, c, n, s in setting:
            output_channel = make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(InvertedResidual(input_channel, output_channel, s if i == 0 else 1, t))
                input_channel = output_channel
        features.append(ConvBNReLU6(input_channel, self.last_channel, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))
        torchvision_init_(self)  # kaiming_normal_'s default leaky_relu(a=0) gain is relu's

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, (1, 1))  # not squeeze: the batch may have one image
        return self.classifier(st.flatten(x, 1))


def mobilenet_v2(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> MobileNetV2:
    """MobileNetV2 (width_mult=1.0: 3,504,872 parameters for 1,000 classes)."""
    return MobileNetV2(num_classes=num_classes, in_channels=in_channels, **kwargs)

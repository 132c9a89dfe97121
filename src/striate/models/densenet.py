"""DenseNet-BC (Huang, Liu, van der Maaten, Weinberger 2017): inside a dense block every layer
receives the concatenation of all earlier feature maps, x_l = H_l([x_0, x_1, ..., x_{l-1}]), and
adds `growth_rate` new channels; H_l is BN-ReLU-conv1x1 (to bn_size * growth_rate channels, the
"bottleneck") then BN-ReLU-conv3x3. Between blocks a transition (BN-ReLU-conv1x1 halving the
channels, 2x2 average pool) shrinks the maps.

Layout, initialisation, state_dict keys (`features.denseblockB.denselayerL.norm1`, ...,
`features.transitionB.conv`, `features.norm5`, `classifier`) and parameter counts are
torchvision's: densenet121 7,978,856; densenet161 28,681,000; densenet169 14,149,480;
densenet201 20,013,928 (1,000 classes). torchvision's ImageNet files still use the old key
spelling `denselayerL.norm.1`; `torchvision_key` renames them, as torchvision's loader does, so
`densenet121(weights=PATH)` loads them as they are.
"""

from __future__ import annotations

import re

import striate as st
import striate.nn as nn
import striate.nn.functional as F
from striate.autograd.tensor import Tensor

__all__ = ["DenseNet", "densenet121", "densenet161", "densenet169", "densenet201", "torchvision_key"]

_OLD_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|"
                      r"running_var|num_batches_tracked))$")


def torchvision_key(key: str) -> str:
    """`...denselayer1.norm.1.weight` (torchvision's published files) -> `...denselayer1.norm1.weight`."""
    match = _OLD_KEY.match(key)
    return match.group(1) + match.group(2) if match else key


class _DenseLayer(nn.Module):
    """BN-ReLU-conv1x1 (bottleneck) -> BN-ReLU-conv3x3 on the concatenation of the block's maps."""

    def __init__(self, num_input_features: int, growth_rate: int, bn_size: int, drop_rate: float) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1,
                               bias=False)
        self.drop_rate = float(drop_rate)

    def forward(self, features: list[Tensor]) -> Tensor:
        bottleneck = self.conv1(self.relu1(self.norm1(st.cat(features, 1))))
        new_features = self.conv2(self.relu2(self.norm2(bottleneck)))
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class _DenseBlock(nn.ModuleDict):
    """`num_layers` dense layers; each sees every map before it; the block returns them all."""

    def __init__(self, num_layers: int, num_input_features: int, bn_size: int, growth_rate: int,
                 drop_rate: float) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size, drop_rate)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, init_features: Tensor) -> Tensor:
        features = [init_features]
        for _, layer in self.items():
            features.append(layer(features))
        return st.cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__()
        self.add_module("norm", nn.BatchNorm2d(num_input_features))
        self.add_module("relu", nn.ReLU(inplace=True))
        self.add_module("conv", nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1,
                                          bias=False))
        self.add_module("pool", nn.AvgPool2d(kernel_size=2, stride=2))


class DenseNet(nn.Module):
    """torchvision's DenseNet-BC: `growth_rate` k, `block_config` layers per block,
    `num_init_features` stem channels, `bn_size` bottleneck factor, `drop_rate` after each layer."""

    def __init__(self, growth_rate: int = 32, block_config: tuple[int, ...] = (6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, drop_rate: float = 0, num_classes: int = 1000,
                 memory_efficient: bool = False, in_channels: int = 3) -> None:
        super().__init__()
        self.memory_efficient = memory_efficient  # accepted; striate keeps every map (no checkpointing)
        self.features = nn.Sequential()
        self.features.add_module("conv0", nn.Conv2d(in_channels, num_init_features, kernel_size=7, stride=2,
                                                    padding=3, bias=False))
        self.features.add_module("norm0", nn.BatchNorm2d(num_init_features))
        self.features.add_module("relu0", nn.ReLU(inplace=True))
        self.features.add_module("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers, num_features, bn_size, growth_rate, drop_rate)
            self.features.add_module(f"denseblock{i + 1}", block)
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", _Transition(num_features, num_features // 2))
                num_features //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.features(x))
        out = F.adaptive_avg_pool2d(out, (1, 1))
        return self.classifier(st.flatten(out, 1))


def _densenet(growth_rate: int, block_config: tuple[int, ...], num_init_features: int, num_classes: int,
              in_channels: int, **kwargs) -> DenseNet:
    return DenseNet(growth_rate, block_config, num_init_features, num_classes=num_classes,
                    in_channels=in_channels, **kwargs)


def densenet121(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> DenseNet:
    """DenseNet-121: k = 32, blocks (6, 12, 24, 16), 64 stem channels."""
    return _densenet(32, (6, 12, 24, 16), 64, num_classes, in_channels, **kwargs)


def densenet161(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> DenseNet:
    """DenseNet-161: k = 48, blocks (6, 12, 36, 24), 96 stem channels."""
    return _densenet(48, (6, 12, 36, 24), 96, num_classes, in_channels, **kwargs)


def densenet169(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> DenseNet:
    """DenseNet-169: k = 32, blocks (6, 12, 32, 32)."""
    return _densenet(32, (6, 12, 32, 32), 64, num_classes, in_channels, **kwargs)


def densenet201(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> DenseNet:
    """DenseNet-201: k = 32, blocks (6, 12, 48, 32)."""
    return _densenet(32, (6, 12, 48, 32), 64, num_classes, in_channels, **kwargs)

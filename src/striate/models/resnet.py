"""ResNet (He, Zhang, Ren, Sun 2015; seed 002): y = F(x) + x, so each block learns a residual and
a 150-layer network still trains. Layout, initialisation and state_dict keys are torchvision's
(conv1, bn1, layer1.0.conv1, ..., layerN.0.downsample.0/1, fc), so its weights load.

    resnet18: BasicBlock  [2, 2, 2, 2]  11,689,512 params (1,000 classes)
    resnet34: BasicBlock  [3, 4, 6, 3]
    resnet50: Bottleneck  [3, 4, 6, 3]  25,557,032 params
    resnet101: Bottleneck [3, 4, 23, 3] 44,549,160 params
    resnet152: Bottleneck [3, 8, 36, 3] 60,192,808 params
    stem: 7x7 conv stride 2 pad 3 (64), BN, ReLU, 3x3 max-pool stride 2 pad 1 -> 1/4 resolution
    stages of 64, 128, 256, 512 channels; the first block of stages 2-4 halves the resolution
    (stride 2 on its 3x3 conv, "ResNet v1.5") and a 1x1 stride-2 conv + BN projects the shortcut.

`cifar=True` (or `resnet18_cifar`) is the usual 32x32 variant: a 3x3 stride-1 stem and no max-pool,
so the four stages work at 32, 16, 8 and 4 pixels.
"""

from __future__ import annotations

import striate as st
import striate.nn as nn
from striate.autograd.tensor import Tensor

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet18_cifar", "resnet34", "resnet50",
           "resnet101", "resnet152"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers; out = ReLU(BN(conv(ReLU(BN(conv(x))))) + shortcut(x))."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carrying the stride), 1x1 expand x4; out = ReLU(F(x) + shortcut(x))."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None) -> None:
        super().__init__()
        width = planes
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision's ResNet; `cifar=True` swaps the stem for a 3x3 stride-1 conv and drops the max-pool."""

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], layers: list[int], num_classes: int = 1000,
                 in_channels: int = 3, cifar: bool = False, zero_init_residual: bool = False) -> None:
        super().__init__()
        self.inplanes = 64
        self.cifar = bool(cifar)
        if cifar:
            self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        if not cifar:
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:  # each block starts as the identity ("Bag of tricks", Goyal et al.)
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.zeros_(m.bn3.weight)
                elif isinstance(m, BasicBlock):
                    nn.init.zeros_(m.bn2.weight)

    def _make_layer(self, block: type[BasicBlock] | type[Bottleneck], planes: int, blocks: int,
                    stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        if not self.cifar:
            x = self.maxpool(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = st.flatten(x, 1)
        return self.fc(x)


def resnet18(num_classes: int = 1000, in_channels: int = 3, cifar: bool = False, **kwargs) -> ResNet:
    """ResNet-18 (BasicBlock x [2, 2, 2, 2]); `cifar=True` for 32x32 inputs."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, in_channels, cifar, **kwargs)


def resnet34(num_classes: int = 1000, in_channels: int = 3, cifar: bool = False, **kwargs) -> ResNet:
    """ResNet-34 (BasicBlock x [3, 4, 6, 3])."""
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes, in_channels, cifar, **kwargs)


def resnet50(num_classes: int = 1000, in_channels: int = 3, cifar: bool = False, **kwargs) -> ResNet:
    """ResNet-50 (Bottleneck x [3, 4, 6, 3])."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes, in_channels, cifar, **kwargs)


def resnet101(num_classes: int = 1000, in_channels: int = 3, cifar: bool = False, **kwargs) -> ResNet:
    """ResNet-101 (Bottleneck x [3, 4, 23, 3])."""
    return ResNet(Bottleneck, [3, 4, 23, 3], num_classes, in_channels, cifar, **kwargs)


def resnet152(num_classes: int = 1000, in_channels: int = 3, cifar: bool = False, **kwargs) -> ResNet:
    """ResNet-152 (Bottleneck x [3, 8, 36, 3])."""
    return ResNet(Bottleneck, [3, 8, 36, 3], num_classes, in_channels, cifar, **kwargs)


def resnet18_cifar(num_classes: int = 10, in_channels: int = 3, **kwargs) -> ResNet:
    """ResNet-18 for 32x32 images (CIFAR-10): 3x3 stride-1 stem, no max-pool."""
    return resnet18(num_classes=num_classes, in_channels=in_channels, cifar=True, **kwargs)

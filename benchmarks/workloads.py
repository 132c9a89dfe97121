"""The benchmark networks, written once for both libraries.

striate's `nn` mirrors `torch.nn`, so each builder takes either namespace (`torch.nn` or
`striate.nn`) and returns the same architecture; `lib_of(nn)` gives the matching top-level
module where a network needs a function (`cat`). The lecture networks (LeNet-5, the MNIST
ConvNet with batch norm, the CIFAR net, ResNet-18 at 32 px) and four shape families that stress
other convolution paths: depthwise-separable (groups = channels, then 1x1), inception-style
(1x1 reductions, 3x3 and 5x5 branches, a pooling branch, concatenation), strided convolutions
instead of pooling, and a VGG-style stack at 64 px.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any


def step_closure(lib, model, F, x, y, train: bool, n: int) -> Callable[[], None]:
    """A function running n training steps (forward, backward, SGD with momentum) or n
    inference passes (eval mode, no_grad) of `model` in `lib` (torch or striate)."""
    if train:
        model.train()
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def run():
            for _ in range(n):
                opt.zero_grad()
                F.cross_entropy(model(x), y).backward()
                opt.step()
        return run
    model.eval()

    def infer():
        with lib.no_grad():
            for _ in range(n):
                model(x)
    return infer


def lib_of(nn) -> Any:
    """`torch` for `torch.nn`, `striate` for `striate.nn`."""
    return importlib.import_module(nn.__name__.rsplit(".", 1)[0])


def lenet5(nn, in_side: int = 28):
    side = ((in_side - 4) // 2 - 4) // 2
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * side * side, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def mnist_convnet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(7 * 7 * 32, 10))


def cifar_net(nn):
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4096, 512), nn.ReLU(), nn.Linear(512, 10))


def resnet18_cifar(nn):
    """ResNet-18 with a 3x3 stem for 32x32 inputs."""

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + self.shortcut(x))

    layers: list[Any] = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU()]
    cin = 64
    for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10)]
    return nn.Sequential(*layers)


def _conv_bn_relu(nn, cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> list:
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout), nn.ReLU()]


def depthwise_separable(nn):
    """MobileNet-style at 32 px: a 3x3 stem, then depthwise 3x3 (groups = channels) + pointwise
    1x1 blocks, each convolution followed by batch norm and ReLU."""
    layers = _conv_bn_relu(nn, 3, 32, 3)
    cin = 32
    for cout, stride in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1)]:
        layers += _conv_bn_relu(nn, cin, cin, 3, stride, groups=cin)  # depthwise
        layers += _conv_bn_relu(nn, cin, cout, 1)  # pointwise
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10)]
    return nn.Sequential(*layers)


def inception_net(nn):
    """Inception-style at 32 px: modules of four branches (1x1; 1x1 -> 3x3; 1x1 -> 5x5;
    3x3 max-pool -> 1x1) concatenated along channels."""
    cat = lib_of(nn).cat

    class Inception(nn.Module):
        def __init__(self, cin, c1, c3r, c3, c5r, c5, cp):
            super().__init__()
            self.b1 = nn.Sequential(*_conv_bn_relu(nn, cin, c1, 1))
            self.b3 = nn.Sequential(*_conv_bn_relu(nn, cin, c3r, 1), *_conv_bn_relu(nn, c3r, c3, 3))
            self.b5 = nn.Sequential(*_conv_bn_relu(nn, cin, c5r, 1), *_conv_bn_relu(nn, c5r, c5, 5))
            self.bp = nn.Sequential(nn.MaxPool2d(3, 1, 1), *_conv_bn_relu(nn, cin, cp, 1))
            self.out_channels = c1 + c3 + c5 + cp

        def forward(self, x):
            return cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], 1)

    a = Inception(64, 32, 48, 64, 8, 16, 16)
    b = Inception(a.out_channels, 64, 64, 96, 16, 32, 32)
    c = Inception(b.out_channels, 96, 64, 128, 16, 32, 32)
    return nn.Sequential(*_conv_bn_relu(nn, 3, 64, 3), a, b, nn.MaxPool2d(2), c,
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c.out_channels, 10))


def strided_net(nn):
    """All-convolutional at 32 px: stride-2 3x3 convolutions take the place of pooling."""
    layers: list[Any] = []
    cin = 3
    for cout, stride in [(32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (256, 2)]:
        layers += _conv_bn_relu(nn, cin, cout, 3, stride)
        cin = cout
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(256 * 4 * 4, 10))


def vgg_64(nn):
    """VGG-style at 64 px: stages of two 3x3 convolutions + ReLU, then 2x2 max-pool."""
    layers: list[Any] = []
    cin = 3
    for cout in (32, 64, 128, 256):
        layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(),
                   nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        cin = cout
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(256 * 4 * 4, 256), nn.ReLU(),
                         nn.Linear(256, 10))


@dataclass(frozen=True)
class Workload:
    name: str
    build: Callable[[Any], Any]
    input_shape: tuple[int, ...]
    batch: int
    family: str  # "lecture" rows must reach 1.0 in the issue, the others 0.9

    @property
    def key(self) -> str:
        return f"{self.name} b{self.batch}"


WORKLOADS = [
    Workload("LeNet-5 1x28x28", lenet5, (1, 28, 28), 64, "lecture"),
    Workload("LeNet-5 1x28x28", lenet5, (1, 28, 28), 256, "lecture"),
    Workload("MNIST ConvNet (BN)", mnist_convnet, (1, 28, 28), 64, "lecture"),
    Workload("CIFAR net 3x32x32", cifar_net, (3, 32, 32), 64, "lecture"),
    Workload("ResNet-18 3x32x32", resnet18_cifar, (3, 32, 32), 32, "lecture"),
    Workload("Depthwise-separable 3x32x32", depthwise_separable, (3, 32, 32), 64, "shape"),
    Workload("Inception-style 3x32x32", inception_net, (3, 32, 32), 32, "shape"),
    Workload("Strided convs 3x32x32", strided_net, (3, 32, 32), 64, "shape"),
    Workload("VGG-style 3x64x64", vgg_64, (3, 64, 64), 32, "shape"),
]


def find(key: str) -> Workload:
    """The workload named `key` ("LeNet-5 1x28x28 b64"); another batch size of a known network
    ("LeNet-5 1x28x28 b2") gives that network at that batch."""
    name, _, batch = key.rpartition(" b")
    for w in WORKLOADS:
        if w.key == key:
            return w
    for w in WORKLOADS:
        if w.name == name and batch.isdigit() and int(batch) > 0:
            return replace(w, batch=int(batch))
    raise KeyError(f"no workload {key!r}; the workloads are: {', '.join(w.key for w in WORKLOADS)}")

"""LeNet-5: LeCun, Bottou, Bengio and Haffner, "Gradient-based learning applied to document
recognition", Proc. IEEE 1998 (seed 002), in two variants.

classic (the paper), input 32x32:

    layer  output      parameters  connections
    C1     28x28x6     156         122,304     6 kernels 5x5, + bias
    S2     14x14x6     12          5,880       2x2 sums x coefficient + bias, per map
    C3     10x10x16    1,516       151,600     5x5 kernels on the S2 maps of Table I
    S4     5x5x16      32          2,000
    C5     1x1x120     48,120      48,120      5x5 kernels on all 16 maps
    F6     84          10,164      10,164
    output 10 RBF units: y_i = sum_j (x_j - w_ij)^2, prototypes fixed +-1 7x12 bitmaps

Every layer before the output squashes with f(a) = 1.7159 tanh(2a/3). The classic model returns
*scores* s_i = -y_i (minus the RBF penalties), so that argmax picks the nearest prototype and
`F.cross_entropy(scores, y)` is the paper's discriminative criterion (eq. 9) with j -> infinity;
`rbf_loss(scores, y)` is its eq. (8), the squared distance to the target's prototype. Pass
`return_penalties=True` to get y itself.

modern (seed 002's "LeNet in PyTorch" slide): conv 6@5x5, ReLU, max-pool 2, conv 16@5x5, ReLU,
max-pool 2, fc 120, fc 84, fc num_classes (logits for softmax / cross-entropy). Its attribute
names (conv1, conv2, fc1, fc2, fc3) are the slide's, so the slide's state_dict loads.
"""

from __future__ import annotations

import striate.nn as nn
from striate.autograd.tensor import Tensor
from striate.models.layers import (
    LECUN_C3_TABLE,
    EuclideanRBF,
    PartiallyConnectedConv2d,
    ScaledTanh,
    TrainableSubsampling,
    lecun_uniform_,
)

__all__ = ["LeNet", "LeNet5", "lenet5", "lenet5_modern"]


class LeNet5(nn.Module):
    """The 1998 network: C1, S2, C3 (Table I), S4, C5, F6 with scaled tanh, Euclidean RBF output."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, trainable_prototypes: bool = False,
                 return_penalties: bool = False) -> None:
        super().__init__()
        self.C1 = nn.Conv2d(in_channels, 6, kernel_size=5)
        self.squash1 = ScaledTanh()
        self.S2 = TrainableSubsampling(6, 2)
        self.squash2 = ScaledTanh()
        self.C3 = PartiallyConnectedConv2d(6, 16, kernel_size=5, connections=LECUN_C3_TABLE)
        self.squash3 = ScaledTanh()
        self.S4 = TrainableSubsampling(16, 2)
        self.squash4 = ScaledTanh()
        self.C5 = nn.Conv2d(16, 120, kernel_size=5)
        self.squash5 = ScaledTanh()
        self.F6 = nn.Linear(120, 84)
        self.squash6 = ScaledTanh()
        self.output = EuclideanRBF(84, num_classes, trainable=trainable_prototypes)
        self.return_penalties = bool(return_penalties)
        # the paper's initialisation: uniform in (-2.4/F_i, 2.4/F_i), F_i = fan-in
        for layer, fan_in in ((self.C1, in_channels * 25), (self.C5, 16 * 25), (self.F6, 120)):
            lecun_uniform_(layer.weight, fan_in)
            lecun_uniform_(layer.bias, fan_in)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[2:] != (32, 32):
            raise ValueError(f"LeNet5 (classic) expects (N, C, 32, 32) images (MNIST digits padded from 28 "
                             f"to 32, as in the paper), got {tuple(x.shape)}")
        x = self.squash1(self.C1(x))
        x = self.squash2(self.S2(x))
        x = self.squash3(self.C3(x))
        x = self.squash4(self.S4(x))
        x = self.squash5(self.C5(x))
        x = self.squash6(self.F6(x.flatten(1)))
        penalties = self.output(x)
        return penalties if self.return_penalties else -penalties


class LeNet(nn.Module):
    """Seed 002's "LeNet in PyTorch": ReLU, max-pooling and a linear (logits) output."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        out = self.pool1(self.relu1(self.conv1(x)))
        out = self.pool2(self.relu2(self.conv2(out)))
        if out.shape[1:] != (16, 5, 5):
            raise ValueError(f"LeNet (modern) expects 32x32 inputs (giving 16x5x5 before fc1), got "
                             f"{tuple(x.shape)} -> {tuple(out.shape)}")
        out = out.reshape(out.shape[0], -1)
        out = self.relu3(self.fc1(out))
        out = self.relu4(self.fc2(out))
        return self.fc3(out)


def lenet5(variant: str = "classic", num_classes: int = 10, in_channels: int = 1, **kwargs) -> nn.Module:
    """LeNet-5 for 32x32 inputs: variant "classic" (LeCun et al. 1998) or "modern" (the slide's PyTorch
    version). Extra keyword arguments of the classic model: trainable_prototypes, return_penalties."""
    if variant == "classic":
        return LeNet5(num_classes=num_classes, in_channels=in_channels, **kwargs)
    if variant == "modern":
        if kwargs:
            raise TypeError(f"lenet5(variant='modern') takes no options {sorted(kwargs)}")
        return LeNet(num_classes=num_classes, in_channels=in_channels)
    raise ValueError(f"lenet5: variant must be 'classic' or 'modern', got {variant!r}")


def lenet5_modern(num_classes: int = 10, in_channels: int = 1) -> nn.Module:
    """Seed 002's modern LeNet (ReLU, max-pool, logits): the model `striate train` trains by default.

    The name `lenet5` alone is the 1998 network everywhere (`st.models.lenet5()`, `striate
    summary lenet5`, `striate train --model lenet5`); this is the other one, under its own name."""
    return LeNet(num_classes=num_classes, in_channels=in_channels)

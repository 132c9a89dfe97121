"""PyTorch twins, built here with torch.nn, load striate's state_dict (and the other way round) and
give the same outputs: the models are the same functions with the same parameter names.

Tolerance 1e-4 (absolute on logits of order 1): ResNet-18's logits come out of 20 convolutions
and batch norms whose float32 sums are ordered differently in NumPy and PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as tF
from torch import nn as tnn

import striate as st
import striate.nn.functional as F
from striate import models
from striate.models.layers import LECUN_C3_TABLE

ATOL = 1e-4


def to_torch(st_model, torch_model) -> None:
    sd = {k: torch.from_numpy(np.array(v)) for k, v in st_model.state_dict().items()}
    torch_model.load_state_dict(sd, strict=True)


def to_striate(torch_model, st_model) -> None:
    sd = {k: v.detach().numpy() for k, v in torch_model.state_dict().items()}
    st_model.load_state_dict(sd, strict=True)


def compare(st_model, torch_model, x: np.ndarray, train: bool = False, atol: float = ATOL) -> None:
    st_model.train(train)
    torch_model.train(train)
    out = st_model(st.tensor(x))
    ref = torch_model(torch.from_numpy(x))
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-4, atol=atol)
    return out, ref


def compare_grads(st_model, torch_model, out, ref, target: np.ndarray) -> None:
    F.cross_entropy(out, st.tensor(target)).backward()
    tF.cross_entropy(ref, torch.from_numpy(target)).backward()
    torch_grads = dict(torch_model.named_parameters())
    for name, p in st_model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), torch_grads[name].grad.numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=name)


# ----------------------------------------------------------------------------- the twins
class TorchLeNet(tnn.Module):  # seed 002's slide, with the modules striate's version names
    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()
        self.conv1 = tnn.Conv2d(in_channels, 6, 5)
        self.conv2 = tnn.Conv2d(6, 16, 5)
        self.fc1 = tnn.Linear(16 * 5 * 5, 120)
        self.fc2 = tnn.Linear(120, 84)
        self.fc3 = tnn.Linear(84, num_classes)

    def forward(self, x):
        out = tF.max_pool2d(tF.relu(self.conv1(x)), 2)
        out = tF.max_pool2d(tF.relu(self.conv2(out)), 2)
        out = out.view(out.size(0), -1)
        return self.fc3(tF.relu(self.fc2(tF.relu(self.fc1(out)))))


class TorchConvNet(tnn.Module):  # seed 002's MNIST ConvNet, verbatim
    def __init__(self, num_classes=10):
        super().__init__()
        self.layer1 = tnn.Sequential(tnn.Conv2d(1, 16, kernel_size=5, stride=1, padding=2),
                                     tnn.BatchNorm2d(16), tnn.ReLU(), tnn.MaxPool2d(kernel_size=2, stride=2))
        self.layer2 = tnn.Sequential(tnn.Conv2d(16, 32, kernel_size=5, stride=1, padding=2),
                                     tnn.BatchNorm2d(32), tnn.ReLU(), tnn.MaxPool2d(kernel_size=2, stride=2))
        self.fc = tnn.Linear(7 * 7 * 32, num_classes)

    def forward(self, x):
        out = self.layer2(self.layer1(x))
        return self.fc(out.reshape(out.size(0), -1))


class TorchBasicBlock(tnn.Module):  # torchvision.models.resnet.BasicBlock
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class TorchResNet18(tnn.Module):  # torchvision.models.resnet18's layout
    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        inplanes, stages = 64, []
        for planes, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            down = None
            if stride != 1 or inplanes != planes:
                down = tnn.Sequential(tnn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                      tnn.BatchNorm2d(planes))
            stages.append(tnn.Sequential(TorchBasicBlock(inplanes, planes, stride, down),
                                         TorchBasicBlock(planes, planes)))
            inplanes = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TorchLeNet5Classic(tnn.Module):
    """LeCun et al. 1998 written directly in torch: masked C3 kernel, 2x2 sums, squared distances."""

    def __init__(self):
        super().__init__()
        pairs = [(o, i) for o, inputs in enumerate(LECUN_C3_TABLE) for i in inputs]
        self.rows = torch.tensor([o for o, _ in pairs])
        self.cols = torch.tensor([i for _, i in pairs])
        self.C1 = tnn.Conv2d(1, 6, 5)
        self.S2 = tnn.ParameterDict({"weight": tnn.Parameter(torch.zeros(6)),
                                     "bias": tnn.Parameter(torch.zeros(6))})
        self.C3 = tnn.ParameterDict({"weight": tnn.Parameter(torch.zeros(60, 5, 5)),
                                     "bias": tnn.Parameter(torch.zeros(16))})
        self.S4 = tnn.ParameterDict({"weight": tnn.Parameter(torch.zeros(16)),
                                     "bias": tnn.Parameter(torch.zeros(16))})
        self.C5 = tnn.Conv2d(16, 120, 5)
        self.F6 = tnn.Linear(120, 84)
        self.output = tnn.Module()
        self.output.register_buffer("weight", torch.zeros(10, 84))

    @staticmethod
    def squash(a):
        return 1.7159 * torch.tanh(a * (2.0 / 3.0))

    @staticmethod
    def subsample(x, p):
        summed = tF.avg_pool2d(x, 2) * 4
        return summed * p["weight"].view(1, -1, 1, 1) + p["bias"].view(1, -1, 1, 1)

    def forward(self, x):
        x = self.squash(self.C1(x))
        x = self.squash(self.subsample(x, self.S2))
        kernel = torch.zeros(16, 6, 5, 5).index_put((self.rows, self.cols), self.C3["weight"])
        x = self.squash(tF.conv2d(x, kernel, self.C3["bias"]))
        x = self.squash(self.subsample(x, self.S4))
        x = self.squash(self.C5(x))
        x = self.squash(self.F6(x.flatten(1)))
        return -((x[:, None, :] - self.output.weight[None]) ** 2).sum(-1)


# ----------------------------------------------------------------------------- the comparisons
def test_lenet5_modern_twin_forward_and_gradients():
    model, twin = models.lenet5("modern"), TorchLeNet()
    to_torch(model, twin)
    x = np.random.default_rng(1).standard_normal((4, 1, 32, 32)).astype(np.float32)
    out, ref = compare(model, twin, x, train=True)
    compare_grads(model, twin, out, ref, np.array([0, 3, 9, 3]))


def test_mnist_convnet_twin_both_directions_and_batch_norm_modes():
    twin = TorchConvNet()
    with torch.no_grad():  # non-trivial BatchNorm statistics and affine parameters
        for bn in (twin.layer1[1], twin.layer2[1]):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    model = models.mnist_convnet()
    to_striate(twin, model)  # torch -> striate
    x = np.random.default_rng(2).standard_normal((5, 1, 28, 28)).astype(np.float32)
    compare(model, twin, x, train=False)
    out, ref = compare(model, twin, x, train=True)  # batch statistics
    compare_grads(model, twin, out, ref, np.array([1, 2, 3, 4, 5]))
    np.testing.assert_allclose(model.layer1[1].running_mean.numpy(), twin.layer1[1].running_mean.numpy(),
                               rtol=1e-5, atol=1e-6)
    back = TorchConvNet()
    to_torch(model, back)  # and striate -> torch
    compare(model, back, x, train=False)


@pytest.mark.parametrize("side", [32, 64])
def test_resnet18_twin(side):
    model, twin = models.resnet18(num_classes=10), TorchResNet18(num_classes=10)
    with torch.no_grad():
        for m in twin.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    to_striate(twin, model)
    x = np.random.default_rng(side).standard_normal((1, 3, side, side)).astype(np.float32)
    compare(model, twin, x, train=False)


def test_lenet5_classic_twin_forward_and_gradients():
    model, twin = models.lenet5("classic"), TorchLeNet5Classic()
    to_torch(model, twin)
    x = np.random.default_rng(3).standard_normal((3, 1, 32, 32)).astype(np.float32)
    out, ref = compare(model, twin, x)
    compare_grads(model, twin, out, ref, np.array([4, 0, 8]))

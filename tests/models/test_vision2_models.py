"""MobileNetV2, SqueezeNet 1.0/1.1, DenseNet-121 and ResNet-101/152 against torchvision's
architectures. torchvision is not installed here (not a test dependency), so each twin below is
torchvision's model code written with torch.nn (module names as torchvision's, so the state_dict
keys are the same); the parameter totals are torchvision's published ones (its weights'
`num_params`). Each twin takes striate's state_dict strictly and gives the same logits on a
small input, in eval mode (running statistics) and in training mode (batch statistics).

Tolerance: 1e-7 in float64 (both modes); float32 eval mode rtol 1e-4 / atol 1e-4 on logits of
order 1, as in test_torch_twins.py (dozens of float32 convolutions and batch norms, summed in a
different order in NumPy and PyTorch), not for ResNet-101/152 (see the test).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as tF
from torch import nn as tnn

import striate as st
from striate import models


# ------------------------------------------------------------------ torchvision's code in torch.nn
def conv_bn_act(inp, oup, k=3, stride=1, groups=1):  # torchvision.ops.Conv2dNormActivation + ReLU6
    return tnn.Sequential(tnn.Conv2d(inp, oup, k, stride, (k - 1) // 2, groups=groups, bias=False),
                          tnn.BatchNorm2d(oup), tnn.ReLU6(inplace=True))


class TInvertedResidual(tnn.Module):
    def __init__(self, inp, oup, stride, t):
        super().__init__()
        hidden = int(round(inp * t))
        self.use_res_connect = stride == 1 and inp == oup
        layers = [conv_bn_act(inp, hidden, 1)] if t != 1 else []
        layers += [conv_bn_act(hidden, hidden, 3, stride, hidden),
                   tnn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
                   tnn.BatchNorm2d(oup)]
        self.conv = tnn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class TMobileNetV2(tnn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2],
                   [6, 320, 1, 1]]
        features, cin = [conv_bn_act(3, 32, stride=2)], 32
        for t, c, n, s in setting:
            for i in range(n):
                features.append(TInvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        features.append(conv_bn_act(cin, 1280, 1))
        self.features = tnn.Sequential(*features)
        self.classifier = tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(1280, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(tF.adaptive_avg_pool2d(self.features(x), (1, 1)), 1))


class TFire(tnn.Module):
    def __init__(self, inplanes, squeeze, e1, e3):
        super().__init__()
        self.squeeze = tnn.Conv2d(inplanes, squeeze, 1)
        self.expand1x1 = tnn.Conv2d(squeeze, e1, 1)
        self.expand3x3 = tnn.Conv2d(squeeze, e3, 3, padding=1)

    def forward(self, x):
        x = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.expand1x1(x)), torch.relu(self.expand3x3(x))], 1)


class TSqueezeNet(tnn.Module):
    def __init__(self, version, num_classes=1000):
        super().__init__()
        pool = lambda: tnn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
        if version == "1_0":
            layers = [tnn.Conv2d(3, 96, 7, 2), tnn.ReLU(), pool(), TFire(96, 16, 64, 64),
                      TFire(128, 16, 64, 64),
                      TFire(128, 32, 128, 128), pool(), TFire(256, 32, 128, 128), TFire(256, 48, 192, 192),
                      TFire(384, 48, 192, 192), TFire(384, 64, 256, 256), pool(), TFire(512, 64, 256, 256)]
        else:
            layers = [tnn.Conv2d(3, 64, 3, 2), tnn.ReLU(), pool(), TFire(64, 16, 64, 64),
                      TFire(128, 16, 64, 64),
                      pool(), TFire(128, 32, 128, 128), TFire(256, 32, 128, 128), pool(),
                      TFire(256, 48, 192, 192), TFire(384, 48, 192, 192), TFire(384, 64, 256, 256),
                      TFire(512, 64, 256, 256)]
        self.features = tnn.Sequential(*layers)
        self.classifier = tnn.Sequential(tnn.Dropout(0.5), tnn.Conv2d(512, num_classes, 1), tnn.ReLU(),
                                         tnn.AdaptiveAvgPool2d((1, 1)))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


class TDenseLayer(tnn.Module):
    def __init__(self, cin, growth, bn_size):
        super().__init__()
        self.norm1, self.relu1 = tnn.BatchNorm2d(cin), tnn.ReLU()
        self.conv1 = tnn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2, self.relu2 = tnn.BatchNorm2d(bn_size * growth), tnn.ReLU()
        self.conv2 = tnn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, features):
        out = self.conv1(self.relu1(self.norm1(torch.cat(features, 1))))
        return self.conv2(self.relu2(self.norm2(out)))


class TDenseBlock(tnn.ModuleDict):
    def __init__(self, n, cin, bn_size, growth):
        super().__init__()
        for i in range(n):
            self.add_module(f"denselayer{i + 1}", TDenseLayer(cin + i * growth, growth, bn_size))

    def forward(self, x):
        features = [x]
        for _, layer in self.items():
            features.append(layer(features))
        return torch.cat(features, 1)


class TDenseNet(tnn.Module):
    def __init__(self, growth=32, blocks=(6, 12, 24, 16), init=64, num_classes=1000):
        super().__init__()
        self.features = tnn.Sequential(OrderedDict([
            ("conv0", tnn.Conv2d(3, init, 7, 2, 3, bias=False)), ("norm0", tnn.BatchNorm2d(init)),
            ("relu0", tnn.ReLU()), ("pool0", tnn.MaxPool2d(3, 2, 1))]))
        c = init
        for i, n in enumerate(blocks):
            self.features.add_module(f"denseblock{i + 1}", TDenseBlock(n, c, 4, growth))
            c += n * growth
            if i != len(blocks) - 1:
                self.features.add_module(f"transition{i + 1}", tnn.Sequential(OrderedDict([
                    ("norm", tnn.BatchNorm2d(c)), ("relu", tnn.ReLU()),
                    ("conv", tnn.Conv2d(c, c // 2, 1, bias=False)),
                    ("pool", tnn.AvgPool2d(2, 2))])))
                c //= 2
        self.features.add_module("norm5", tnn.BatchNorm2d(c))
        self.classifier = tnn.Linear(c, num_classes)

    def forward(self, x):
        out = tF.adaptive_avg_pool2d(tF.relu(self.features(x)), (1, 1))
        return self.classifier(torch.flatten(out, 1))


class TBottleneck(tnn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1, self.bn1 = tnn.Conv2d(inplanes, planes, 1, bias=False), tnn.BatchNorm2d(planes)
        self.conv2, self.bn2 = tnn.Conv2d(planes, planes, 3, stride, 1, bias=False), tnn.BatchNorm2d(planes)
        self.conv3, self.bn3 = tnn.Conv2d(planes, planes * 4, 1, bias=False), tnn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


class TResNet(tnn.Module):
    def __init__(self, layers, num_classes=1000):
        super().__init__()
        self.conv1, self.bn1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False), tnn.BatchNorm2d(64)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        inplanes, stages = 64, []
        for planes, n, stride in zip((64, 128, 256, 512), layers, (1, 2, 2, 2)):
            down = tnn.Sequential(tnn.Conv2d(inplanes, planes * 4, 1, stride, bias=False),
                                  tnn.BatchNorm2d(planes * 4))
            blocks = [TBottleneck(inplanes, planes, stride, down)]
            inplanes = planes * 4
            blocks += [TBottleneck(inplanes, planes) for _ in range(1, n)]
            stages.append(tnn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = tnn.Linear(2048, num_classes)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(tF.adaptive_avg_pool2d(x, 1), 1))


# ------------------------------------------------------------------ the comparisons
CASES = [  # name, torch twin, published parameter count (1,000 classes), state_dict entries, input side
    ("mobilenet_v2", TMobileNetV2, 3_504_872, 314, 32),
    ("squeezenet1_0", lambda **k: TSqueezeNet("1_0", **k), 1_248_424, 52, 48),
    ("squeezenet1_1", lambda **k: TSqueezeNet("1_1", **k), 1_235_496, 52, 40),
    ("densenet121", TDenseNet, 7_978_856, 727, 32),
    ("resnet101", lambda **k: TResNet([3, 4, 23, 3], **k), 44_549_160, 626, 64),
    ("resnet152", lambda **k: TResNet([3, 8, 36, 3], **k), 60_192_808, 932, 64),
]


def randomise_batch_norm(model):
    """Non-trivial running statistics and affine parameters, so eval mode tests something."""
    rng = np.random.default_rng(0)
    sd = {}
    for key, value in model.state_dict().items():
        if key.endswith("running_mean") or key.endswith(".bias") and ("bn" in key or "norm" in key):
            sd[key] = rng.uniform(-0.2, 0.2, value.shape).astype(np.float32)
        elif key.endswith("running_var"):
            sd[key] = rng.uniform(0.5, 2.0, value.shape).astype(np.float32)
        else:
            sd[key] = np.array(value)
    model.load_state_dict(sd)


@pytest.mark.parametrize("name, twin, params, entries, side", CASES, ids=[c[0] for c in CASES])
def test_torchvision_architecture_and_forward(name, twin, params, entries, side):
    small = models.get_model(name)
    assert sum(p.numel() for p in small.parameters()) == params
    sd = small.state_dict()
    assert len(sd) == entries
    reference = twin()
    assert list(sd) == list(reference.state_dict())  # torchvision's keys in torchvision's order
    randomise_batch_norm(small)
    reference.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in small.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 3, side, side))
    for m in list(small.modules()) + list(reference.modules()):  # dropout off in training mode too
        if type(m).__name__ == "Dropout":
            m.p = 0.0
    # float64, eval mode (running statistics) and training mode (batch statistics): the same
    # function to 1e-7; float32 eval mode to 1e-4 where the network is shallow enough for that
    # (ResNet-101/152 stack 33/50 residual blocks whose sums grow: 5e-4 relative in float32)
    runs = [(False, st.float64, torch.float64)]
    if not name.startswith("resnet"):  # (ResNet's blocks in training mode: test_torch_twins.py)
        runs += [(True, st.float64, torch.float64), (False, st.float32, torch.float32)]
    for train, st_dtype, torch_dtype in runs:
        small.to(st_dtype).train(train)
        reference.to(torch_dtype).train(train)
        with st.no_grad(), torch.no_grad():
            out = small(st.tensor(x, dtype=st_dtype)).numpy()
            ref = reference(torch.from_numpy(x).to(torch_dtype)).numpy()
        assert out.shape == (2, 1000)
        tol = 1e-7 if st_dtype == st.float64 else 1e-4
        np.testing.assert_allclose(out, ref, rtol=tol, atol=tol, err_msg=f"{name} train={train} {st_dtype}")


def test_torchvision_weights_names_and_densenet_legacy_keys(tmp_path):
    with pytest.raises(ValueError, match="mobilenet_v2-7ebf99e0.pth"):  # DEFAULT is V2, as torchvision's
        models.mobilenet_v2(pretrained=True)
    with pytest.raises(ValueError, match="squeezenet1_1-b8a52dc0.pth"):
        models.squeezenet1_1(weights=models.SqueezeNet1_1_Weights.IMAGENET1K_V1)
    with pytest.raises(ValueError, match="resnet152-f82ba261.pth"):
        models.resnet152(weights="DEFAULT")
    assert repr(models.DenseNet121_Weights.DEFAULT) == "DenseNet121_Weights.IMAGENET1K_V1"
    # torchvision's DenseNet files spell the layer keys `denselayer1.norm.1.weight`: they load as they are
    st.manual_seed(3)
    source = models.densenet121(num_classes=4)
    legacy = {k.replace(".norm1.", ".norm.1.").replace(".conv2.", ".conv.2.") if "denselayer" in k else k:
              torch.from_numpy(np.array(v)) for k, v in source.state_dict().items()}
    assert "features.denseblock1.denselayer1.norm.1.weight" in legacy
    torch.save(legacy, tmp_path / "densenet121-a639ec97.pth")
    loaded = models.densenet121(num_classes=4, weights=tmp_path / "densenet121-a639ec97.pth")
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(np.array(loaded.state_dict()[key]), np.array(value), err_msg=key)


@pytest.mark.parametrize("name", ["mobilenet_v2", "squeezenet1_1", "densenet121"])
def test_striate_summary_lists_the_new_models(name, capsys):
    from striate.cli import main

    assert main(["summary", name, "--input", "3x64x64", "--num-classes", "10"]) == 0
    out = capsys.readouterr().out
    assert name in out or "params" in out.lower()
    total = sum(p.numel() for p in models.get_model(name, num_classes=10).parameters())
    assert f"{total:,}" in out


def torchvision_init(model, final_conv=None):
    """torchvision's init loops (MobileNetV2's; SqueezeNet's when `final_conv` is given), in torch."""
    for m in model.modules():
        if isinstance(m, tnn.Conv2d):
            if m is final_conv:
                tnn.init.normal_(m.weight, 0.0, 0.01)
            elif final_conv is not None:
                tnn.init.kaiming_uniform_(m.weight)
            else:
                tnn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                tnn.init.zeros_(m.bias)
        elif isinstance(m, tnn.BatchNorm2d):
            tnn.init.ones_(m.weight)
            tnn.init.zeros_(m.bias)
        elif isinstance(m, tnn.Linear):
            tnn.init.normal_(m.weight, 0, 0.01)
            tnn.init.zeros_(m.bias)


@pytest.mark.parametrize("name", ["squeezenet1_1", "mobilenet_v2"])
def test_initial_weights_equal_torchvisions_after_the_same_seed(name):
    st.manual_seed(0)
    model = models.get_model(name)
    torch.manual_seed(0)  # torchvision builds its modules (each draws its default init), then re-initialises
    twin = TSqueezeNet("1_1") if name == "squeezenet1_1" else TMobileNetV2()
    torchvision_init(twin, twin.classifier[1] if name == "squeezenet1_1" else None)
    reference = twin.state_dict()
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(np.array(value), reference[key].numpy(), err_msg=key)

"""Every model of st.models exported to ONNX: onnx.checker (full), onnxruntime at batch 1 and 3
(exported at batch 2, so the batch axis really is dynamic) and st.onnx.load all equal striate's
own output within 1e-5 (relative to the output's largest magnitude, as the parity harness).

Sizes are cut to keep the suite fast; the operators are the same as at full size:
- GoogLeNet and ResNet at 64x64, MobileNetV2 and DenseNet-121 at 32x32, SqueezeNet 1.1 at 48x48
  (squeezenet1_0, resnet101/152 and densenet161/169/201 repeat their layer types), U-Net with
  base=8, AlexNet at 99x99 (its adaptive 6x6 pooling then runs on a 2x2 map: the unequal-window
  MatMul form), VGG at 32x32 (AdaptiveAvgPool 1x1 -> 7x7).
- VGG's and AlexNet's 4096-wide classifiers (400 MB of weights for VGG, 15 s of protobuf
  serialisation per model) are swapped for 64-wide ones built from the same layer types.
- vgg13(_bn), vgg16_bn, vgg19 and resnet34 repeat blocks tested here (same layer types, other
  depths); `python benchmarks/bench_onnx_zoo.py` exports every model, these included, at full
  size and design resolution.
"""

from __future__ import annotations

import pytest
from onnxhelpers import check_round_trip, randomise_norm_stats

import striate as st
import striate.nn as nn
from striate import models
from striate.models import vgg

ZOO = [
    ("lenet5", (1, 32, 32), {}),
    ("lenet5", (1, 32, 32), {"variant": "modern"}),
    ("mnist_convnet", (1, 28, 28), {}),
    (
        "mnist_convnet",
        (1, 28, 28),
        {"width": 2, "convs_per_block": 2, "kernel_size": 3, "hidden": 32, "dropout": 0.3},
    ),
    ("convnetjs_cifar", (3, 32, 32), {}),
    ("alexnet", (3, 99, 99), {"num_classes": 10}),
    ("googlenet", (3, 64, 64), {"num_classes": 10}),
    ("resnet18", (3, 64, 64), {"num_classes": 10}),
    ("resnet18_cifar", (3, 32, 32), {}),
    ("resnet50", (3, 64, 64), {"num_classes": 10}),
    ("unet", (1, 32, 32), {"base": 8, "depth": 3}),
    ("unet", (1, 32, 32), {"base": 8, "depth": 2, "batch_norm": True}),
] + [(name, (3, 32, 32), {}) for name in ("vgg11", "vgg11_bn", "vgg16", "vgg19_bn")]
ZOO += [  # issue 21 (i21-vision2): ReLU6 as Clip, depthwise convolutions, Fire and dense concatenations
    ("mobilenet_v2", (3, 32, 32), {"num_classes": 10}),
    ("squeezenet1_1", (3, 48, 48), {"num_classes": 10}),
    ("densenet121", (3, 32, 32), {"num_classes": 10}),
]


def _narrow_classifier(model) -> None:
    """AlexNet with a 64-wide classifier of the same layer types (see the module docstring)."""
    first = model.classifier[1]
    layers = []
    for m in model.classifier:
        if isinstance(m, nn.Linear):
            last = m is model.classifier[-1]
            layers.append(nn.Linear(first.in_features if m is first else 64, m.out_features if last else 64))
        else:
            layers.append(m)
    model.classifier = nn.Sequential(*layers)


def _narrow_vgg(name: str):
    """The zoo's VGG feature stack (make_layers) + AdaptiveAvgPool2d((7, 7)) + a 64-wide classifier:
    VGG.forward's computation without initialising 100M classifier weights (16 s under load)."""
    config = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}[name.replace("_bn", "")]
    features = vgg.make_layers(vgg.VGG_CONFIGS[config], name.endswith("_bn"), 3)
    return nn.Sequential(
        features,
        nn.AdaptiveAvgPool2d((7, 7)),
        nn.Flatten(),
        nn.Linear(512 * 7 * 7, 64),
        nn.ReLU(inplace=True),
        nn.Dropout(),
        nn.Linear(64, 64),
        nn.ReLU(inplace=True),
        nn.Dropout(),
        nn.Linear(64, 10),
    )


@pytest.mark.parametrize("name,shape,kwargs", ZOO, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(ZOO)])
def test_zoo_model_exports_and_runs_in_onnxruntime(name, shape, kwargs, tmp_path):
    if name.startswith("vgg"):
        model = _narrow_vgg(name)
    else:
        model = models.get_model(name, **kwargs)
    if name == "alexnet":
        _narrow_classifier(model)
    randomise_norm_stats(model)
    _, loaded = check_round_trip(model, shape, tmp_path)
    # the loaded model keeps the original's parameter names (LeNet-5 classic's C3/S2/S4 kernels
    # are computed from its parameters: exported as their values, they load as constants)
    original = set(dict(model.named_parameters()))
    assert set(dict(loaded.named_parameters())) <= original
    if not (name == "lenet5" and not kwargs):
        assert set(dict(loaded.named_parameters())) == original


def test_loaded_model_fine_tunes(tmp_path):
    st.manual_seed(1)
    model = models.mnist_convnet()
    randomise_norm_stats(model)
    model.eval()
    st.onnx.export(model, st.randn(2, 1, 28, 28), tmp_path / "convnet.onnx")
    loaded = st.onnx.load(tmp_path / "convnet.onnx").train()
    x, y = st.randn(16, 1, 28, 28), st.randint(0, 10, (16,))
    opt = st.optim.Adam(loaded.parameters(), lr=1e-2)
    losses = []
    for _ in range(8):
        loss = st.nn.functional.cross_entropy(loaded(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
    # batch norm's running statistics moved in training mode, as nn.BatchNorm2d's do
    key = next(k for k, _ in model.named_buffers() if k.endswith("running_mean"))
    before = dict(model.named_buffers())[key].numpy()
    after = dict(loaded.named_buffers())[key].numpy()
    assert not (before == after).all()
    # and the fine-tuned weights go back into the zoo model by key
    result = model.load_state_dict(loaded.state_dict(), strict=False)
    assert not result.unexpected_keys

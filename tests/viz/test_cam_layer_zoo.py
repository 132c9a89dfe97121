"""The automatic Grad-CAM layer on every model of the zoo: the last module (outermost when a block
and its last layer end together) whose output still has spatial extent, found by forward hooks.

The choice depends only on the architecture, so the random initialisation is skipped (drawing
VGG's 138 M weights costs ~10 s each on this machine) and the big models get small inputs that
keep the same module order (VGG's and AlexNet's adaptive pooling still give 7x7 / 6x6 maps)."""

from __future__ import annotations

import numpy as np
import pytest

import striate as st
from striate import models
from striate.nn import init

EXPECTED = {
    "alexnet": "avgpool", "convnetjs_cifar": "features", "googlenet": "inception5b", "lenet5": "squash4",
    "lenet5_modern": "pool2",
    "mnist_convnet": "layer2", "resnet18": "layer4", "resnet18_cifar": "layer4", "resnet34": "layer4",
    "resnet50": "layer4", "unet": "outc",
    **{name: "avgpool" for name in models.list_models() if name.startswith("vgg")},
}
# issue 21 (i21-vision2): SqueezeNet's last spatial map is its class map (1x1 conv to the classes + ReLU)
EXPECTED.update({"mobilenet_v2": "features", "squeezenet1_0": "classifier.2", "squeezenet1_1": "classifier.2",
                 "resnet101": "layer4", "resnet152": "layer4",
                 **{f"densenet{n}": "features" for n in (121, 161, 169, 201)}})
SMALL = {"alexnet": 67, "googlenet": 64, "resnet18": 64, "resnet34": 64, "resnet50": 64, "unet": 32}
SMALL.update(dict.fromkeys(("mobilenet_v2", "squeezenet1_0", "squeezenet1_1", "resnet101", "resnet152",
                             "densenet121", "densenet161", "densenet169", "densenet201"), 64))


def test_every_zoo_model_has_an_expected_layer():
    assert sorted(EXPECTED) == models.list_models()


def _zero_fill(tensor, *args, **kwargs):
    tensor.numpy()[...] = 0  # numpy() is a view of the parameter's array
    return tensor


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_auto_layer(name, monkeypatch):
    for fn in ("uniform_", "normal_", "kaiming_uniform_", "kaiming_normal_", "trunc_normal_"):
        monkeypatch.setattr(init, fn, _zero_fill)
    model = models.get_model(name)
    c, h, w = models.default_input_size(name)
    side = SMALL.get(name, 32 if name.startswith("vgg") else h)
    x = np.zeros((1, c, side, side if w == h else w), np.float32)
    assert st.viz.find_cam_layer(model, x) == EXPECTED[name]
    assert all(m.training for m in model.modules()), "the probe must restore the training mode"


def test_grad_cam_on_a_zoo_model_uses_the_auto_layer():
    model = models.mnist_convnet().eval()
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    cam = st.viz.grad_cam(model, x, target=3)
    assert cam.shape == (2, 7, 7)
    np.testing.assert_array_equal(cam, st.viz.grad_cam(model, x, target=3, layer="layer2"))

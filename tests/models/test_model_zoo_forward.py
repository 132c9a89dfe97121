"""Every model of st.models: parameter totals (torchvision's published ones), torchvision state_dict
layout, and one forward + backward pass on a small batch.

Sizes: LeNet-5, the MNIST ConvNet, ConvNetJS and AlexNet run at the size they were designed for
(AlexNet: 227x227, one image, about a second). VGG (vgg11_bn: plain VGG is the same code without
the BatchNorm layers) runs at 32x32 (its AdaptiveAvgPool2d((7, 7))
makes every layer and the full 25088-4096-4096 classifier run; a 224x224 forward alone takes
several seconds on NumPy), GoogLeNet and ResNet at 64x64, U-Net with base=16 at 32x32: the
architecture and parameters are unchanged, only the images are smaller.
"""

from __future__ import annotations

import numpy as np
import pytest

import striate as st
import striate.nn.functional as F
from striate import models

_BUILT: dict[str, object] = {}


@pytest.fixture(scope="module", autouse=True)
def _release_big_models():
    """The built models are shared by this module's tests and released after its last one."""
    yield
    _BUILT.clear()


def built(name: str, **kwargs):
    """Big models are built once per test module (VGG-16's 138M parameters take seconds to initialise)."""
    key = f"{name}{sorted(kwargs.items())}"
    if key not in _BUILT:
        _BUILT[key] = models.get_model(name, **kwargs)
    return _BUILT[key]


@pytest.mark.parametrize("name, kwargs, total", [
    ("vgg16", {}, 138_357_544),
    ("vgg16_bn", {}, 138_365_992),
    ("resnet18", {}, 11_689_512),
    ("resnet50", {}, 25_557_032),
    ("googlenet", {}, 6_624_904),
    ("alexnet", {}, 62_378_344),
    ("lenet5", {"variant": "classic"}, 60_000),
    ("lenet5", {"variant": "modern"}, 61_706),
    ("mnist_convnet", {}, 29_034),
])
def test_parameter_totals(name, kwargs, total):
    model = built(name, **kwargs)
    assert sum(p.numel() for p in model.parameters()) == total


# torchvision's state_dict keys (and counts, num_batches_tracked included), so its weights load
@pytest.mark.parametrize("name, count, keys", [
    ("vgg16", 32, ["features.0.weight", "features.28.bias", "classifier.0.weight", "classifier.3.bias",
                   "classifier.6.weight"]),
    ("vgg16_bn", 97, ["features.1.running_var", "features.41.weight", "classifier.6.bias"]),
    ("resnet18", 122, ["conv1.weight", "bn1.num_batches_tracked", "layer1.1.conv2.weight",
                       "layer2.0.downsample.0.weight", "layer4.1.bn2.running_var", "fc.bias"]),
    ("resnet50", 320, ["layer1.0.conv3.weight", "layer1.0.downsample.1.running_mean", "layer4.2.bn3.bias"]),
    ("googlenet", 344, ["conv1.conv.weight", "conv1.bn.running_mean", "inception3a.branch1.conv.weight",
                        "inception3a.branch2.1.bn.weight", "inception4e.branch3.1.conv.weight",
                        "inception5b.branch4.1.conv.weight", "fc.weight"]),
])
def test_torchvision_state_dict_layout(name, count, keys):
    sd = built(name).state_dict()
    assert len(sd) == count
    for key in keys:
        assert key in sd, key


def test_resnet_shapes_follow_torchvision():
    sd = built("resnet50").state_dict()
    assert sd["layer1.0.conv1.weight"].shape == (64, 64, 1, 1)
    assert sd["layer2.0.conv2.weight"].shape == (128, 128, 3, 3)  # stride on the 3x3 (v1.5)
    assert sd["fc.weight"].shape == (1000, 2048)
    cifar = models.resnet18(cifar=True)
    assert cifar.conv1.weight.shape == (64, 3, 3, 3) and cifar.conv1.stride in (1, (1, 1))
    assert not hasattr(cifar, "maxpool")
    assert models.resnet18_cifar().fc.weight.shape == (10, 512)


def _loss(out):
    if out.ndim == 2:
        return F.cross_entropy(out, st.tensor(np.arange(out.shape[0]) % out.shape[1]))
    return (out * out).mean()


ZOO = [
    ("lenet5", {"variant": "classic"}, (2, 1, 32, 32), (2, 10)),
    ("lenet5", {"variant": "modern"}, (2, 1, 32, 32), (2, 10)),
    ("lenet5", {"variant": "modern", "in_channels": 3}, (2, 3, 32, 32), (2, 10)),
    ("mnist_convnet", {}, (2, 1, 28, 28), (2, 10)),
    ("convnetjs_cifar", {}, (2, 3, 32, 32), (2, 10)),
    ("alexnet", {"num_classes": 10}, (1, 3, 227, 227), (1, 10)),
    ("vgg11_bn", {"num_classes": 10}, (2, 3, 32, 32), (2, 10)),
    ("googlenet", {"num_classes": 10}, (2, 3, 64, 64), (2, 10)),
    ("resnet18", {"num_classes": 10}, (2, 3, 64, 64), (2, 10)),
    ("resnet34", {"num_classes": 10}, (1, 3, 64, 64), (1, 10)),
    ("resnet50", {"num_classes": 10}, (1, 3, 64, 64), (1, 10)),
    ("resnet18_cifar", {}, (2, 3, 32, 32), (2, 10)),
    ("unet", {"base": 16}, (2, 1, 32, 32), (2, 2, 32, 32)),
    ("unet", {"in_channels": 3, "num_classes": 4, "base": 8, "depth": 2, "batch_norm": True}, (2, 3, 20, 20),
     (2, 4, 20, 20)),
]


@pytest.mark.parametrize("name, kwargs, in_shape, out_shape", ZOO,
                         ids=[f"{z[0]}-{i}" for i, z in enumerate(ZOO)])
def test_forward_backward(name, kwargs, in_shape, out_shape):
    model = models.get_model(name, **kwargs)
    model.train()
    x = st.randn(*in_shape)
    out = model(x)
    assert out.shape == out_shape and out.dtype == st.float32
    assert np.isfinite(out.numpy()).all()
    _loss(out).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, pname
        assert p.grad.shape == p.shape and p.grad.dtype == p.dtype, pname
        assert np.isfinite(p.grad.numpy()).all(), pname
    # eval mode is deterministic (dropout off, BatchNorm on running statistics)
    model.eval()
    with st.no_grad():
        a, b = model(x).numpy(), model(x).numpy()
    np.testing.assert_array_equal(a, b)


def test_googlenet_aux_logits():
    model = models.googlenet(aux_logits=True, num_classes=5)
    assert sum(p.numel() for p in model.parameters()) > 6_624_904
    model.train()
    out = model(st.randn(2, 3, 64, 64))
    assert isinstance(out, models.GoogLeNetOutputs)
    assert [o.shape for o in out] == [(2, 5)] * 3
    y = st.tensor([0, 1])
    loss = F.cross_entropy(out.logits, y)
    loss = loss + 0.3 * F.cross_entropy(out.aux_logits1, y) + 0.3 * F.cross_entropy(out.aux_logits2, y)
    loss.backward()
    assert model.aux1.fc2.weight.grad is not None and model.aux2.fc2.weight.grad is not None
    model.eval()
    with st.no_grad():
        assert model(st.randn(1, 3, 64, 64)).shape == (1, 5)


def test_lenet5_classic_scores_penalties_and_losses():
    model = models.lenet5("classic")
    x = st.randn(3, 1, 32, 32)
    scores = model(x)
    model.return_penalties = True
    penalties = model(x)
    np.testing.assert_allclose(scores.numpy(), -penalties.numpy())
    assert (penalties.numpy() >= 0).all()
    target = st.tensor([1, 7, 3])
    eq8 = models.rbf_loss(scores, target)
    np.testing.assert_allclose(eq8.item(), penalties.numpy()[[0, 1, 2], [1, 7, 3]].mean(), rtol=1e-6)
    # eq. (9) with a huge j is cross-entropy over the scores
    big_j = models.rbf_loss(scores, target, j=1e4)
    np.testing.assert_allclose(big_j.item(), F.cross_entropy(scores, target).item(), rtol=1e-5)
    eq9 = models.rbf_loss(scores, target, j=1.0)
    assert eq9.item() > big_j.item()
    eq9.backward()
    assert model.C3.weight.grad is not None and model.S2.weight.grad.shape == (6,)
    assert "weight" not in dict(model.output.named_parameters())  # fixed prototypes: a buffer
    trainable = models.lenet5("classic", trainable_prototypes=True)
    assert dict(trainable.output.named_parameters())["weight"].shape == (10, 84)
    with pytest.raises(ValueError, match="rbf_loss: targets"):
        models.rbf_loss(scores, st.tensor([0, 1, 10]))


def test_digit_prototypes_are_distinct_bitmaps():
    from striate.models.layers import DIGIT_BITMAPS, digit_prototypes

    assert all(len(b) == 12 and all(len(r) == 7 for r in b) for b in DIGIT_BITMAPS)
    codes = digit_prototypes()
    assert codes.shape == (10, 84) and set(np.unique(codes)) == {-1.0, 1.0}
    dist = ((codes[:, None] - codes[None]) ** 2).sum(-1)
    assert dist[~np.eye(10, dtype=bool)].min() >= 4 * 6  # every pair differs in at least 6 pixels


def test_bad_inputs_have_clear_errors():
    with pytest.raises(ValueError, match="32, 32"):
        models.lenet5("classic")(st.randn(1, 1, 28, 28))
    with pytest.raises(ValueError, match="variant"):
        models.lenet5("retro")
    with pytest.raises(ValueError, match="28x28"):
        models.mnist_convnet()(st.randn(1, 1, 32, 32))
    with pytest.raises(ValueError, match="divisible by 16"):
        models.unet(base=4)(st.randn(1, 1, 40, 40))
    with pytest.raises(ValueError, match="unknown model 'resnet9'.*resnet18"):
        models.get_model("resnet9")
    with pytest.raises(ValueError, match="get_model"):
        models.get_model("alexnet", colour=True)


def test_registry():
    names = models.list_models()
    for name in ["lenet5", "mnist_convnet", "alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg16_bn",
                 "googlenet", "resnet18", "resnet34", "resnet50", "resnet18_cifar", "unet",
                 "convnetjs_cifar"]:
        assert name in names
    assert models.default_input_size("alexnet") == (3, 227, 227)
    assert models.default_input_size("lenet5") == (1, 32, 32)
    assert models.default_input_size("mnist_convnet", in_channels=3) == (3, 28, 28)
    assert models.get_model("resnet18", cifar=True, num_classes=3).fc.weight.shape == (3, 512)
    assert st.models.lenet5 is models.lenet5


def test_mnist_convnet_width_and_dropout_options():
    import striate as st

    base = st.models.mnist_convnet()
    wide = st.models.mnist_convnet(width=2, dropout=0.3)
    assert list(wide.state_dict()) == list(base.state_dict())  # the slide's keys either way
    assert wide.layer1[0].weight.shape == (32, 1, 5, 5) and wide.fc.weight.shape == (10, 7 * 7 * 64)
    out = wide(st.randn(2, 1, 28, 28))
    assert out.shape == (2, 10)
    with pytest.raises(ValueError, match="width"):
        st.models.mnist_convnet(width=0)


def test_mnist_convnet_hidden_layer_option():
    import striate as st

    net = st.models.mnist_convnet(width=2, hidden=256, dropout=0.5)
    assert net.hidden[0].weight.shape == (256, 7 * 7 * 64) and net.fc.weight.shape == (10, 256)
    assert list(net.state_dict())[-4:] == ["hidden.0.weight", "hidden.0.bias", "fc.weight", "fc.bias"]
    assert net(st.randn(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ValueError, match="hidden"):
        st.models.mnist_convnet(hidden=-1)


def test_mnist_convnet_two_convs_per_block_option():
    import striate as st

    net = st.models.mnist_convnet(width=2, convs_per_block=2, kernel_size=3)
    assert [type(m).__name__ for m in net.layer1] == ["Conv2d", "BatchNorm2d", "ReLU"] * 2 + ["MaxPool2d"]
    assert net.layer1[3].weight.shape == (32, 32, 3, 3) and net.layer2[0].weight.shape == (64, 32, 3, 3)
    assert net(st.randn(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ValueError, match="kernel_size"):
        st.models.mnist_convnet(kernel_size=4)

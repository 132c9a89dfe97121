"""The lectures' architectures, built from `striate.nn` modules.

    st.models.lenet5(variant="classic" | "modern")   LeCun et al. 1998 / seed 002's PyTorch LeNet
    st.models.lenet5_modern()                        the modern one under its own name ("lenet5_modern")
    st.models.mnist_convnet()                        seed 002's two-layer MNIST ConvNet
    st.models.alexnet()                              seed 003's single-tower AlexNet (227x227x3)
    st.models.vgg11/13/16/19(batch_norm=False)       torchvision layout and keys
    st.models.googlenet(aux_logits=False)            Inception v1, torchvision layout and keys
    st.models.resnet18/34/50/101/152(cifar=False)    torchvision layout and keys; resnet18_cifar
    st.models.mobilenet_v2(width_mult=1.0)           MobileNetV2, torchvision layout and keys
    st.models.squeezenet1_0/1_1()                    SqueezeNet, torchvision layout and keys
    st.models.densenet121/161/169/201()              DenseNet-BC, torchvision layout and keys
    st.models.unet(in_channels=1, num_classes=2)     U-Net with padded convolutions
    st.models.convnetjs_cifar()                      ConvNetJS's CIFAR-10 demo

`get_model(name, **kwargs)` builds one by name, `list_models()` names them and
`default_input_size(name)` gives the (C, H, W) each was designed for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from striate.models.alexnet import AlexNet, alexnet
from striate.models.convnetjs import ConvNetJSCifar, convnetjs_cifar
from striate.models.googlenet import GoogLeNet, GoogLeNetOutputs, googlenet
from striate.models.layers import rbf_loss
from striate.models.lenet import LeNet, LeNet5, lenet5, lenet5_modern
from striate.models.mnist_convnet import ConvNet, mnist_convnet
from striate.models.pretrained import WEIGHTS_ENUMS
from striate.models.resnet import ResNet, resnet18, resnet18_cifar, resnet34, resnet50
from striate.models.unet import UNet, unet
from striate.models.vgg import (
    VGG,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)
from striate.models.weights import load_weights, with_weights

# torchvision's weights names (issue 21): passing one explains how to load the local file
GoogLeNet_Weights = WEIGHTS_ENUMS["googlenet"]
ResNet18_Weights, ResNet34_Weights, ResNet50_Weights = (WEIGHTS_ENUMS[f"resnet{n}"] for n in (18, 34, 50))
VGG11_Weights, VGG11_BN_Weights, VGG13_Weights, VGG13_BN_Weights = (
    WEIGHTS_ENUMS[n] for n in ("vgg11", "vgg11_bn", "vgg13", "vgg13_bn"))
VGG16_Weights, VGG16_BN_Weights, VGG19_Weights, VGG19_BN_Weights = (
    WEIGHTS_ENUMS[n] for n in ("vgg16", "vgg16_bn", "vgg19", "vgg19_bn"))

# issue 18: every factory takes weights=PATH (a torch.save checkpoint, a safetensors file or a
# mapping of arrays; torchvision's keys for ResNet, VGG, GoogLeNet) and weights_mapping=
alexnet, convnetjs_cifar, googlenet, lenet5, mnist_convnet, unet = (
    with_weights(f) for f in (alexnet, convnetjs_cifar, googlenet, lenet5, mnist_convnet, unet))
resnet18, resnet18_cifar, resnet34, resnet50 = (
    with_weights(f) for f in (resnet18, resnet18_cifar, resnet34, resnet50))
vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn = (
    with_weights(f) for f in (vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn))

__all__ = [
    "VGG", "AlexNet", "ConvNet", "ConvNetJSCifar", "GoogLeNet", "GoogLeNetOutputs", "LeNet", "LeNet5",
    "ResNet", "UNet", "alexnet", "convnetjs_cifar", "default_input_size", "get_model", "googlenet", "lenet5",
    "lenet5_modern",
    "list_models", "load_weights", "mnist_convnet", "rbf_loss", "resnet18", "resnet18_cifar", "resnet34",
    "resnet50", "unet",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
]

# name -> (factory, (H, W) it was designed for, default input channels)
_REGISTRY: dict[str, tuple[Callable[..., Any], tuple[int, int], int]] = {
    "lenet5": (lenet5, (32, 32), 1),  # the 1998 network (one name, one model)
    "lenet5_modern": (lenet5_modern, (32, 32), 1),
    "mnist_convnet": (mnist_convnet, (28, 28), 1),
    "alexnet": (alexnet, (227, 227), 3),
    "vgg11": (vgg11, (224, 224), 3),
    "vgg11_bn": (vgg11_bn, (224, 224), 3),
    "vgg13": (vgg13, (224, 224), 3),
    "vgg13_bn": (vgg13_bn, (224, 224), 3),
    "vgg16": (vgg16, (224, 224), 3),
    "vgg16_bn": (vgg16_bn, (224, 224), 3),
    "vgg19": (vgg19, (224, 224), 3),
    "vgg19_bn": (vgg19_bn, (224, 224), 3),
    "googlenet": (googlenet, (224, 224), 3),
    "resnet18": (resnet18, (224, 224), 3),
    "resnet34": (resnet34, (224, 224), 3),
    "resnet50": (resnet50, (224, 224), 3),
    "resnet18_cifar": (resnet18_cifar, (32, 32), 3),
    # the padded U-Net takes any multiple of 16; 128x128 keeps `striate summary unet` quick
    "unet": (unet, (128, 128), 1),
    "convnetjs_cifar": (convnetjs_cifar, (32, 32), 3),
}


def list_models() -> list[str]:
    """The names `get_model` accepts."""
    return sorted(_REGISTRY)


def _entry(name: str) -> tuple[Callable[..., Any], tuple[int, int], int]:
    key = name.lower().replace("-", "_")
    if key not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(list_models())}")
    return _REGISTRY[key]


def get_model(name: str, **kwargs: Any) -> Any:
    """Build a model by name, e.g. get_model("lenet5", variant="modern", num_classes=10).

    Keyword arguments go to the model's function (num_classes, in_channels, and the model's own
    options such as variant, batch_norm, cifar, aux_logits, base, depth)."""
    factory, _, _ = _entry(name)
    try:
        return factory(**kwargs)
    except TypeError as e:
        raise ValueError(f"get_model({name!r}): {e}") from None


def default_input_size(name: str, **kwargs: Any) -> tuple[int, int, int]:
    """One example's (C, H, W) the model was designed for (in_channels from kwargs if given)."""
    _, (h, w), channels = _entry(name)
    return (int(kwargs.get("in_channels", channels)), h, w)


# issue 21 (i21-vision2): MobileNetV2, SqueezeNet, DenseNet, ResNet-101/152 with torchvision's keys
from striate.models import densenet as _densenet  # noqa: E402
from striate.models.densenet import DenseNet  # noqa: E402
from striate.models.mobilenet import MobileNetV2  # noqa: E402
from striate.models.mobilenet import mobilenet_v2 as _mobilenet_v2  # noqa: E402
from striate.models.resnet import resnet101 as _resnet101  # noqa: E402
from striate.models.resnet import resnet152 as _resnet152  # noqa: E402
from striate.models.squeezenet import SqueezeNet  # noqa: E402
from striate.models.squeezenet import squeezenet1_0 as _squeezenet1_0  # noqa: E402
from striate.models.squeezenet import squeezenet1_1 as _squeezenet1_1  # noqa: E402

resnet101, resnet152, mobilenet_v2, squeezenet1_0, squeezenet1_1 = (
    with_weights(f) for f in (_resnet101, _resnet152, _mobilenet_v2, _squeezenet1_0, _squeezenet1_1))
densenet121, densenet161, densenet169, densenet201 = (
    with_weights(f, _densenet.torchvision_key)
    for f in (_densenet.densenet121, _densenet.densenet161, _densenet.densenet169, _densenet.densenet201))
ResNet101_Weights, ResNet152_Weights, MobileNet_V2_Weights = (
    WEIGHTS_ENUMS[n] for n in ("resnet101", "resnet152", "mobilenet_v2"))
SqueezeNet1_0_Weights, SqueezeNet1_1_Weights = WEIGHTS_ENUMS["squeezenet1_0"], WEIGHTS_ENUMS["squeezenet1_1"]
DenseNet121_Weights, DenseNet161_Weights, DenseNet169_Weights, DenseNet201_Weights = (
    WEIGHTS_ENUMS[f"densenet{n}"] for n in (121, 161, 169, 201))
_REGISTRY.update({name: (globals()[name], (224, 224), 3) for name in (
    "resnet101", "resnet152", "mobilenet_v2", "squeezenet1_0", "squeezenet1_1", "densenet121", "densenet161",
    "densenet169", "densenet201")})
__all__ += ["DenseNet", "DenseNet121_Weights", "DenseNet161_Weights", "DenseNet169_Weights",
            "DenseNet201_Weights", "MobileNetV2", "MobileNet_V2_Weights", "ResNet101_Weights",
            "ResNet152_Weights",
            "SqueezeNet", "SqueezeNet1_0_Weights", "SqueezeNet1_1_Weights", "densenet121", "densenet161",
            "densenet169", "densenet201", "mobilenet_v2", "resnet101", "resnet152", "squeezenet1_0",
            "squeezenet1_1"]

__all__ += ["GoogLeNet_Weights", "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights",
            "VGG11_BN_Weights", "VGG11_Weights", "VGG13_BN_Weights", "VGG13_Weights", "VGG16_BN_Weights",
            "VGG16_Weights", "VGG19_BN_Weights", "VGG19_Weights"]  # issue 21

"""torchvision's pretrained-weights arguments, answered without a download.

`resnet18(pretrained=True)`, `resnet18(weights="IMAGENET1K_V1")` or
`resnet18(weights=ResNet18_Weights.DEFAULT)` would make torchvision download its ImageNet file;
striate downloads no weights, so these raise an error that names the file to fetch once and the
line that loads the local copy (`weights=PATH`, read by `st.load_torch` without unpickling).
`weights=None` and `pretrained=False` build the untrained model, as in torchvision.
"""

from __future__ import annotations

import os
import re
from typing import Any

_URL = "https://download.pytorch.org/models/"

# torchvision's ImageNet files for the zoo models that share its layout and keys
TORCHVISION_FILES = {
    "resnet18": {"IMAGENET1K_V1": "resnet18-f37072fd.pth"},
    "resnet34": {"IMAGENET1K_V1": "resnet34-b627a593.pth"},
    "resnet50": {"IMAGENET1K_V1": "resnet50-0676ba61.pth", "IMAGENET1K_V2": "resnet50-11ad3fa6.pth"},
    "vgg11": {"IMAGENET1K_V1": "vgg11-8a719046.pth"},
    "vgg11_bn": {"IMAGENET1K_V1": "vgg11_bn-6002323d.pth"},
    "vgg13": {"IMAGENET1K_V1": "vgg13-19584684.pth"},
    "vgg13_bn": {"IMAGENET1K_V1": "vgg13_bn-abd245e5.pth"},
    "vgg16": {"IMAGENET1K_V1": "vgg16-397923af.pth"},
    "vgg16_bn": {"IMAGENET1K_V1": "vgg16_bn-6c64b313.pth"},
    "vgg19": {"IMAGENET1K_V1": "vgg19-dcbb9e9d.pth"},
    "vgg19_bn": {"IMAGENET1K_V1": "vgg19_bn-c79401a0.pth"},
    "googlenet": {"IMAGENET1K_V1": "googlenet-1378be20.pth"},
    # issue 21 (i21-vision2)
    "resnet101": {"IMAGENET1K_V1": "resnet101-63fe2227.pth", "IMAGENET1K_V2": "resnet101-cd907fc2.pth"},
    "resnet152": {"IMAGENET1K_V1": "resnet152-394f9c45.pth", "IMAGENET1K_V2": "resnet152-f82ba261.pth"},
    "mobilenet_v2": {"IMAGENET1K_V1": "mobilenet_v2-b0353104.pth",
                     "IMAGENET1K_V2": "mobilenet_v2-7ebf99e0.pth"},
    "squeezenet1_0": {"IMAGENET1K_V1": "squeezenet1_0-b66bff10.pth"},
    "squeezenet1_1": {"IMAGENET1K_V1": "squeezenet1_1-b8a52dc0.pth"},
    "densenet121": {"IMAGENET1K_V1": "densenet121-a639ec97.pth"},
    "densenet161": {"IMAGENET1K_V1": "densenet161-8d451a50.pth"},
    "densenet169": {"IMAGENET1K_V1": "densenet169-b2777c0a.pth"},
    "densenet201": {"IMAGENET1K_V1": "densenet201-c1103571.pth"},
}
_DEFAULT = {"resnet50": "IMAGENET1K_V2", "resnet101": "IMAGENET1K_V2", "resnet152": "IMAGENET1K_V2",
            "mobilenet_v2": "IMAGENET1K_V2"}
_WEIGHTS_NAME = re.compile(r"^(?:[A-Za-z0-9]+_Weights\.)?[A-Z][A-Z0-9_]*$")


class Weights:
    """One of torchvision's named weights (`ResNet18_Weights.IMAGENET1K_V1`): its file and URL."""

    def __init__(self, model: str, name: str, file: str) -> None:
        self.model, self.name, self.file = model, name, file
        self.url = _URL + file

    def __repr__(self) -> str:
        return f"{_enum_name(self.model)}.{self.name}"


def _enum_name(model: str) -> str:
    """torchvision's class name of a model's weights: resnet18 -> ResNet18_Weights."""
    base = {"googlenet": "GoogLeNet", "mobilenet_v2": "MobileNet_V2"}.get(model)
    if base is None:
        base = model.replace("resnet", "ResNet").replace("vgg", "VGG").replace("_bn", "_BN")
        base = base.replace("squeezenet", "SqueezeNet").replace("densenet", "DenseNet")
    return f"{base}_Weights"


def _weights_enum(model: str) -> type:
    names = TORCHVISION_FILES[model]
    members: dict[str, Any] = {name: Weights(model, name, file) for name, file in names.items()}
    members["DEFAULT"] = members[_DEFAULT.get(model, "IMAGENET1K_V1")]
    members["__doc__"] = (f"torchvision's `{_enum_name(model)}` names; passing one to `st.models.{model}` "
                          "explains how to load the file from disk (striate downloads no weights).")
    return type(_enum_name(model), (), members)


WEIGHTS_ENUMS = {model: _weights_enum(model) for model in TORCHVISION_FILES}


def _is_weights_name(weights: Any) -> bool:
    return (isinstance(weights, str) and bool(_WEIGHTS_NAME.match(weights))
            and not os.path.exists(weights))


def check_pretrained(model: str, weights: Any, pretrained: Any) -> None:
    """Raise the no-download error for torchvision's pretrained arguments; None/False pass."""
    asked = weights if isinstance(weights, Weights) or _is_weights_name(weights) else None
    if not pretrained and asked is None:
        return
    call = f"st.models.{model}({'pretrained=True' if pretrained and asked is None else f'weights={asked!r}'})"
    if isinstance(asked, Weights):
        entry = asked.name
    else:
        entry = str(asked or "DEFAULT").rpartition(".")[2]
    files = TORCHVISION_FILES.get(model)
    if entry == "DEFAULT" and files:
        entry = _DEFAULT.get(model, "IMAGENET1K_V1")
    if not files:
        raise ValueError(f"{call}: striate has no pretrained weights for {model} and downloads none; "
                         f"load a checkpoint file of your own with st.models.{model}(weights=PATH)")
    if entry not in files:
        raise ValueError(f"{call}: torchvision has no weights {entry!r} for {model}; it has "
                         f"{', '.join(files)}")
    file = files[entry]
    raise ValueError(
        f"{call}: striate downloads no weights. Fetch torchvision's file once ({_URL}{file}) and load the "
        "local copy (read by st.load_torch, nothing unpickled):\n"
        f"    model = st.models.{model}(weights={file!r})"
    )

"""torchvision's pretrained-weights arguments on the zoo: accepted when they ask for nothing,
a clear no-download error naming the local-file line otherwise; torchvision's own resnet18 file
loads through st.load_torch (tests/test_io_torch.py checks a torch-built twin of it; the last
test here uses torchvision itself when it is installed)."""

import numpy as np
import pytest
import torch

import striate as st
from striate import models


def test_untrained_arguments_are_accepted():
    for kwargs in ({}, {"weights": None}, {"pretrained": False}, {"weights": None, "progress": False}):
        assert models.mnist_convnet(**kwargs) is not None  # every zoo factory shares the wrapper
    model = models.get_model("resnet18", weights=None, pretrained=False, num_classes=3)
    assert model.fc.out_features == 3


@pytest.mark.parametrize("kwargs,needle", [
    ({"pretrained": True}, "resnet18(pretrained=True)"),
    ({"weights": "IMAGENET1K_V1"}, "resnet18(weights='IMAGENET1K_V1')"),
    ({"weights": "DEFAULT"}, "resnet18(weights='DEFAULT')"),
    ({"weights": "ResNet18_Weights.IMAGENET1K_V1"}, "ResNet18_Weights.IMAGENET1K_V1"),
    ({"weights": models.ResNet18_Weights.DEFAULT}, "weights=ResNet18_Weights.IMAGENET1K_V1"),
])
def test_pretrained_requests_name_the_local_file_line(kwargs, needle):
    with pytest.raises(ValueError) as info:
        models.resnet18(**kwargs)
    message = str(info.value)
    assert needle in message and "downloads no weights" in message
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in message
    assert "model = st.models.resnet18(weights='resnet18-f37072fd.pth')" in message


def test_other_models_and_unknown_names():
    with pytest.raises(ValueError, match="vgg16_bn-6c64b313.pth"):
        models.vgg16_bn(weights=models.VGG16_BN_Weights.IMAGENET1K_V1)
    with pytest.raises(ValueError, match="resnet50-11ad3fa6.pth"):  # DEFAULT is V2 for ResNet-50
        models.resnet50(pretrained=True)
    with pytest.raises(ValueError, match="googlenet-1378be20.pth"):
        models.googlenet(weights="DEFAULT")
    with pytest.raises(ValueError, match="no weights 'IMAGENET1K_V2' for resnet18"):
        models.resnet18(weights="IMAGENET1K_V2")
    with pytest.raises(ValueError, match="no pretrained weights for unet"):
        models.unet(pretrained=True)
    assert repr(models.ResNet34_Weights.DEFAULT) == "ResNet34_Weights.IMAGENET1K_V1"


def test_torchvision_resnet18_file_loads_when_torchvision_is_installed(tmp_path):
    tv_models = pytest.importorskip("torchvision.models", reason="torchvision is not installed (optional)")
    torch.manual_seed(0)
    net = tv_models.resnet18(weights=None).eval()
    path = tmp_path / "resnet18-f37072fd.pth"
    torch.save(net.state_dict(), path)
    model = models.resnet18(weights=path).eval()
    assert list(model.state_dict()) == list(net.state_dict())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad(), st.no_grad():
        np.testing.assert_allclose(model(st.tensor(x.numpy())).numpy(), net(x).numpy(), rtol=1e-4, atol=1e-4)

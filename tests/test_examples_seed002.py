"""The two PyTorch programs of seed 002 run on striate with only the imports changed: the class
source in examples/ is the slide's text, the same class executed with torch gives the same
numbers, and a few training steps make the loss fall."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional

import striate as st

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# Copied verbatim from seed 002 (slide "Now Let's Develop it with PyTorch", lines 35-57, and
# slide "LeNet In PyTorch", lines 1-26), line numbers included.
CONVNET_SLIDE = """\
35 # Convolutional neural network (two convolutional layers)
36 class ConvNet(nn.Module):
37     def __init__(self, num_classes=10):
38         super(ConvNet, self).__init__()
39         self.layer1 = nn.Sequential(
40             nn.Conv2d(1, 16, kernel_size=5, stride=1, padding=2),
41             nn.BatchNorm2d(16),
42             nn.ReLU(),
43             nn.MaxPool2d(kernel_size=2, stride=2))
44         self.layer2 = nn.Sequential(
45             nn.Conv2d(16, 32, kernel_size=5, stride=1, padding=2),
46             nn.BatchNorm2d(32),
47             nn.ReLU(),
48             nn.MaxPool2d(kernel_size=2, stride=2))
49         self.fc = nn.Linear(7*7*32, num_classes)
50
51     def forward(self, x):
52         out = self.layer1(x)
53         out = self.layer2(out)
54         out = out.reshape(out.size(0), -1)
55         out = self.fc(out)
56
57         return out
"""

LENET_SLIDE = """\
1  '''LeNet in PyTorch.'''
2
3  import torch.nn as nn
4
5  import torch.nn.functional as F
6
7  class LeNet(nn.Module):
8      def __init__(self):
9          super(LeNet, self).__init__()
10         self.conv1 = nn.Conv2d(3, 6, 5)
11         self.conv2 = nn.Conv2d(6, 16, 5)
12         self.fc1   = nn.Linear(16*5*5, 120)
13         self.fc2   = nn.Linear(120, 84)
14         self.fc3   = nn.Linear(84, 10)
15
16     def forward(self, x):
17         out = F.relu(self.conv1(x))
18         out = F.max_pool2d(out, 2)
19         out = F.relu(self.conv2(out))
20         out = F.max_pool2d(out, 2)
21         out = out.view(out.size(0), -1)
22         out = F.relu(self.fc1(out))
23         out = F.relu(self.fc2(out))
24         out = self.fc3(out)
25
26     return out
"""


def _code(slide: str) -> str:
    """The slide's program without its line numbers (the number column is 2 wide, then a space)."""
    return "".join(line[3:] + "\n" for line in slide.splitlines())


def _class_source(code: str, name: str) -> str:
    """From `class name` to the last line of its body (trailing blank lines dropped)."""
    lines = code[code.index(f"class {name}") :].splitlines()
    end = next((i for i, line in enumerate(lines[1:], 1) if line and not line[0].isspace()), len(lines))
    body = lines[:end]
    while body and not body[-1].strip():
        body.pop()
    return "\n".join(body) + "\n"


def _load_example(name: str):
    if str(EXAMPLES) not in sys.path:  # the scripts import their shared helper, examples/_demo.py
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def convnet_example():
    return _load_example("seed002_convnet")


@pytest.fixture(scope="module")
def lenet_example():
    return _load_example("seed002_lenet")


def test_convnet_class_is_the_slide_verbatim(convnet_example):
    slide_class = _class_source(_code(CONVNET_SLIDE), "ConvNet")
    source = (EXAMPLES / "seed002_convnet.py").read_text()
    assert _class_source(source, "ConvNet") == slide_class
    assert "# Convolutional neural network (two convolutional layers)\nclass ConvNet" in source
    assert "\nimport torch" not in source and "torch." not in slide_class


def test_lenet_is_the_slide_but_for_imports_and_the_return_indentation(lenet_example):
    slide = _code(LENET_SLIDE)
    # the slide as printed is not valid Python: `return out` sits outside forward
    with pytest.raises(SyntaxError, match="'return' outside function"):
        compile(slide, "slide", "exec")
    fixed = slide.replace("\n    return out\n", "\n        return out\n")
    source = (EXAMPLES / "seed002_lenet.py").read_text()
    assert _class_source(source, "LeNet") == _class_source(fixed, "LeNet")
    assert lenet_example.LeNet.__name__ == "LeNet"
    assert source.startswith("'''LeNet in PyTorch.'''\n")
    assert "import striate.nn as nn\nimport striate.nn.functional as F\n" in source
    assert "\nimport torch" not in source


def _torch_twin(slide_code: str, name: str):
    """The slide's class executed with PyTorch (its own imports)."""
    namespace = {"nn": torch.nn, "F": torch.nn.functional}
    exec(compile(_class_source(slide_code, name), f"<{name} slide>", "exec"), namespace)
    return namespace[name]


@pytest.mark.parametrize("which", ["convnet", "lenet"])
def test_same_program_gives_torchs_numbers(which, convnet_example, lenet_example):
    torch.manual_seed(0)
    if which == "convnet":
        s_model, t_model = convnet_example.ConvNet(), _torch_twin(_code(CONVNET_SLIDE), "ConvNet")()
        shape = (4, 1, 28, 28)
    else:
        fixed = _code(LENET_SLIDE).replace("\n    return out\n", "\n        return out\n")
        s_model, t_model = lenet_example.LeNet(), _torch_twin(fixed, "LeNet")()
        shape = (4, 3, 32, 32)
    sd = t_model.state_dict()
    assert list(s_model.state_dict()) == list(sd)
    s_model.load_state_dict({k: v.numpy() for k, v in sd.items()})
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    labels = np.arange(shape[0]) % 10
    for mode in (True, False):
        s_model.train(mode)
        t_model.train(mode)
        s_out, t_out = s_model(st.tensor(x)), t_model(torch.tensor(x))
        assert s_out.shape == (shape[0], 10)
        np.testing.assert_allclose(s_out.numpy(), t_out.detach().numpy(), rtol=1e-4, atol=1e-5)
    s_loss = st.nn.functional.cross_entropy(s_out, st.tensor(labels))
    t_loss = torch.nn.functional.cross_entropy(t_out, torch.tensor(labels))
    s_loss.backward()
    t_loss.backward()
    for (name, sp), tp in zip(s_model.named_parameters(), t_model.parameters()):
        scale = float(tp.grad.abs().max()) + 1e-12
        np.testing.assert_allclose(
            sp.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-5 * scale, err_msg=name
        )


@pytest.mark.parametrize("which", ["convnet", "lenet"])
def test_loss_falls_when_run_as_a_script(which, convnet_example, lenet_example, capsys):
    example = convnet_example if which == "convnet" else lenet_example
    losses = example.main(steps=6, batch_size=8)
    printed = capsys.readouterr().out
    assert printed.count("loss") == 6
    assert all(np.isfinite(losses))
    assert losses[-1] < losses[0] - 0.1, losses
    assert all(b < a for a, b in zip(losses, losses[1:])), losses

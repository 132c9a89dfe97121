"""pytorch/examples' mnist/main.py, copied with only its imports changed
(tests/compat/programs/mnist_main.py), prints PyTorch's numbers on striate.

The test writes a small MNIST in torchvision's folder layout (the embedded 8x8 digits upscaled
to 28x28: 256 training and 128 test images), runs the original program on PyTorch (with
torchvision, or the stand-in in tests/compat/torchvision_standin when torchvision does not
import) and the copy on striate, each as a subprocess with
`--epochs 2 --batch-size 64 --test-batch-size 1000 --log-interval 1 --no-accel --save-model`,
and compares the printed lines: the same text, integers (counts, accuracies) equal, decimals
(losses with 6 decimals, the test loss with 4) equal up to one unit in the last printed place
(a float32 loss a few ulps away can round the other way). The saved weights are compared too
(float32: rtol 1e-5, atol 1e-6; measured: at most 7.5e-8 apart after the 8 steps).

PyTorch's side reads the extracted IDX files; striate's side only the downloaded `.gz` ones.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from compathelpers import (
    PROGRAMS,
    TORCHVISION_STANDIN,
    run_program,
    torchvision_importable,
    write_torchvision_mnist,
)

import striate as st

pytest.importorskip("torch")
pytest.importorskip("PIL")

ARGS = ["--epochs", "2", "--batch-size", "64", "--test-batch-size", "1000", "--log-interval", "1",
        "--no-accel", "--save-model"]
N_TRAIN, N_TEST = 256, 128
# The six lines the copy changed, and the original lines they replace.
IMPORTS = {
    "import striate as torch": "import torch",
    "import striate.nn as nn": "import torch.nn as nn",
    "import striate.nn.functional as F": "import torch.nn.functional as F",
    "import striate.optim as optim": "import torch.optim as optim",
    "from striate.data import datasets, transforms": "from torchvision import datasets, transforms",
    "from striate.optim.lr_scheduler import StepLR": "from torch.optim.lr_scheduler import StepLR",
}
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def original_program(copy: str) -> str:
    """The PyTorch program: the copy with its import lines put back."""
    lines = copy.splitlines(keepends=True)
    changed = [i for i, line in enumerate(lines) if line.rstrip("\n") in IMPORTS]
    assert len(changed) == len(IMPORTS), "the copy's import lines are not the expected ones"
    for i in changed:
        lines[i] = IMPORTS[lines[i].rstrip("\n")] + "\n"
    return "".join(lines)


def compare_lines(expected: list[str], got: list[str]) -> str | None:
    """None when the outputs agree, else the first line that does not, with both versions."""
    for i, (e, g) in enumerate(zip(expected, got), start=1):
        if not _same_line(e, g):
            return f"line {i} differs:\n  PyTorch: {e!r}\n  striate: {g!r}"
    if len(expected) != len(got):
        return f"PyTorch printed {len(expected)} lines, striate {len(got)}"
    return None


def _same_line(e: str, g: str) -> bool:
    if NUMBER.sub("#", e) != NUMBER.sub("#", g):
        return False
    for a, b in zip(NUMBER.findall(e), NUMBER.findall(g)):
        if "." not in a or "." not in b:
            if a != b:
                return False
            continue
        unit = 10.0 ** -len(a.split(".")[1])
        if abs(float(a) - float(b)) > unit * 1.01:
            return False
    return True


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("mnist_example")
    copy = (PROGRAMS / "mnist_main.py").read_text()
    torch_dir, striate_dir = base / "torch", base / "striate"
    write_torchvision_mnist(torch_dir / "data", N_TRAIN, N_TEST, gz=False)
    write_torchvision_mnist(striate_dir / "data", N_TRAIN, N_TEST, gz=True)
    for d in (torch_dir, striate_dir):
        (d / "work").mkdir()     # the program reads '../data' and saves into its working directory
    (torch_dir / "mnist_torch.py").write_text(original_program(copy))
    standin = [] if torchvision_importable() else [TORCHVISION_STANDIN]
    torch_lines = run_program(torch_dir / "mnist_torch.py", ARGS, torch_dir / "work", standin)
    striate_lines = run_program(PROGRAMS / "mnist_main.py", ARGS, striate_dir / "work")
    return {"torch": torch_lines, "striate": striate_lines,
            "torch_dir": torch_dir, "striate_dir": striate_dir}


def test_the_copy_changes_only_the_imports():
    copy = (PROGRAMS / "mnist_main.py").read_text()
    original = original_program(copy)
    diff = [(a, b) for a, b in zip(copy.splitlines(), original.splitlines()) if a != b]
    assert len(diff) == len(IMPORTS) and "torch" not in "".join(a for a, _ in diff).replace("as torch", "")
    assert "Copyright (c) 2017, Pytorch contributors" in copy    # the licence travels with the copy


def test_compare_lines_reports_the_first_difference():
    a = ["Train Epoch: 1 [0/256 (0%)]\tLoss: 2.303039",
         "Test set: Average loss: 2.0917, Accuracy: 38/128 (30%)"]
    assert compare_lines(a, a) is None
    assert compare_lines(a, [a[0].replace("2.303039", "2.303040"), a[1]]) is None   # last place
    message = compare_lines(a, [a[0].replace("2.303039", "2.303042"), a[1]])
    assert message.startswith("line 1 differs") and "2.303042" in message
    assert compare_lines(a, [a[0], a[1].replace("38/128", "37/128")]).startswith("line 2")
    assert compare_lines(a, a[:1]) == "PyTorch printed 2 lines, striate 1"


@pytest.mark.slow
def test_mnist_example_prints_pytorchs_numbers(runs):
    torch_lines, striate_lines = runs["torch"], runs["striate"]
    assert len(torch_lines) == 2 * (N_TRAIN // 64 + 1)
    problem = compare_lines(torch_lines, striate_lines)
    assert problem is None, problem


@pytest.mark.slow
def test_mnist_example_saves_pytorchs_weights(runs):
    # torch.save wrote a pickle-based zip, read here without executing it; st.save wrote
    # striate's safetensors format under the same name.
    torch_weights = st.load_torch(runs["torch_dir"] / "work" / "mnist_cnn.pt")
    striate_weights = st.load(runs["striate_dir"] / "work" / "mnist_cnn.pt")
    assert list(torch_weights) == list(striate_weights)
    for name, expected in torch_weights.items():
        got = striate_weights[name].numpy()
        expected = np.asarray(expected.numpy() if hasattr(expected, "numpy") else expected)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=name)

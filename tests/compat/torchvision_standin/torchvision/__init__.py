"""A stand-in for the three torchvision pieces pytorch/examples' mnist/main.py uses, for the
PyTorch side of tests/compat/test_mnist_example.py.

Why: PyPI's torchvision 0.28.0 (the release pinned to torch 2.13.0) is a CUDA build whose
`_C.so` does not load with the CPU torch this project tests against (`import torchvision`
fails with "operator torchvision::nms does not exist"), and only PyPI is reachable. The test
uses the real torchvision instead whenever `import torchvision` works.

Each piece follows torchvision 0.28's code path for this program, line for line where the
numbers depend on it: `datasets.MNIST` reads `root/MNIST/raw/*-ubyte` into a uint8 tensor and
returns PIL 'L' images and int targets; `ToTensor` is `from_numpy(...).permute(2, 0, 1)
.contiguous().to(float32).div(255)`; `Normalize` is `sub_(mean).div_(std)`.
"""

from torchvision import datasets, transforms

__all__ = ["datasets", "transforms"]

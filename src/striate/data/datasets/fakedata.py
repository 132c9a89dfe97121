"""torchvision's `FakeData`: random images made on demand, the same for an index every time.

Item i is what torchvision's rule gives: seed a generator with `i + random_offset`, draw
`randn(*image_size)` then the class `randint(0, num_classes, (1,))`, and turn the noise into 8-bit
pixels as `ToPILImage` does (`x.mul(255).byte()`: scaled, truncated toward zero, wrapped modulo
256). striate's generator is PyTorch's stream, so the pixels and classes are torchvision's after
the same arguments; a private generator is used, so the global random state is left alone (as
torchvision restores it). Like striate's other datasets, the image comes as a float32 CxHxW
tensor in [0, 1] (the 8-bit pixels / 255, what `ToTensor()` of torchvision's PIL image gives).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from striate.creation import randint, randn
from striate.data.datasets.base import _as_tensor, checked_index
from striate.random import Generator

__all__ = ["FakeData"]


def to_bytes(x: np.ndarray) -> np.ndarray:
    """`tensor.mul(255).byte()`: float32 product, truncation toward zero, wrap-around into uint8."""
    return np.trunc(x * np.float32(255)).astype(np.int64).astype(np.uint8)


class FakeData:
    """`size` random images of `image_size` (C, H, W) with classes 0..num_classes-1."""

    name = "FakeData"

    def __init__(self, size: int = 1000, image_size: Sequence[int] = (3, 224, 224), num_classes: int = 10,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 random_offset: int = 0) -> None:
        if len(image_size) != 3 or min(image_size) < 1:
            raise ValueError(f"image_size must be (C, H, W) with positive sizes, got {tuple(image_size)}")
        if int(num_classes) < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        self.size, self.num_classes = int(size), int(num_classes)
        self.image_size = tuple(int(s) for s in image_size)
        self.transform, self.target_transform = transform, target_transform
        self.random_offset = int(random_offset)
        self.classes = [str(c) for c in range(self.num_classes)]

    def __len__(self) -> int:
        return self.size

    def raw_item(self, index: int) -> tuple[np.ndarray, int]:
        """(uint8 CxHxW pixels, class) of item `index`: torchvision's draws."""
        generator = Generator()
        generator.manual_seed(index + self.random_offset)
        noise = randn(*self.image_size, generator=generator).array
        target = int(randint(0, self.num_classes, size=(1,), generator=generator).item())
        return to_bytes(noise), target

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        pixels, target = self.raw_item(checked_index(self, index))
        image: Any = np.divide(pixels, np.float32(255), dtype=np.float32)
        if self.transform is not None:
            image = self.transform(image)
        label: Any = target if self.target_transform is None else self.target_transform(target)
        return _as_tensor(image), label

    def __repr__(self) -> str:
        return (f"Dataset FakeData\n    Number of datapoints: {self.size}\n    image_size={self.image_size}, "
                f"num_classes={self.num_classes}, random_offset={self.random_offset}")

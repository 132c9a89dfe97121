"""`ImageFolder`: your own images, one subfolder per class (torchvision's layout).

    root/cat/001.png
    root/cat/002.jpg
    root/dog/xyz.png

Classes are the subfolder names in sorted order (`cat` -> 0, `dog` -> 1); files in each class
are taken in sorted order. Images are read with Pillow (the optional extra
`pip install striate[images]`), converted to `mode` ('RGB' by default, as torchvision; 'L' for
grey) and returned as float32 CxHxW in [0, 1].

A symbolic link (a class folder or a file) that points outside `root` is refused with an error
naming it, unless `follow_symlinks=True`: a dataset is what lies under its root.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from striate.data.datasets.base import DataFileError, checked_index, labelled_item, transform_batch

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("ImageFolder reads images with Pillow, which is not installed: "
                          "pip install striate[images]  (or: pip install pillow)") from None
    return Image


def load_image(path: str | os.PathLike, mode: str = "RGB") -> np.ndarray:
    """One image file -> uint8 (H, W, C) array in `mode`."""
    image_mod = _pillow()
    try:
        with image_mod.open(path) as img:
            arr = np.asarray(img.convert(mode), dtype=np.uint8)
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's errors for unreadable images
        raise DataFileError(path, f"cannot read the image ({exc})") from None
    return arr[:, :, None] if arr.ndim == 2 else arr


class ImageFolder:
    """Images in `root/<class name>/<file>`; `ds[i]` is (float32 CxHxW in [0, 1], class index).

    `samples` lists (path, class index); `targets` is an int64 array; `classes`, `class_to_idx`
    as in torchvision. Images load lazily, one file per item; `data` loads them all once into
    a uint8 (N, H, W, C) array (they must share one size), after which batches are fancy-indexed.
    """

    name = "ImageFolder"

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None, mode: str = "RGB",
                 follow_symlinks: bool = False) -> None:
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise FileNotFoundError(f"ImageFolder root {self.root} is not a folder; expected "
                                    "root/<class name>/<image files>")
        self.classes = sorted(e.name for e in os.scandir(self.root)
                              if e.is_dir() and not e.name.startswith("."))
        if not follow_symlinks:
            self._refuse_outside_links([self.root / c for c in self.classes])
        if not self.classes:
            raise FileNotFoundError(f"{self.root} has no class subfolders; "
                                    "expected root/<class name>/<images>")
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        samples: list[tuple[str, int]] = []
        empty: list[str] = []
        for c in self.classes:
            files = sorted(p for p in (self.root / c).rglob("*")
                           if p.is_file() and p.suffix.lower() in IMG_EXTENSIONS)
            if not follow_symlinks:
                self._refuse_outside_links(files)
            if not files:
                empty.append(c)
            samples += [(str(p), self.class_to_idx[c]) for p in files]
        if empty:
            raise FileNotFoundError(f"no image files ({', '.join(IMG_EXTENSIONS)}) in the class folder(s) "
                                    f"{', '.join(empty)} under {self.root}")
        self.samples = samples
        self.imgs = samples
        self.targets = np.asarray([t for _, t in samples], dtype=np.int64)
        self.transform = transform
        self.target_transform = target_transform
        self.mode = mode
        self._data: np.ndarray | None = None
        self.train = None

    def __len__(self) -> int:
        return len(self.samples)

    def _refuse_outside_links(self, paths: list[Path]) -> None:
        real_root = self.root.resolve()
        outside = [p for p in paths if not p.resolve().is_relative_to(real_root)]
        if outside:
            shown = ", ".join(f"{p} -> {p.resolve()}" for p in outside[:3])
            raise DataFileError(outside[0], f"links outside the dataset root {self.root} ({shown}"
                                f"{', ...' if len(outside) > 3 else ''}); pass follow_symlinks=True to "
                                "follow them, or copy the files under the root")

    def _raw(self, i: int) -> np.ndarray:
        if self._data is not None:
            return self._data[i]
        return load_image(self.samples[i][0], self.mode)

    @staticmethod
    def _to_float(hwc: np.ndarray) -> np.ndarray:
        return np.divide(np.moveaxis(hwc, -1, -3), np.float32(255), dtype=np.float32)

    @property
    def data(self) -> np.ndarray:
        """Every image as one uint8 (N, H, W, C) array, loaded once (images must share a size)."""
        if self._data is None:
            images = [load_image(p, self.mode) for p, _ in self.samples]
            shapes = {a.shape for a in images}
            if len(shapes) > 1:
                raise ValueError(f"images under {self.root} have different sizes {sorted(shapes)[:4]}...; "
                                 "they cannot form one array: use a transform with Resize((H, W)) and "
                                 "index the dataset instead")
            self._data = np.stack(images)
        return self._data

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        i = checked_index(self, index)
        return labelled_item(self, self._to_float(self._raw(i)), i)

    def get_batch(self, indices: Any, rng: np.random.Generator | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Items `indices` as (float32 NCHW after `transform`, int64 labels)."""
        idx = np.asarray(indices, dtype=np.int64)
        if self._data is not None:
            x = transform_batch(self.transform, self._to_float(self._data[idx]), rng)
        else:
            images = [self._to_float(self._raw(int(i))) for i in idx]
            if len({a.shape for a in images}) == 1:
                x = transform_batch(self.transform, np.stack(images), rng)
            else:  # different sizes: transform one by one (e.g. a Resize), then stack
                out = [transform_batch(self.transform, a[None], rng)[0] for a in images]
                shapes = {o.shape for o in out}
                if len(shapes) > 1:
                    raise ValueError(f"images in this batch have different sizes {sorted(shapes)[:4]}; add "
                                     "transforms.Resize((H, W)) to the dataset's transform")
                x = np.stack(out)
        y = self.targets[idx]
        if self.target_transform is not None:
            y = np.asarray([self.target_transform(int(t)) for t in y])
        return x, y

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return self.get_batch(np.arange(len(self)))

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}"]
        if self.transform is not None:
            lines.append("Transform: " + repr(self.transform).replace("\n", "\n    "))
        return f"Dataset {self.name}\n" + "\n".join("    " + line for line in lines)

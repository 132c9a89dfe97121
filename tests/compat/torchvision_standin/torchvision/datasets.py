"""torchvision.datasets.MNIST (0.28) for files already on disk: root/MNIST/raw/{train,t10k}-*-ubyte."""

import os

import numpy as np
import torch
from PIL import Image


def _read_idx(path):
    # torchvision's read_sn3_pascalvincent_tensor for the uint8 case: big-endian header, raw bytes.
    with open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return torch.from_numpy(np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).copy()).view(*shape)


class MNIST:
    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.raw_folder = os.path.join(os.path.expanduser(root), "MNIST", "raw")
        stem = "train" if train else "t10k"
        images = os.path.join(self.raw_folder, f"{stem}-images-idx3-ubyte")
        labels = os.path.join(self.raw_folder, f"{stem}-labels-idx1-ubyte")
        if not (os.path.isfile(images) and os.path.isfile(labels)):
            raise RuntimeError("Dataset not found. The stand-in cannot download.")
        self.data = _read_idx(images)
        self.targets = _read_idx(labels).long()
        self.transform = transform
        self.target_transform = target_transform

    def __getitem__(self, index):
        img, target = self.data[index], int(self.targets[index])
        img = Image.fromarray(img.numpy(), mode="L")
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

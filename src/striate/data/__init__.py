"""`st.data`: the lectures' datasets, a batching DataLoader, and augmentation transforms.

    import striate as st
    from striate.data import DataLoader, datasets, transforms

    train = datasets.FashionMNIST(train=True, transform=transforms.RandomCrop(28, padding=2))
    loader = DataLoader(train, batch_size=64, shuffle=True, seed=0)
"""

from striate.data import datasets, transforms
from striate.data.datasets import (
    CIFAR10,
    MNIST,
    ArrayDataset,
    Digits,
    FashionMNIST,
    ImageFolder,
    Subset,
    random_split,
    train_val_split,
)
from striate.data.datasets.cifar import cifar10
from striate.data.datasets.digits import digits
from striate.data.datasets.mnist import fashion_mnist, mnist
from striate.data.loader import DataLoader
from striate.data.utils import make_grid, save_image  # torchvision.utils' grids (issue 21, i21-vision)

__all__ = ["ArrayDataset", "CIFAR10", "DataLoader", "Digits", "FashionMNIST", "ImageFolder", "MNIST",
           "Subset", "cifar10", "datasets", "digits", "fashion_mnist", "mnist", "random_split",
           "train_val_split", "transforms"]
__all__ += ["make_grid", "save_image", "utils"]  # issue 21, i21-vision

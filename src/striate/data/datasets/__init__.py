"""Datasets with torchvision's conventions: `ds[i] -> (image CxHxW float32, label)`,
`len(ds)`, `ds.data`, `ds.targets`, `ds.classes`; plus `get_batch` / `arrays` for speed.

See `striate.data.datasets.base` for where files are looked for and how downloads are checked.
"""

from striate.data.datasets.base import (
    ArrayDataset,
    ChecksumError,
    DataFileError,
    DatasetNotFoundError,
    DownloadError,
    cache_dir,
    search_dirs,
)
from striate.data.datasets.cifar import CIFAR10
from striate.data.datasets.cifar100 import CIFAR100  # issue 21 (i21-vision2)
from striate.data.datasets.digits import Digits
from striate.data.datasets.emg2qwerty import EMG2QWERTY  # issue 17 (h5py imported on first use)
from striate.data.datasets.fakedata import FakeData  # issue 21 (i21-vision2)
from striate.data.datasets.image_folder import ImageFolder
from striate.data.datasets.mnist import MNIST, FashionMNIST
from striate.data.datasets.mnist_variants import KMNIST, QMNIST  # issue 21 (i21-vision2)
from striate.data.datasets.safepickle import UnsafePickleError
from striate.data.datasets.split import Subset, random_split, train_val_split
from striate.data.datasets.svhn import SVHN  # issue 21 (i21-vision2)

# The lowercase helpers (digits(), mnist(), ...) live in `striate.data`: here `digits` and
# `mnist` are the submodules.
__all__ = ["ArrayDataset", "CIFAR10", "ChecksumError", "DataFileError", "DatasetNotFoundError", "Digits",
           "DownloadError", "EMG2QWERTY", "FashionMNIST", "ImageFolder", "MNIST", "Subset",
           "UnsafePickleError",
           "cache_dir", "random_split", "search_dirs", "train_val_split"]
__all__ += ["CIFAR100", "FakeData", "KMNIST", "QMNIST", "SVHN"]  # issue 21 (i21-vision2)

"""SVHN (Netzer et al. 2011): 32x32 colour crops of house numbers from Google Street View, digits
0..9; 73,257 train, 26,032 test and 531,131 "extra" images, in the cropped-digits format
`{train,test,extra}_32x32.mat` (MATLAB v5: X uint8 32 x 32 x 3 x N, y N x 1 with 10 for the
digit 0). Read with striate's own MAT reader (`matlab.read_mat`; no SciPy). As torchvision,
label 10 becomes 0, the split is `split=` and the files sit in `root` itself; from the
authors' site with torchvision's MD5s:
    http://ufldl.stanford.edu/housenumbers/train_32x32.mat  e26dedcc434d2e4c54c9b2d4a06d8373
    http://ufldl.stanford.edu/housenumbers/test_32x32.mat   eb5a983be6a315427106f1b1d1bf5b2a
    http://ufldl.stanford.edu/housenumbers/extra_32x32.mat  a93ce644f1a588dc4d68dda5feec44a7
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from striate.data.datasets.base import (
    ArrayDataset,
    DataFileError,
    check_labels,
    download_dir,
    not_found,
    search_dirs,
)
from striate.data.datasets.base import download as fetch_file
from striate.data.datasets.matlab import read_mat

__all__ = ["SVHN"]

_URL = "http://ufldl.stanford.edu/housenumbers/"
SPLITS = {"train": ("train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373"),
          "test": ("test_32x32.mat", "eb5a983be6a315427106f1b1d1bf5b2a"),
          "extra": ("extra_32x32.mat", "a93ce644f1a588dc4d68dda5feec44a7")}


class SVHN(ArrayDataset):
    """SVHN: `ds[i]` is a (3, 32, 32) float32 image in [0, 1] and its digit 0..9. `ds.data` is
    (N, 3, 32, 32) uint8 (torchvision's layout), `ds.labels` (and `ds.targets`) int64."""

    name = "SVHN"
    folder = "svhn"

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train",
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        if split not in SPLITS:
            raise ValueError(f"Unknown value '{split}' for argument split. "
                             "Valid values are {train, test, extra}.")
        file_name, md5 = SPLITS[split]
        dirs = search_dirs(self.folder, root)
        path = next((d / file_name for d in dirs if (d / file_name).is_file()), None)
        if path is None:
            target = download_dir(self.folder, root)
            if not download:
                raise not_found(self.name, dirs, [file_name], target)
            path = fetch_file(_URL + file_name, target / file_name, md5, "md5")
        mat = read_mat(path)
        if "X" not in mat or "y" not in mat:
            raise DataFileError(path, f"an SVHN file holds variables X and y, found {sorted(mat)}")
        images, labels = mat["X"], mat["y"].astype(np.int64).reshape(-1)
        if images.ndim != 4 or images.shape[2] != 3 or images.shape[3] != len(labels):
            raise DataFileError(path, f"X must be 32 x 32 x 3 x N with N = {len(labels)} labels, got "
                                      f"{images.shape}")
        labels[labels == 10] = 0
        data = np.ascontiguousarray(np.transpose(images, (3, 2, 0, 1)).astype(np.uint8))
        super().__init__(data, check_labels(labels, 10, path), transform, target_transform,
                         classes=[str(d) for d in range(10)])
        self.labels = self.targets
        self.split, self.root = split, path.parent

    def _split_name(self) -> str | None:
        return self.split

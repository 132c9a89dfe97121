"""What every dataset shares: where its files are looked for, how they are downloaded and
checked, and `ArrayDataset`, the in-memory images + labels that the built-in sets are.

Where files come from, in this order (the first folder holding the split's files wins):

1. the explicit `root=` (the folder itself, `root/<name>`, and torchvision's `root/<Class>/raw`);
2. `$STRIATE_DATA/<name>`;
3. the user cache, `$XDG_CACHE_HOME/striate/<name>` (default `~/.cache/striate/<name>`);
4. Debian's dataset packages, `/usr/share/datasets/<name>` (e.g. `apt-get install
   dataset-fashion-mnist` installs `/usr/share/datasets/fashion-mnist/`);
5. only with `download=True`: the canonical source, checked against its published checksum and
   written atomically into the first writable of `root`, `$STRIATE_DATA`, the cache.

Images are returned as float32 CxHxW in [0, 1]: raw uint8 pixels divided by 255 (torchvision's
`ToTensor`: `x.float().div(255)`, the same float32 division, so the numbers are identical).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from striate.io_atomic import atomic_path

SYSTEM_DATASET_DIR = Path("/usr/share/datasets")
_CHUNK = 1 << 20


class DatasetNotFoundError(FileNotFoundError):
    """The dataset's files are in none of the folders striate looks in."""


class DataFileError(ValueError):
    """A data file is corrupt, truncated or not what its name says; names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class ChecksumError(DataFileError):
    """A file's digest differs from the published one."""


class DownloadError(OSError):
    """No source could deliver a file (network down, URL gone, every copy corrupt)."""


# ---------------------------------------------------------------------------- locations
def cache_dir() -> Path:
    """striate's user cache: `$XDG_CACHE_HOME/striate`, default `~/.cache/striate`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "striate"


def search_dirs(name: str, root: str | os.PathLike | None = None, torchvision_name: str | None = None
                ) -> list[Path]:
    """Every folder where dataset `name` may live, in the order they are tried."""
    dirs: list[Path] = []
    if root is not None:
        r = Path(root).expanduser()
        dirs += [r, r / name]
        if torchvision_name:
            dirs.append(r / torchvision_name / "raw")
    env = os.environ.get("STRIATE_DATA")
    if env:
        dirs.append(Path(env).expanduser() / name)
    dirs.append(cache_dir() / name)
    dirs.append(SYSTEM_DATASET_DIR / name)
    seen: set[Path] = set()
    return [d for d in dirs if not (d in seen or seen.add(d))]


def download_dir(name: str, root: str | os.PathLike | None = None) -> Path:
    """Where a download goes: `root/<name>`, else `$STRIATE_DATA/<name>`, else the user cache."""
    if root is not None:
        return Path(root).expanduser() / name
    env = os.environ.get("STRIATE_DATA")
    if env:
        return Path(env).expanduser() / name
    return cache_dir() / name


def not_found(dataset: str, looked: Sequence[Path], wanted: Iterable[str], download_to: Path,
              install_hint: str | None = None) -> DatasetNotFoundError:
    """The error for a dataset found nowhere: every folder tried and how to get the files."""
    where = "\n".join(f"  {d}" for d in looked)
    hints = [f"pass download=True to fetch it (needs internet) into {download_to}",
             "or put the files in one of the folders above (or pass root=FOLDER, or set $STRIATE_DATA)"]
    if install_hint:
        hints.insert(0, install_hint)
    return DatasetNotFoundError(
        f"{dataset}: files not found. Looked for {', '.join(wanted)} in:\n{where}\nTo fix: "
        + "; ".join(hints)
    )


# ---------------------------------------------------------------------------- checksums
def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_checksum(path: str | os.PathLike, expected: str, algorithm: str = "sha256") -> None:
    """Raise `ChecksumError` naming the file, the algorithm and both digests when they differ."""
    got = file_digest(path, algorithm)
    if got != expected.lower():
        raise ChecksumError(path, f"{algorithm} checksum mismatch: expected {expected.lower()}, got {got} "
                                  "(the file is corrupt or another version: delete it, download again)")


def make_readable(path: str | os.PathLike) -> None:
    """Give a finished data file the usual 0644 mode (temporary files are created 0600)."""
    os.chmod(path, 0o644)


# ---------------------------------------------------------------------------- download
def _urlopen(url: str) -> Any:
    # A module-level hook so tests can substitute an opener that serves local bytes.
    return urllib.request.urlopen(url, timeout=60)


def download(urls: str | Sequence[str], dest: str | os.PathLike, checksum: str, algorithm: str = "md5",
             opener: Callable[[str], Any] | None = None) -> Path:
    """Fetch `dest` from the first of `urls` that delivers bytes matching `checksum`.

    The bytes stream into a temporary file beside `dest` while the digest is computed; only a
    verified file is renamed to `dest`. A failure (network error, wrong checksum, Ctrl-C) leaves
    no partial file behind. A progress bar shows on a terminal and stays quiet otherwise.
    """
    from tqdm import tqdm

    dest = Path(dest)
    candidates = [urls] if isinstance(urls, str) else list(urls)
    open_url = opener or _urlopen
    failures: list[str] = []
    for url in candidates:
        digest = hashlib.new(algorithm)
        try:
            with atomic_path(dest) as tmp:
                with contextlib.closing(open_url(url)) as response, open(tmp, "wb") as out:
                    headers = getattr(response, "headers", None)
                    length = headers.get("Content-Length") if headers is not None else None
                    total = int(length) if length and str(length).isdigit() else None
                    with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, file=sys.stderr,
                              disable=None, leave=False) as bar:
                        for chunk in iter(lambda: response.read(_CHUNK), b""):
                            out.write(chunk)
                            digest.update(chunk)
                            bar.update(len(chunk))
                got = digest.hexdigest()
                if got != checksum.lower():
                    raise ChecksumError(url, f"{algorithm} checksum mismatch: expected {checksum.lower()}, "
                                             f"got {got}")
                make_readable(tmp)
            return dest
        except (OSError, ValueError) as exc:  # urllib errors are OSErrors; ChecksumError a ValueError
            failures.append(f"  {url}: {exc}")
    raise DownloadError(f"could not download {dest.name}; no partial file was kept. Tried:\n"
                        + "\n".join(failures))


# ---------------------------------------------------------------------------- transforms on batches
def transform_batch(transform: Callable | None, x: np.ndarray, rng: np.random.Generator | None = None
                    ) -> np.ndarray:
    """Apply `transform` to an NCHW float32 batch: in one call when it supports batches
    (`transform.batched` is true, as for every `striate.data.transforms` class), else image by
    image (a plain function of one CxHxW image), stacking the results."""
    if transform is None:
        return x
    if getattr(transform, "batched", False):
        return np.asarray(transform(x, rng=rng))
    # striate's transform classes (Compose, Lambda, ...) take `rng` even when they cannot batch,
    # so their random draws still come from the loader's per-batch generator.
    takes_rng = hasattr(transform, "batched")
    out = [np.asarray(_as_array(transform(img, rng=rng) if takes_rng else transform(img))) for img in x]
    shapes = {o.shape for o in out}
    if len(shapes) > 1:
        raise ValueError(f"the transform returned images of different shapes {sorted(shapes)}; "
                         "add transforms.Resize((H, W)) so a batch can be stacked")
    return np.stack(out) if out else x


def _as_array(x: Any) -> Any:
    from striate.autograd.tensor import Tensor

    return x.array if isinstance(x, Tensor) else x


def _as_tensor(x: Any) -> Any:
    from striate.autograd.tensor import wrap

    return wrap(x, False) if isinstance(x, np.ndarray) else x


def check_labels(labels: np.ndarray, num_classes: int, path: str | os.PathLike) -> np.ndarray:
    """Labels as int64, refusing values outside 0..num_classes-1 (a corrupt label file)."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = int(np.flatnonzero((labels < 0) | (labels >= num_classes))[0])
        raise DataFileError(path, f"label {int(labels[bad])} at position {bad} is out of range "
                                  f"0..{num_classes - 1}")
    return labels.astype(np.int64)


# ---------------------------------------------------------------------------- ArrayDataset
def checked_index(dataset: Any, index: Any) -> int:
    """`index` as a position in [0, len(dataset)), negative counting from the end, or a clear error."""
    n = len(dataset)
    try:
        i = int(index)
    except TypeError:
        raise TypeError(f"{type(dataset).__name__} indices must be integers, got {type(index).__name__}; "
                        "use get_batch(indices) for many items") from None
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of range for {type(dataset).__name__} of size {n}")
    return i % n


def labelled_item(dataset: Any, image: np.ndarray, i: int) -> tuple[Any, Any]:
    """(transformed image as a Tensor, transformed label) for item i of a dataset."""
    if dataset.transform is not None:
        image = dataset.transform(image)
    label: Any = int(dataset.targets[i])
    if dataset.target_transform is not None:
        label = dataset.target_transform(label)
    return _as_tensor(image), label


class ArrayDataset:
    """Images and labels held in memory, with torchvision's dataset conventions.

    `data` holds the images as stored: (N, H, W) or (N, C, H, W), or channels-last (N, H, W, C)
    when `channels_last=True` (CIFAR-10's layout, as in torchvision). Integer images are divided
    by `scale` (255 for uint8 pixels) into float32 in [0, 1]; float images are used as they are.
    `targets` are int64 labels. `ds[i]` is `(image CxHxW float32 Tensor, int label)` after
    `transform` / `target_transform`; `ds.get_batch(indices)` gives the same for many items at
    once as NumPy arrays (NCHW float32, int64), by fancy indexing, which is what the DataLoader
    uses; `ds.arrays()` is the whole set.

        >>> ds = ArrayDataset(np.zeros((4, 1, 2, 2), np.float32), [0, 1, 0, 1])
        >>> ds[1][0].shape, ds[1][1]
        ((1, 2, 2), 1)
    """

    name = "ArrayDataset"

    def __init__(self, data: Any, targets: Any, transform: Callable | None = None,
                 target_transform: Callable | None = None, classes: Sequence[str] | None = None, *,
                 scale: float | None = None, channels_last: bool = False) -> None:
        data = np.asarray(_as_array(data))
        targets = np.asarray(_as_array(targets))
        if data.ndim not in (3, 4):
            raise ValueError("images must be (N, H, W), (N, C, H, W) or (N, H, W, C); "
                             f"got shape {data.shape}")
        if targets.ndim != 1 or len(targets) != len(data):
            raise ValueError(f"targets must be one label per image: {len(data)} images but targets has "
                             f"shape {targets.shape}")
        if targets.dtype.kind not in "iu":
            raise ValueError(f"targets must be integer class labels, got dtype {targets.dtype}")
        self.data = data
        self.targets = targets.astype(np.int64, copy=False)
        self.transform = transform
        self.target_transform = target_transform
        n_classes = int(self.targets.max()) + 1 if len(self.targets) else 0
        self.classes = list(classes) if classes is not None else [str(i) for i in range(n_classes)]
        self.channels_last = bool(channels_last)
        if scale is None:
            scale = float(np.iinfo(data.dtype).max) if data.dtype.kind in "iu" else 1.0
        self.scale = float(scale)
        self.root: Path | None = None
        self.train: bool | None = None

    # -------------------------------------------------------------- raw images -> float32 NCHW
    def _float_images(self, raw: np.ndarray) -> np.ndarray:
        """Stored images (a batch) -> float32 NCHW in [0, 1]."""
        if raw.ndim == 3:
            raw = raw[:, None]
        elif self.channels_last:
            raw = raw.transpose(0, 3, 1, 2)
        if raw.dtype.kind in "iu":
            # uint8 -> float32, then one float32 division: torchvision's ToTensor numbers exactly.
            return np.divide(raw, np.float32(self.scale), dtype=np.float32)
        if self.scale != 1.0:
            return np.divide(raw, np.float32(self.scale), dtype=np.float32)
        return np.array(raw, dtype=np.float32)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        i = checked_index(self, index)
        return labelled_item(self, self._float_images(self.data[i:i + 1])[0], i)

    def get_batch(self, indices: Any, rng: np.random.Generator | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Items `indices` at once: (images float32 NCHW after `transform`, labels int64).

        Fancy-indexes the stored arrays (no per-item Python call); `rng` feeds the random
        transforms (the DataLoader passes a generator derived from its seed, epoch and batch)."""
        idx = np.asarray(indices, dtype=np.int64)
        x = transform_batch(self.transform, self._float_images(self.data[idx]), rng)
        y = self.targets[idx]
        if self.target_transform is not None:
            y = np.asarray([self.target_transform(int(t)) for t in y])
        return x, y

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The whole set as (X float32 NCHW, y int64), after `transform` (drawn once if random)."""
        return self.get_batch(np.arange(len(self)))

    # -------------------------------------------------------------- repr (torchvision's layout)
    def _split_name(self) -> str | None:
        if self.train is None:
            return None
        return "Train" if self.train else "Test"

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            lines.append(f"Root location: {self.root}")
        split = self._split_name()
        if split is not None:
            lines.append(f"Split: {split}")
        if self.transform is not None:
            lines.append("Transform: " + repr(self.transform).replace("\n", "\n    "))
        if self.target_transform is not None:
            lines.append(f"Target transform: {self.target_transform!r}")
        return f"Dataset {self.name}\n" + "\n".join("    " + line for line in lines)

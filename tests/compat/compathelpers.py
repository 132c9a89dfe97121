"""Helpers for the compatibility tests: a small MNIST in torchvision's folder layout, running a
program as a subprocess."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from striate.data.datasets import Digits
from striate.data.datasets.idx import idx_bytes

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
TORCHVISION_STANDIN = HERE / "torchvision_standin"


def digits_as_mnist(n: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` of the embedded 8x8 digits as 28x28 uint8 MNIST images: each pixel becomes a 3x3
    block (24x24), a 2-pixel black border makes 28x28, the 0..16 grey levels become 0..255."""
    ds = Digits()
    if offset + n > len(ds.data):
        raise ValueError(f"the digits set has {len(ds.data)} images, asked for {offset}+{n}")
    small = ds.data[offset:offset + n].astype(np.float64)
    big = np.kron(small, np.ones((3, 3))) * (255.0 / 16.0)
    images = np.pad(np.rint(big), ((0, 0), (2, 2), (2, 2))).astype(np.uint8)
    return images, np.asarray(ds.targets[offset:offset + n], dtype=np.uint8)


def write_torchvision_mnist(root: Path, n_train: int, n_test: int, gz: bool) -> Path:
    """root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte, as torchvision leaves them
    after its download (`gz=False`: the extracted files) or only the downloaded `.gz` files."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for stem, (images, labels) in (("train", digits_as_mnist(n_train)),
                                   ("t10k", digits_as_mnist(n_test, offset=n_train))):
        for name, arr in ((f"{stem}-images-idx3-ubyte", images), (f"{stem}-labels-idx1-ubyte", labels)):
            data = idx_bytes(arr)
            if gz:
                (raw / (name + ".gz")).write_bytes(gzip.compress(data, mtime=0))
            else:
                (raw / name).write_bytes(data)
    return root


def torchvision_importable() -> bool:
    """Whether a real torchvision imports here (PyPI's CUDA build does not with CPU torch)."""
    probe = subprocess.run([sys.executable, "-c", "import torchvision"], capture_output=True)
    return probe.returncode == 0


def run_program(program: Path, args: list[str], cwd: Path, extra_path: list[Path] = (),
                timeout: float = 600) -> list[str]:
    """Run `python program args` in `cwd`; its stdout lines (non-empty), or an assertion
    naming the exit code and the end of stderr."""
    env = dict(os.environ)
    paths = [str(p) for p in extra_path] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    proc = subprocess.run([sys.executable, str(program), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, (f"{program.name} exited {proc.returncode} in {cwd}:\n"
                                  f"{proc.stderr[-3000:]}")
    return [line for line in proc.stdout.splitlines() if line.strip()]


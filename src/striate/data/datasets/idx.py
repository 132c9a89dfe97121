"""The IDX file format of MNIST and Fashion-MNIST (LeCun et al.), plain or gzip-compressed.

    bytes 0-1   0x00 0x00                 magic
    byte  2     type code                 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                                          0x0D float32, 0x0E float64 (big-endian)
    byte  3     number of dimensions d
    4*d bytes   each dimension, a big-endian uint32
    then        the values, row-major

`train-images-idx3-ubyte` is (60000, 28, 28) uint8, `train-labels-idx1-ubyte` (60000,) uint8.
"""

from __future__ import annotations

import gzip
import lzma
import os
import zlib
from pathlib import Path

import numpy as np

from striate.data.datasets.base import DataFileError, make_readable
from striate.io_atomic import atomic_path

_IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_TYPE_CODES = {np.dtype(v).newbyteorder("=").str[1:]: k for k, v in _IDX_TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_XZ_MAGIC = b"\xfd7zXZ\x00"  # QMNIST's NIST files ship as .xz


def read_bytes(path: str | os.PathLike) -> bytes:
    """A file's bytes, gunzipped (or un-xz'd) when compressed (detected by the magic, not the name)."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:6] == _XZ_MAGIC:
        try:
            return lzma.decompress(raw)
        except lzma.LZMAError as exc:
            raise DataFileError(path, f"the xz stream is corrupt or truncated ({exc})") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataFileError(path, f"the gzip stream is corrupt or truncated ({exc})") from None
    return raw


def parse_idx(raw: bytes, path: str | os.PathLike = "<bytes>") -> np.ndarray:
    """Parse IDX bytes into an array with the native byte order (uint8 stays a zero-copy view)."""
    if len(raw) < 4:
        raise DataFileError(path, f"too short for an IDX file ({len(raw)} bytes; the header alone is 4+)")
    if raw[0] != 0 or raw[1] != 0:
        raise DataFileError(path, f"wrong IDX magic number 0x{raw[:4].hex()}: expected 0x0000 then a type "
                                  "code (0x0801 for labels, 0x0803 for images); not an IDX file?")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise DataFileError(path, f"unknown IDX type code 0x{code:02x}; known: "
                                  + ", ".join(f"0x{c:02x}" for c in _IDX_TYPES))
    if ndim == 0:
        raise DataFileError(path, "IDX header gives 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(path, f"truncated header: {ndim} dimensions need {header} bytes, "
                                  f"the file has {len(raw)}")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_TYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    have = len(raw) - header
    if have < expected:
        raise DataFileError(path, f"truncated: the header promises shape {shape} ({expected} bytes of data) "
                                  f"but only {have} bytes follow")
    if have > expected:
        raise DataFileError(path, f"{have - expected} unexpected bytes after the {expected} bytes of data "
                                  f"that shape {shape} needs")
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return arr if dtype.itemsize == 1 else arr.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (`.gz` or not) into a NumPy array."""
    return parse_idx(read_bytes(path), path)


def idx_bytes(array: np.ndarray) -> bytes:
    """An array as IDX bytes (big-endian)."""
    array = np.asarray(array)
    key = array.dtype.newbyteorder("=").str[1:]
    if key not in _TYPE_CODES:
        raise ValueError(f"IDX cannot store dtype {array.dtype}; use uint8, int8, int16, int32, float32 "
                         "or float64")
    code = _TYPE_CODES[key]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=_IDX_TYPES[code]).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write `array` as an IDX file, atomically; gzip it when the name ends in `.gz` (or
    `compress=True`). The gzip header carries no time stamp, so equal arrays give equal bytes."""
    path = Path(path)
    data = idx_bytes(array)
    if compress or (compress is None and path.suffix == ".gz"):
        data = gzip.compress(data, compresslevel=9, mtime=0)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        make_readable(tmp)
    return path

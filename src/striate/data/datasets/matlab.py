"""A reader for numeric arrays in MATLAB's Level 5 MAT-files (what SVHN's `*_32x32.mat` are), so
that no SciPy is needed for one dataset. It reads, and only reads, what such files hold:

    header      128 bytes: text, subsystem offset, version 0x0100, endian mark 'IM' / 'MI'
    elements    tag (type uint32, byte count uint32; or the "small" form, count in the high 16
                bits and up to 4 data bytes in the tag itself), data, padding to 8 bytes
    miCOMPRESSED (15)   zlib stream holding one element (not padded)
    miMATRIX (14)       array flags (class in the low byte, 0x0800 complex), dimensions
                        (int32), name (int8 text), real part (any numeric type, converted to
                        the class's dtype), column-major

Numeric classes (double, single, int8..uint64) and logical arrays are returned as NumPy arrays
in C order (dimensions as MATLAB's); cell arrays, structs, objects, sparse and complex arrays,
and v7.3 files (which are HDF5) are refused with a message naming what to use instead.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np

from striate.data.datasets.base import DataFileError

__all__ = ["read_mat"]

_MI_TYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
_MX_CLASSES = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4", 14: "i8", 15: "u8"}
_MX_NAMES = {1: "cell array", 2: "struct", 3: "object", 4: "char array", 5: "sparse array"}
_MI_MATRIX, _MI_COMPRESSED = 14, 15


class _Reader:
    def __init__(self, data: bytes, order: str, path: Path) -> None:
        self.data, self.order, self.path = data, order, path

    def tag(self, pos: int) -> tuple[int, int, int, bool]:
        """(type, byte count, data start, small) of the element at `pos`."""
        if pos + 4 > len(self.data):
            raise DataFileError(self.path, f"truncated: an element tag at byte {pos} runs past the end")
        first = int(np.frombuffer(self.data, self.order + "u4", 1, pos)[0])
        if first >> 16:
            return first & 0xFFFF, first >> 16, pos + 4, True
        count = int(np.frombuffer(self.data, self.order + "u4", 1, pos + 4)[0])
        if pos + 8 + count > len(self.data):
            raise DataFileError(self.path, f"truncated: an element at byte {pos} needs {count} bytes, "
                                           f"{len(self.data) - pos - 8} remain")
        return first, count, pos + 8, False

    def numeric(self, pos: int) -> tuple[np.ndarray, int]:
        """A numeric sub-element at `pos` -> (values, position after it, padded)."""
        kind, count, start, small = self.tag(pos)
        if kind not in _MI_TYPES:
            raise DataFileError(self.path, f"unsupported data type {kind} in a matrix element")
        dtype = np.dtype(self.order + _MI_TYPES[kind])
        values = np.frombuffer(self.data, dtype, count // dtype.itemsize, start)
        end = pos + 8 if small else start + count + (-count % 8)
        return values, end

    def matrix(self, start: int, count: int) -> tuple[str, np.ndarray]:
        """The (name, array) of a miMATRIX element's body."""
        flags, pos = self.numeric(start)
        mx_class, complex_ = int(flags[0]) & 0xFF, bool(int(flags[0]) & 0x0800)
        dims, pos = self.numeric(pos)
        name_bytes, pos = self.numeric(pos)
        name = bytes(name_bytes.astype(np.uint8)).decode("ascii", "replace")
        if mx_class not in _MX_CLASSES:
            what = _MX_NAMES.get(mx_class, f"class {mx_class}")
            raise DataFileError(self.path, f"variable {name!r} is a {what}; striate's MAT reader reads "
                                           "numeric arrays only (read the file with scipy.io.loadmat)")
        if complex_:
            raise DataFileError(self.path, f"variable {name!r} is complex; striate reads real arrays only")
        real, _ = self.numeric(pos)
        shape = tuple(int(d) for d in dims)
        if real.size != int(np.prod(shape)):
            raise DataFileError(self.path, f"variable {name!r}: {real.size} values for dimensions {shape}")
        array = real.astype(np.dtype(_MX_CLASSES[mx_class]).newbyteorder("="))
        return name, np.ascontiguousarray(array.reshape(shape, order="F"))


def read_mat(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The numeric variables of a MATLAB v5 MAT-file, by name."""
    path = Path(path)
    data = path.read_bytes()
    if data[:8] == b"\x89HDF\r\n\x1a\n" or data[512:520] == b"\x89HDF\r\n\x1a\n":
        raise DataFileError(path, "is a MATLAB v7.3 file (HDF5); read it with h5py (pip install h5py)")
    if len(data) < 128 or data[126:128] not in (b"IM", b"MI"):
        raise DataFileError(path, "not a MATLAB Level 5 MAT-file (no 'IM'/'MI' endian mark at byte 126)")
    reader = _Reader(data, "<" if data[126:128] == b"IM" else ">", path)
    out: dict[str, np.ndarray] = {}
    pos = 128
    while pos + 8 <= len(data):
        kind, count, start, _ = reader.tag(pos)
        if kind == _MI_COMPRESSED:
            try:
                inner = zlib.decompress(data[start:start + count])
            except zlib.error as exc:
                raise DataFileError(path, f"a compressed element at byte {pos} is corrupt ({exc})") from None
            sub = _Reader(inner, reader.order, path)
            inner_kind, inner_count, inner_start, _ = sub.tag(0)
            if inner_kind == _MI_MATRIX:
                name, array = sub.matrix(inner_start, inner_count)
                out[name] = array
            pos = start + count
        else:
            if kind == _MI_MATRIX:
                name, array = reader.matrix(start, count)
                out[name] = array
            pos = start + count + (-count % 8)
    return out

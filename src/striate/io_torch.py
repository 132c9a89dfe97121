"""`st.load_torch(path)`: PyTorch checkpoints read without pickle's code execution.

`torch.save` writes a zip file (`<name>/data.pkl`, `<name>/data/<key>` raw storages,
`<name>/byteorder`) or, before PyTorch 1.6 or with `_use_new_zipfile_serialization=False`, the
legacy stream (magic number, protocol, system info, the object pickle, the storage keys, then
each storage's bytes). Python's unpickler would import and call whatever the file names; this
module runs striate's own opcode interpreter (`striate.data.datasets.safepickle`) with a few
more globals recognised BY NAME, never imported or called:

    torch._utils._rebuild_tensor / _rebuild_tensor_v2 / _rebuild_parameter(_with_state)
    torch.<Dtype>Storage (the storage's element type), torch.<dtype> (typed storages' dtype)
    collections.OrderedDict (state dicts), torch.Size

A tensor becomes a NumPy array cut out of its storage with the pickled offset, size and stride
(every index checked against the storage first), copied so no two results share memory.
Anything else -- another global, a call with unexpected arguments, a storage whose size or
offset does not fit the file -- is refused with `UnsafePickleError` naming the file and the
culprit, before anything from the file could run.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from collections import OrderedDict
from typing import Any

import numpy as np

from striate.data.datasets.base import DataFileError
from striate.data.datasets.safepickle import UnsafePickleError, _Global, _lookup, _Machine

__all__ = ["TorchFileError", "UnsafePickleError", "load_torch"]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

# storage class name -> NumPy dtype ("bfloat16" has none: widened to float32 on load)
_STORAGE_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
    "ComplexFloatStorage": "<c8",
    "ComplexDoubleStorage": "<c16",
}
_TORCH_DTYPES = {
    "float32": "<f4",
    "float": "<f4",
    "float64": "<f8",
    "double": "<f8",
    "float16": "<f2",
    "half": "<f2",
    "bfloat16": "bfloat16",
    "int64": "<i8",
    "long": "<i8",
    "int32": "<i4",
    "int": "<i4",
    "int16": "<i2",
    "short": "<i2",
    "int8": "i1",
    "uint8": "u1",
    "bool": "?",
    "complex64": "<c8",
    "complex128": "<c16",
}
_REBUILDERS = {"_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_parameter", "_rebuild_parameter_with_state"}


class TorchFileError(DataFileError):
    """A PyTorch checkpoint that is damaged or not a checkpoint; names the file and the problem."""


class _Storage:
    """A storage named by a persistent id; its bytes are attached once the file's data is known."""

    __slots__ = ("key", "dtype", "numel", "array")

    def __init__(self, key: str, dtype: str, numel: int | None) -> None:
        self.key, self.dtype, self.numel, self.array = key, dtype, numel, None


class _TorchMachine(_Machine):
    def __init__(self, data: bytes, path: str, storages: dict[str, _Storage]) -> None:
        super().__init__(data, path)
        self.storages = storages
        self.tensors: list[tuple[_Storage, int, tuple, tuple, list]] = []

    def refuse(self, what: str) -> UnsafePickleError:
        return UnsafePickleError(
            self.path,
            f"refused to load: {what}. st.load_torch reads only tensors, "
            "(ordered) dicts and plain containers from PyTorch checkpoints "
            "and executed nothing from this file",
        )

    def global_(self, module: str, name: str) -> _Global:
        if module == "torch._utils" and name in _REBUILDERS:
            return _Global(name)
        if module == "torch" and name in _STORAGE_DTYPES:
            return _Global("storage:" + _STORAGE_DTYPES[name])
        if module == "torch" and name in _TORCH_DTYPES:
            return _Global("storage:" + _TORCH_DTYPES[name])
        if (module, name) == ("collections", "OrderedDict"):
            return _Global("ordereddict")
        if (module, name) == ("torch", "Size"):
            return _Global("size")
        if _lookup(module, name) is not None and _lookup(module, name).kind in ("set", "frozenset", "encode"):
            return _lookup(module, name)
        hint = ""
        if module.startswith("torch.nn.modules") or module == "__main__":
            hint = " (a whole model object was saved: save model.state_dict() instead and load that)"
        raise self.refuse(f"the pickle asks for the global {module}.{name}{hint}")

    def persistent_load(self, pid: Any) -> Any:
        # zip: ('storage', StorageType, key, location, numel); legacy adds view metadata
        if not (
            isinstance(pid, tuple)
            and len(pid) in (5, 6)
            and pid[0] == "storage"
            and isinstance(pid[1], _Global)
            and pid[1].kind.startswith("storage:")
            and isinstance(pid[2], str)
            and isinstance(pid[4], int)
            and pid[4] >= 0
        ):
            raise self.refuse(f"a persistent id that is not a tensor storage ({pid!r:.80})")
        if len(pid) == 6 and pid[5] is not None:
            raise self.refuse("a storage view (legacy format before PyTorch 0.4)")
        key, dtype = pid[2], pid[1].kind.split(":", 1)[1]
        storage = self.storages.get(key)
        if storage is None:
            storage = self.storages[key] = _Storage(key, dtype, pid[4])
        elif storage.dtype != dtype:
            raise self.refuse(f"storage {key} read as two element types")
        return storage

    def reduce(self, func: Any, args: Any) -> Any:
        if not isinstance(func, _Global) or not isinstance(args, tuple):
            raise self.refuse(f"REDUCE applied to {type(func).__name__}")
        kind = func.kind
        if kind == "ordereddict" and args == ():
            return OrderedDict()
        if kind == "size" and len(args) == 1 and isinstance(args[0], tuple):
            return args[0]
        if (
            kind in ("_rebuild_tensor", "_rebuild_tensor_v2")
            and len(args) >= 4
            and isinstance(args[0], _Storage)
        ):
            storage, offset, size, stride = args[:4]
            if not (isinstance(offset, int) and _ints(size) and _ints(stride) and len(size) == len(stride)):
                raise self.refuse("a tensor with malformed offset, size or stride")
            placeholder: list = []
            self.tensors.append((storage, offset, tuple(size), tuple(stride), placeholder))
            return placeholder  # filled in place once the storages are read
        if (
            kind in ("_rebuild_parameter", "_rebuild_parameter_with_state")
            and len(args) >= 1
            and isinstance(args[0], list)
        ):
            return args[0]  # a Parameter is its tensor
        return super().reduce(func, args)

    def build(self, obj: Any, state: Any) -> Any:
        if isinstance(obj, list) and any(obj is t[4] for t in self.tensors):
            return obj  # a tensor's Python attributes (torch >= 2 pickles an empty state)
        if isinstance(obj, OrderedDict) and isinstance(state, (dict, tuple)):
            return obj  # a state dict's `_metadata` (per-module versions): not needed, dropped
        return super().build(obj, state)


def _ints(values: Any) -> bool:
    return isinstance(values, tuple) and all(isinstance(v, int) and v >= 0 for v in values)


def _storage_array(raw: bytes, storage: _Storage, path: str) -> np.ndarray:
    itemsize = 2 if storage.dtype == "bfloat16" else np.dtype(storage.dtype).itemsize
    if storage.numel is not None and len(raw) != storage.numel * itemsize:
        raise TorchFileError(
            path,
            f"storage {storage.key} should hold {storage.numel} elements "
            f"({storage.numel * itemsize} bytes) but the file has {len(raw)} bytes",
        )
    if len(raw) % itemsize:
        raise TorchFileError(
            path, f"storage {storage.key}: {len(raw)} bytes is not a whole number of elements"
        )
    if storage.dtype == "bfloat16":  # the upper half of a float32: widen exactly
        return (np.frombuffer(raw, "<u2").astype("<u4") << 16).view("<f4")
    return np.frombuffer(raw, storage.dtype)


def _tensor(storage: _Storage, offset: int, size: tuple, stride: tuple, path: str) -> np.ndarray:
    base = storage.array
    if base is None:
        raise TorchFileError(path, f"storage {storage.key} is named by a tensor but missing from the file")
    numel = int(np.prod(size, dtype=object))
    if numel:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= base.size:
            raise UnsafePickleError(
                path,
                f"refused to load: a tensor of size {size}, stride {stride} at offset "
                f"{offset} reaches element {last} of storage {storage.key}, "
                f"which holds {base.size}",
            )
        view = np.lib.stride_tricks.as_strided(
            base[offset:], shape=size, strides=tuple(s * base.itemsize for s in stride), writeable=False
        )
    else:
        view = np.empty(size, base.dtype)
    return np.array(view, dtype=base.dtype.newbyteorder("="), order="C")


def _resolve(obj: Any, arrays: dict[int, np.ndarray]) -> Any:
    """Replace each tensor placeholder by its array (containers rebuilt, nothing else touched)."""
    if isinstance(obj, list):
        if id(obj) in arrays:
            return arrays[id(obj)]
        return [_resolve(v, arrays) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_resolve(v, arrays) for v in obj)
    if isinstance(obj, dict):
        out = type(obj)() if isinstance(obj, OrderedDict) else {}
        for k, v in obj.items():
            out[k] = _resolve(v, arrays)
        return out
    if isinstance(obj, _Storage):
        raise TorchFileError("<pickle>", "a bare storage outside a tensor is not supported")
    return obj


def _finish(machine: _TorchMachine, root: Any, path: str) -> Any:
    try:
        arrays = {id(ph): _tensor(s, off, size, stride, path) for s, off, size, stride, ph in machine.tensors}
        return _resolve(root, arrays)
    except (ValueError, OverflowError, MemoryError, RecursionError) as exc:  # absurd shapes, deep nesting
        raise TorchFileError(path, f"not a loadable checkpoint: {type(exc).__name__}: {exc}") from None


def _run(machine: _TorchMachine, path: str) -> Any:
    try:
        return machine.run()
    except (UnsafePickleError, TorchFileError):
        raise
    except (
        EOFError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        struct.error,
        UnicodeDecodeError,
    ) as exc:
        raise TorchFileError(path, f"not a readable PyTorch checkpoint: {exc}") from None


def _load_zip(path: str) -> Any:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise TorchFileError(path, f"not a readable zip file: {exc}") from None
    with zf:
        names = zf.namelist()
        pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
        if len(pkl) != 1:
            raise TorchFileError(
                path, "a zip file without exactly one <name>/data.pkl: not written by torch.save"
            )
        prefix = pkl[0][: -len("data.pkl")]
        if prefix + "byteorder" in names and _read(zf, prefix + "byteorder", 16, path, exact=False) not in (
            b"little",
            b"",
        ):
            raise TorchFileError(
                path, "big-endian checkpoints are not supported; save it on a little-endian machine"
            )
        machine = _TorchMachine(_read(zf, pkl[0], None, path), path, {})
        root = _run(machine, path)
        for key, storage in machine.storages.items():
            itemsize = 2 if storage.dtype == "bfloat16" else np.dtype(storage.dtype).itemsize
            raw = _read(zf, f"{prefix}data/{key}", storage.numel * itemsize, path)
            storage.array = _storage_array(raw, storage, path)
        return _finish(machine, root, path)


def _read(zf: zipfile.ZipFile, name: str, expected: int | None, path: str, exact: bool = True) -> bytes:
    """One member's bytes, its declared size checked first (no absurd allocation, no zip bomb)."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise TorchFileError(path, f"the zip has no member {name}") from None
    limit = expected if expected is not None else 1 << 31
    if info.file_size > limit:
        raise TorchFileError(path, f"member {name} declares {info.file_size} bytes, expected at most {limit}")
    try:
        data = zf.read(name)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
        raise TorchFileError(path, f"member {name} cannot be read: {exc}") from None
    if exact and expected is not None and len(data) != expected:
        raise TorchFileError(path, f"member {name} holds {len(data)} bytes, the pickle says {expected}")
    return data


def _load_legacy(data: bytes, path: str) -> Any:
    """magic, protocol, sys_info, the object, the storage keys, then each storage: int64 count + bytes."""
    pos = 0
    values = []
    for _ in range(3):
        m = _TorchMachine(data[pos:], path, {})
        values.append(_run(m, path))
        pos += m.pos
    if values[0] != _LEGACY_MAGIC:
        raise TorchFileError(path, "neither a zip file nor PyTorch's legacy format (wrong magic number)")
    machine = _TorchMachine(data[pos:], path, {})
    root = _run(machine, path)
    pos += machine.pos
    keys_machine = _TorchMachine(data[pos:], path, {})
    keys = _run(keys_machine, path)
    pos += keys_machine.pos
    if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
        raise TorchFileError(path, "the legacy storage key list is malformed")
    for key in keys:
        storage = machine.storages.get(key)
        if storage is None:
            raise TorchFileError(path, f"storage {key} is listed but no tensor uses it")
        if pos + 8 > len(data):
            raise TorchFileError(path, f"the file ends before storage {key}")
        (count,) = struct.unpack_from("<q", data, pos)
        itemsize = 2 if storage.dtype == "bfloat16" else np.dtype(storage.dtype).itemsize
        nbytes = count * itemsize
        if count < 0 or pos + 8 + nbytes > len(data):
            raise TorchFileError(path, f"storage {key} claims {count} elements, beyond the end of the file")
        storage.numel = count
        storage.array = _storage_array(data[pos + 8 : pos + 8 + nbytes], storage, path)
        pos += 8 + nbytes
    return _finish(machine, root, path)


def load_torch(path: str | os.PathLike) -> Any:
    """Read a `torch.save` file (zip or legacy) without executing anything from it.

    Returns what was saved with every tensor as a NumPy array (bfloat16 widened to float32):
    a state dict becomes an OrderedDict of arrays, a checkpoint dict with optimizer state a
    nested dict. Use `model.load_state_dict(st.load_torch(path))`. Anything but tensors,
    dicts and plain containers is refused with `UnsafePickleError`.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise TorchFileError(path, f"cannot be opened: {exc.strerror}") from None
    if head[:2] == b"PK":
        return _load_zip(path)
    if os.path.getsize(path) > 1 << 34:
        raise TorchFileError(path, "legacy checkpoint larger than 16 GiB")
    with open(path, "rb") as f:
        return _load_legacy(f.read(), path)

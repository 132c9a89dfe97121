"""`st.save` / `st.load`: checkpoints as safetensors files, never pickle.

A file is one safetensors file. Every array (tensor, NumPy array) is a safetensors entry named
by where it sits in the saved object (e.g. "model/fc.weight", "optimizer/state/0/exp_avg");
everything else (the nesting of dicts, lists and tuples, numbers, strings, bools, None, dtypes,
which entries were Tensors, Parameters or NumPy arrays) is JSON in the safetensors metadata,
next to a format marker `"striate": "2"` and a SHA-256 digest of the structure and of every
array's name, dtype, shape and bytes, verified on load. Loading therefore never executes
anything from the file, and a file that is not ours, is truncated or corrupt (a flipped bit
anywhere) is refused with an error naming it. Format "1" files (no digest) still load.

    st.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.safetensors")
    ckpt = st.load("ckpt.safetensors")
    model.load_state_dict(ckpt["model"]); opt.load_state_dict(ckpt["optimizer"])

Files are written atomically (`striate.io_atomic`: a temporary file in the same directory, then
`os.replace`), so an interrupted save never leaves a half-written checkpoint under the real
name, and the temporary files of a killed save are removed by the next save.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from typing import Any

import numpy as np

from striate import dtypes
from striate.autograd.tensor import Tensor, wrap

__all__ = ["StriateFileError", "load", "save"]

FORMAT_MARKER = "striate"
FORMAT_VERSION = "2"
_READABLE_VERSIONS = ("1", "2")  # "1": before the digest
_SUPPORTED_KINDS = "biuf"


class StriateFileError(ValueError):
    """A file that `st.load` cannot read: not written by `st.save`, truncated or corrupt."""


# ---------------------------------------------------------------------------- encoding
class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.name_of: dict[int, str] = {}
        self.keepalive: list[np.ndarray] = []  # keeps ids in name_of unique while encoding

    def array_name(self, arr: np.ndarray, path: str) -> str:
        if arr.dtype.kind not in _SUPPORTED_KINDS or arr.dtype.byteorder == ">":
            raise TypeError(f"st.save: the array at {path or 'the top level'} has dtype {arr.dtype}, which "
                            "cannot be stored (use bool, integer or float arrays)")
        name = self.name_of.get(id(arr))
        if name is not None:
            return name
        name = path or "tensor"
        if name in self.arrays:
            n = 1
            while f"{name}#{n}" in self.arrays:
                n += 1
            name = f"{name}#{n}"
        self.keepalive.append(arr)
        self.name_of[id(arr)] = name
        # (np.ascontiguousarray would turn a 0-d array into shape (1,))
        self.arrays[name] = arr if arr.flags.c_contiguous else np.array(arr, order="C")
        return name

    def encode(self, obj: Any, path: str) -> Any:
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, Tensor):
            from striate.nn.parameter import Parameter

            node = {"__tensor__": self.array_name(obj.array, path)}
            if obj.requires_grad:
                node["requires_grad"] = True
            if isinstance(obj, Parameter):
                node["parameter"] = True
            return node
        if isinstance(obj, np.ndarray):
            return {"__ndarray__": self.array_name(obj, path)}
        if isinstance(obj, np.generic):
            if obj.dtype.kind not in _SUPPORTED_KINDS:
                raise TypeError(f"st.save: cannot store the NumPy scalar of dtype {obj.dtype} at {path}")
            return {"__scalar__": obj.item(), "dtype": obj.dtype.name}
        if isinstance(obj, np.dtype):
            return {"__dtype__": obj.name}
        if isinstance(obj, dtypes.dtype):  # st.float32, ...: read back as the same object
            return {"__dtype__": str(obj).removeprefix("striate."), "striate": True}
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                items.append([self.encode_key(key, path), self.encode(value, _join(path, key))])
            node = {"__dict__": items}
            if isinstance(obj, OrderedDict):
                node["ordered"] = True
            return node
        if isinstance(obj, list):
            return [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        raise TypeError(
            f"st.save cannot store a {type(obj).__name__} (at {path or 'the top level'}): it stores tensors, "
            "NumPy arrays, numbers, strings, bools, None, dtypes, and dicts/lists/tuples of them. "
            "Save a model as model.state_dict(), an optimizer as opt.state_dict()."
        )

    def encode_key(self, key: Any, path: str) -> Any:
        if key is None or isinstance(key, (bool, int, float, str)):
            return key
        if isinstance(key, tuple):
            return {"__tuple__": [self.encode_key(k, path) for k in key]}
        if isinstance(key, np.integer):
            return int(key)
        raise TypeError(f"st.save: dict key {key!r} (at {path or 'the top level'}) must be a str, number, "
                        "bool, None or a tuple of those")


def _join(path: str, key: Any) -> str:
    return f"{path}/{key}" if path else str(key)


def save(obj: Any, f: str | os.PathLike | Any) -> None:
    """Write `obj` (a tensor, a state_dict, or nested dicts/lists of tensors, arrays and plain
    values) to the path or binary file object `f` as a safetensors file with striate's metadata.

    Whatever the file's name: `st.save(model.state_dict(), "mnist_cnn.pt")` (a PyTorch program
    with its imports changed) writes this safetensors format under that name, which `st.load`
    and any safetensors reader open and `torch.load` does not (it expects a pickle).

    A path is written atomically: to a temporary file in the same directory, then renamed.
    """
    from safetensors.numpy import save as safetensors_save

    encoder = _Encoder()
    structure = encoder.encode(obj, "")
    text = json.dumps(structure)
    metadata = {FORMAT_MARKER: FORMAT_VERSION, "structure": text, "digest": _digest(text, encoder.arrays)}
    data = safetensors_save(encoder.arrays, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"st.save: directory {directory!r} does not exist (create it first)")
    from striate.io_atomic import atomic_write_bytes

    atomic_write_bytes(path, data, make_parents=False)


def _digest(structure: str, arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the structure and each array's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256(structure.encode("utf-8"))
    for name in sorted(arrays):
        arr = arrays[name]
        h.update(json.dumps([name, arr.dtype.str, list(arr.shape)]).encode("utf-8"))
        h.update(np.ascontiguousarray(arr).reshape(-1).view(np.uint8).tobytes())
    return "sha256:" + h.hexdigest()


# ---------------------------------------------------------------------------- decoding
def _not_striate(data: bytes, name: str, problem: str) -> StriateFileError:
    """The error for bytes without a valid header; names a PyTorch file as such."""
    pickle_start = data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
    if data[:4] == b"PK\x03\x04" or pickle_start:
        # torch.save's zip (`torch.save(model.state_dict(), "mnist_cnn.pt")` in PyTorch) or a
        # pickle: st.load_torch reads torch.save files without executing anything from them.
        return StriateFileError(f"{name}: a PyTorch file (torch.save's format) or another pickle, not a file "
                                "written by st.save; st.load never unpickles. Read it with "
                                "st.load_torch(path), e.g. model.load_state_dict(st.load_torch(path))")
    return StriateFileError(f"{name}: {problem}")


def _read_header(data: bytes, name: str) -> dict:
    if len(data) < 8:
        raise StriateFileError(f"{name}: {len(data)} bytes is too short for a striate file (truncated or "
                               "not written by st.save)")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        raise _not_striate(data, name, f"not a striate file, or truncated: its header claims {n} bytes "
                                       f"but the file has {len(data)}")
    try:
        header = json.loads(data[8:8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _not_striate(data, name, "not a striate file (no safetensors header; st.load reads files "
                                       "written by st.save)") from None
    if not isinstance(header, dict):
        raise StriateFileError(f"{name}: not a striate file (malformed header)")
    return header


def load(f: str | os.PathLike | Any, map_location: Any = None, weights_only: Any = None) -> Any:
    """Read what `st.save` wrote: tensors come back as striate Tensors (Parameters as Parameters),
    NumPy arrays as arrays, dicts/lists/tuples and plain values as saved.

    `map_location` ('cpu' or None) and `weights_only` are accepted for torch.load compatibility
    (loading is always safe: nothing in the file is executed).
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load as safetensors_load

    if map_location not in (None, "cpu"):
        raise ValueError(f"st.load: striate runs on the CPU only; map_location={map_location!r}")
    if hasattr(f, "read"):
        name = getattr(f, "name", "<file object>")
        data = f.read()
    else:
        name = os.fspath(f)
        with open(name, "rb") as fh:
            data = fh.read()
    header = _read_header(data, name)
    meta = header.get("__metadata__") or {}
    version = meta.get(FORMAT_MARKER)
    if version is None:
        raise StriateFileError(f"{name}: a safetensors file, but not written by st.save (no 'striate' marker "
                               "in its metadata); read it with safetensors.numpy.load instead")
    if version not in _READABLE_VERSIONS:
        raise StriateFileError(f"{name}: written in striate file format {version!r}; this striate reads "
                               f"formats {', '.join(_READABLE_VERSIONS)} (a newer striate wrote it, or the "
                               "file is corrupt)")
    try:
        arrays = safetensors_load(data)
        structure = json.loads(meta["structure"])
    except (SafetensorError, KeyError, json.JSONDecodeError, ValueError, TypeError) as exc:
        raise StriateFileError(f"{name}: corrupt or truncated striate file ({exc})") from None
    try:
        obj = _decode(structure, arrays)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise StriateFileError(f"{name}: corrupt striate file: its structure does not match its arrays "
                               f"({exc})") from None
    if version != "1" and meta.get("digest") != _digest(meta["structure"], arrays):
        raise StriateFileError(f"{name}: corrupt striate file: its contents do not match the digest "
                               "recorded when it was saved (a damaged disk or copy); use an older "
                               "checkpoint")
    return obj


def _decode(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if not isinstance(node, dict):
        return node
    if "__tensor__" in node:
        arr = arrays[node["__tensor__"]]
        if node.get("parameter"):
            from striate.nn.parameter import Parameter

            return Parameter(arr, requires_grad=bool(node.get("requires_grad")))
        t = wrap(arr, False)
        if node.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if "__ndarray__" in node:
        return arrays[node["__ndarray__"]]
    if "__dict__" in node:
        items = [(_decode_key(k), _decode(v, arrays)) for k, v in node["__dict__"]]
        return OrderedDict(items) if node.get("ordered") else dict(items)
    if "__tuple__" in node:
        return tuple(_decode(v, arrays) for v in node["__tuple__"])
    if "__scalar__" in node:
        return np.dtype(node["dtype"]).type(node["__scalar__"])
    if "__dtype__" in node:
        if node.get("striate") and node["__dtype__"] in dtypes.BY_NAME:
            return dtypes.BY_NAME[node["__dtype__"]]
        return np.dtype(node["__dtype__"])
    raise ValueError(f"unknown node {sorted(node)}")


def _decode_key(key: Any) -> Any:
    if isinstance(key, dict) and "__tuple__" in key:
        return tuple(_decode_key(k) for k in key["__tuple__"])
    return key

"""A pickle reader that cannot run code: enough of the pickle machine to read CIFAR's batches.

The standard unpickler imports any module and calls any function a file names (`os.system`
is one opcode away), so striate never uses it on a file. This module interprets the opcodes
itself and builds only inert values: None, bools, ints, floats, str, bytes, tuples, lists, dicts,
sets, and NumPy arrays of plain (non-object) dtypes. These globals are recognised, by
name and without importing anything, because NumPy arrays and Python 3's protocol-2 bytes are
pickled through them:

    numpy.core.multiarray._reconstruct + numpy.ndarray   (protocols 0-4 array pickles)
    numpy.core.numeric._frombuffer                       (protocol 5 array pickles)
    numpy.dtype                                          (the array's element type)
    _codecs.encode(text, 'latin1')                       (bytes pickled by Python 3 at protocol < 3)
    builtins.set, builtins.frozenset                     (sets at protocol < 4)

(`numpy._core.*`, NumPy 2's spelling, is accepted too.) The array's bytes become a NumPy array
through `np.frombuffer` with the pickled dtype string; nothing named in the file is ever called.
Every other global, and every opcode that could call code (INST, OBJ, NEWOBJ, EXT*, persistent
ids, out-of-band buffers), is refused with `UnsafePickleError` naming the file and the culprit.
"""

from __future__ import annotations

import os
import struct
from typing import Any

import numpy as np

from striate.data.datasets.base import DataFileError


class UnsafePickleError(DataFileError):
    """The pickle asks for something beyond plain data and NumPy arrays; it was not executed."""


_RECONSTRUCT = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")}
_FROMBUFFER = {("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer")}
_NDARRAY = {("numpy", "ndarray")}
_DTYPE = {("numpy", "dtype")}
_ENCODE = {("_codecs", "encode")}
_SET = {("builtins", "set"), ("__builtin__", "set")}
_FROZENSET = {("builtins", "frozenset"), ("__builtin__", "frozenset")}


class _Global:
    """A recognised global, kept as a name: never imported, never called."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind


class _DType:
    """A pickled `numpy.dtype(spec)`; BUILD may set its byte order."""

    __slots__ = ("spec", "order")

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.order = "|"

    def dtype(self) -> np.dtype:
        dt = np.dtype(self.spec)
        if dt.hasobject or dt.kind not in "biufc":
            raise TypeError(f"dtype {self.spec!r} is not a plain numeric type")
        return dt.newbyteorder(self.order) if self.order in "<>" else dt


class _ArrayStub:
    """`_reconstruct(ndarray, (0,), b'b')`: an empty array waiting for BUILD's state."""

    __slots__ = ()


class _Mark:
    __slots__ = ()


_MARK = _Mark()


def _lookup(module: str, name: str) -> _Global | None:
    key = (module, name)
    for kind, names in (("reconstruct", _RECONSTRUCT), ("frombuffer", _FROMBUFFER), ("ndarray", _NDARRAY),
                        ("dtype", _DTYPE), ("encode", _ENCODE), ("set", _SET), ("frozenset", _FROZENSET)):
        if key in names:
            return _Global(kind)
    return None


def _raw_bytes(x: Any) -> bytes:
    if isinstance(x, (bytes, bytearray)):
        return bytes(x)
    if isinstance(x, str):  # Python 2 str read as text: numpy's own unpickling encodes latin1
        return x.encode("latin1")
    raise TypeError(f"array data must be bytes, got {type(x).__name__}")


def _array(raw: Any, dtype: _DType, shape: Any, fortran: bool) -> np.ndarray:
    dt = dtype.dtype()
    shape = tuple(int(s) for s in shape)
    data = _raw_bytes(raw)
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) != count * dt.itemsize:
        raise ValueError(f"array of shape {shape} and dtype {dt} needs {count * dt.itemsize} bytes, "
                         f"the pickle holds {len(data)}")
    arr = np.frombuffer(data, dtype=dt).reshape(shape, order="F" if fortran else "C")
    return arr.astype(dt.newbyteorder("="), copy=True) if dt.byteorder not in "=|" else arr.copy()


class _Machine:
    def __init__(self, data: bytes, path: str) -> None:
        self.data = memoryview(data)
        self.pos = 0
        self.path = path
        self.stack: list[Any] = []
        self.memo: dict[int, Any] = {}

    # ---------------------------------------------------------------- reading
    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise EOFError(f"pickle ends early: wanted {n} bytes at offset {self.pos}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size))[0]

    def line(self) -> bytes:
        end = bytes(self.data[self.pos:self.pos + 4096]).find(b"\n")
        if end < 0:
            raise EOFError(f"pickle ends early: no newline after offset {self.pos}")
        out = bytes(self.data[self.pos:self.pos + end])
        self.pos += end + 1
        return out

    def pop_mark(self) -> list[Any]:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i] is _MARK:
                items = self.stack[i + 1:]
                del self.stack[i:]
                return items
        raise ValueError("pickle has no MARK where one is needed")

    def refuse(self, what: str) -> UnsafePickleError:
        return UnsafePickleError(self.path, f"refused to unpickle: {what}. striate reads only plain data and "
                                            "NumPy arrays from pickles and executed nothing from this file")

    # ---------------------------------------------------------------- globals, reduce, build
    def global_(self, module: str, name: str) -> _Global:
        g = _lookup(module, name)
        if g is None:
            raise self.refuse(f"the pickle asks for the global {module}.{name}")
        return g

    def reduce(self, func: Any, args: Any) -> Any:
        if not isinstance(func, _Global) or not isinstance(args, tuple):
            raise self.refuse(f"REDUCE applied to {type(func).__name__}")
        if func.kind == "reconstruct" and len(args) == 3 and isinstance(args[0], _Global) \
                and args[0].kind == "ndarray":
            return _ArrayStub()
        if func.kind == "dtype" and len(args) >= 1 and isinstance(args[0], str):
            return _DType(args[0])
        if func.kind == "frombuffer" and len(args) == 4 and isinstance(args[1], _DType):
            raw, dtype, shape, order = args
            return _array(raw, dtype, shape, order == "F")
        if func.kind == "encode" and len(args) == 2 and isinstance(args[0], str) \
                and args[1] in ("latin1", "latin-1"):
            return args[0].encode("latin1")
        if func.kind in ("set", "frozenset") and len(args) == 1 and isinstance(args[0], list):
            return set(args[0]) if func.kind == "set" else frozenset(args[0])
        raise self.refuse(f"a call of {func.kind} with unexpected arguments")

    def build(self, obj: Any, state: Any) -> Any:
        if isinstance(obj, _DType) and isinstance(state, tuple) and len(state) >= 2:
            obj.order = state[1] if isinstance(state[1], str) else "|"
            return obj
        if isinstance(obj, _ArrayStub) and isinstance(state, tuple) and len(state) == 5 \
                and isinstance(state[2], _DType):
            _version, shape, dtype, fortran, raw = state
            return _array(raw, dtype, shape, bool(fortran))
        raise self.refuse(f"BUILD on {type(obj).__name__}")

    def persistent_load(self, pid: Any) -> Any:
        """A persistent id names data outside the pickle; plain pickles have none."""
        raise self.refuse(f"a persistent id ({type(pid).__name__})")

    # ---------------------------------------------------------------- the loop
    def run(self) -> Any:  # noqa: C901 - one branch per opcode is the clearest form
        st = self.stack
        while True:
            op = self.take(1)[0]
            if op == 0x80:                                   # PROTO
                self.take(1)
            elif op == 0x95:                                 # FRAME: a size hint only
                self.take(8)
            elif op == 0x2E:                                 # STOP
                if len(st) != 1:
                    raise ValueError(f"pickle stops with {len(st)} values on the stack")
                return st[0]
            elif op == 0x28:                                 # MARK
                st.append(_MARK)
            elif op == 0x4E:                                 # NONE
                st.append(None)
            elif op == 0x88:                                 # NEWTRUE
                st.append(True)
            elif op == 0x89:                                 # NEWFALSE
                st.append(False)
            elif op == 0x4A:                                 # BININT
                st.append(self.unpack("<i"))
            elif op == 0x4B:                                 # BININT1
                st.append(self.take(1)[0])
            elif op == 0x4D:                                 # BININT2
                st.append(self.unpack("<H"))
            elif op == 0x8A:                                 # LONG1
                n = self.take(1)[0]
                st.append(int.from_bytes(self.take(n), "little", signed=True))
            elif op == 0x8B:                                 # LONG4
                n = self.unpack("<i")
                st.append(int.from_bytes(self.take(n), "little", signed=True))
            elif op == 0x49:                                 # INT (text): also 00 / 01 for bools
                text = self.line()
                st.append(True if text == b"01" else False if text == b"00" else int(text))
            elif op == 0x4C:                                 # LONG (text)
                st.append(int(self.line().rstrip(b"L")))
            elif op == 0x47:                                 # BINFLOAT
                st.append(self.unpack(">d"))
            elif op == 0x46:                                 # FLOAT (text)
                st.append(float(self.line()))
            elif op == 0x55:                                 # SHORT_BINSTRING (py2 str -> bytes)
                st.append(bytes(self.take(self.take(1)[0])))
            elif op == 0x54:                                 # BINSTRING
                st.append(bytes(self.take(self.unpack("<i"))))
            elif op == 0x53:                                 # STRING (text, quoted)
                text = self.line()
                st.append(_unquote(text))
            elif op == 0x43:                                 # SHORT_BINBYTES
                st.append(bytes(self.take(self.take(1)[0])))
            elif op == 0x42:                                 # BINBYTES
                st.append(bytes(self.take(self.unpack("<I"))))
            elif op == 0x8E:                                 # BINBYTES8
                st.append(bytes(self.take(self.unpack("<Q"))))
            elif op == 0x96:                                 # BYTEARRAY8
                st.append(bytearray(self.take(self.unpack("<Q"))))
            elif op == 0x8C:                                 # SHORT_BINUNICODE
                st.append(str(self.take(self.take(1)[0]), "utf-8", "surrogatepass"))
            elif op == 0x58:                                 # BINUNICODE
                st.append(str(self.take(self.unpack("<I")), "utf-8", "surrogatepass"))
            elif op == 0x8D:                                 # BINUNICODE8
                st.append(str(self.take(self.unpack("<Q")), "utf-8", "surrogatepass"))
            elif op == 0x56:                                 # UNICODE (text, raw-unicode-escape)
                st.append(self.line().decode("raw-unicode-escape"))
            elif op == 0x7D:                                 # EMPTY_DICT
                st.append({})
            elif op == 0x5D:                                 # EMPTY_LIST
                st.append([])
            elif op == 0x29:                                 # EMPTY_TUPLE
                st.append(())
            elif op == 0x8F:                                 # EMPTY_SET
                st.append(set())
            elif op == 0x74:                                 # TUPLE
                st.append(tuple(self.pop_mark()))
            elif op in (0x85, 0x86, 0x87):                   # TUPLE1, TUPLE2, TUPLE3
                n = op - 0x84
                items = tuple(st[-n:])
                del st[-n:]
                st.append(items)
            elif op == 0x6C:                                 # LIST
                st.append(self.pop_mark())
            elif op == 0x64:                                 # DICT
                items = self.pop_mark()
                st.append(dict(zip(items[::2], items[1::2])))
            elif op == 0x61:                                 # APPEND
                value = st.pop()
                st[-1].append(value)
            elif op == 0x65:                                 # APPENDS
                items = self.pop_mark()
                st[-1].extend(items)
            elif op == 0x73:                                 # SETITEM
                value, key = st.pop(), st.pop()
                st[-1][key] = value
            elif op == 0x75:                                 # SETITEMS
                items = self.pop_mark()
                target = st[-1]
                for k, v in zip(items[::2], items[1::2]):
                    target[k] = v
            elif op == 0x90:                                 # ADDITEMS
                items = self.pop_mark()
                st[-1].update(items)
            elif op == 0x91:                                 # FROZENSET
                st.append(frozenset(self.pop_mark()))
            elif op == 0x30:                                 # POP
                st.pop()
            elif op == 0x31:                                 # POP_MARK
                self.pop_mark()
            elif op == 0x32:                                 # DUP
                st.append(st[-1])
            elif op == 0x71:                                 # BINPUT
                self.memo[self.take(1)[0]] = st[-1]
            elif op == 0x72:                                 # LONG_BINPUT
                self.memo[self.unpack("<I")] = st[-1]
            elif op == 0x70:                                 # PUT (text)
                self.memo[int(self.line())] = st[-1]
            elif op == 0x94:                                 # MEMOIZE
                self.memo[len(self.memo)] = st[-1]
            elif op == 0x68:                                 # BINGET
                st.append(self.memo[self.take(1)[0]])
            elif op == 0x6A:                                 # LONG_BINGET
                st.append(self.memo[self.unpack("<I")])
            elif op == 0x67:                                 # GET (text)
                st.append(self.memo[int(self.line())])
            elif op == 0x63:                                 # GLOBAL "module\nname\n"
                module = self.line().decode("utf-8")
                name = self.line().decode("utf-8")
                st.append(self.global_(module, name))
            elif op == 0x93:                                 # STACK_GLOBAL
                name, module = st.pop(), st.pop()
                if not (isinstance(module, str) and isinstance(name, str)):
                    raise self.refuse("STACK_GLOBAL with non-string names")
                st.append(self.global_(module, name))
            elif op == 0x52:                                 # REDUCE
                args, func = st.pop(), st.pop()
                st.append(self.reduce(func, args))
            elif op == 0x62:                                 # BUILD
                state = st.pop()
                st[-1] = self.build(st[-1], state)
            elif op == 0x51:                                 # BINPERSID (a subclass may resolve it)
                st.append(self.persistent_load(st.pop()))
            elif op == 0x50:                                 # PERSID (text)
                st.append(self.persistent_load(self.line().decode("ascii")))
            else:
                names = {0x69: "INST", 0x6F: "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x82: "EXT1",
                         0x83: "EXT2", 0x84: "EXT4",
                         0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER"}
                raise self.refuse(f"opcode {names.get(op, hex(op))} at offset {self.pos - 1}")


def _unquote(text: bytes) -> bytes:
    if len(text) >= 2 and text[:1] == text[-1:] and text[:1] in (b"'", b'"'):
        return text[1:-1].decode("unicode_escape").encode("latin1")
    raise ValueError("STRING opcode argument is not quoted")


def safe_loads(data: bytes, path: str | os.PathLike = "<bytes>") -> Any:
    """Read a pickle of plain data and NumPy arrays without executing anything."""
    machine = _Machine(data, str(path))
    try:
        return machine.run()
    except UnsafePickleError:
        raise
    except (EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError, struct.error,
            UnicodeDecodeError) as exc:
        raise DataFileError(path, f"not a readable pickle of plain data: {exc}") from None


def safe_load(path: str | os.PathLike) -> Any:
    with open(path, "rb") as f:
        return safe_loads(f.read(), path)

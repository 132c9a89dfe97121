"""PyTorch's dtype objects: `st.float32`, `st.int64`, ... and their class `st.dtype`.

`print(t.dtype)` shows `striate.float32` where a PyTorch program shows `torch.float32`. The
values of a tensor stay in a NumPy array of the matching NumPy dtype; a `dtype` only names it.

Why a small wrapper class and not NumPy's dtype objects themselves: NumPy's dtypes cannot be
subclassed ("Cannot subclass DType") and print as `float32`. So each `st.dtype` is one instance
per type (`st.float32 is st.float`) that stands in for its NumPy dtype wherever NumPy takes one:

- NumPy converts it through `__numpy_dtype__` (NumPy >= 2.4's protocol) or, on older NumPy,
  through its `dtype` attribute (an `np.dtype`, so no deprecation warning):
  `np.zeros(3, dtype=st.float32)`, `arr.astype(t.dtype)`, `np.dtype(st.float32)`;
- it equals its NumPy dtype and scalar type both ways (`t.dtype == np.float32`,
  `np.dtype("float32") == t.dtype`) and hashes like the NumPy dtype, so dicts and sets keyed by
  `np.dtype` find it (a dict keyed by the scalar type `np.float32` does not, as for `np.dtype`);
- NumPy's dtype attributes (`kind`, `name`, `type`, `char`, `str`, ...) read through.

`st.bfloat16` is a name only: NumPy has no bfloat16, so making an array of it is a clear error.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class dtype:  # noqa: N801 - torch.dtype
    """A tensor's element type, as `torch.dtype`: `striate.float32`, `striate.int64`, ...

    Attributes as PyTorch's: `is_floating_point`, `is_complex`, `is_signed`, `itemsize` (bytes).
    `numpy` is the NumPy dtype the values are stored in (None for `bfloat16`)."""

    # `__numpy_dtype__` (NumPy >= 2.4's protocol) and `dtype` (older NumPy) are NumPy's way in:
    # plain slots, so that NumPy reads them without a Python call; left unset for bfloat16, whose
    # reads `__getattr__` answers with the error.
    __slots__ = ("_name", "numpy", "is_floating_point", "is_complex", "is_signed", "itemsize", "_hash",
                 "__numpy_dtype__", "dtype")

    def __init__(self, name: str, numpy_dtype: np.dtype | None, itemsize: int) -> None:
        self._name = name
        self.numpy = numpy_dtype
        self.is_floating_point = "float" in name
        self.is_complex = name.startswith("complex")
        self.is_signed = not (name.startswith("uint") or name == "bool")
        self.itemsize = itemsize
        self._hash = hash(numpy_dtype) if numpy_dtype is not None else hash(name)
        if numpy_dtype is not None:
            self.__numpy_dtype__ = self.dtype = numpy_dtype

    def __repr__(self) -> str:
        return f"striate.{self._name}"

    __str__ = __repr__

    def _storage(self) -> np.dtype:
        if self.numpy is None:
            raise TypeError(
                f"{self} is a dtype name only: NumPy has no {self._name}, and striate stores and "
                "computes in NumPy's types; use striate.float32 (or striate.float16 / float64)"
            )
        return self.numpy

    def __getattr__(self, name: str) -> Any:
        # NumPy's dtype attributes (kind, name, type, char, str, ...) for code that mixes NumPy;
        # private and special names are not forwarded (copy/pickle must see this class's own).
        if name in ("__numpy_dtype__", "dtype"):
            self._storage()  # bfloat16: NumPy has none, a clear error
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._storage(), name)

    # ------------------------------------------------------------------ equality and hashing
    def __eq__(self, other: Any) -> bool:
        if type(other) is dtype:
            return other is self
        if other is None or self.numpy is None:
            return False  # np.dtype("float64") == None is True in NumPy; not here, nor in torch
        try:
            return bool(self.numpy == other)
        except TypeError:
            return NotImplemented

    def __ne__(self, other: Any) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return self._hash

    # ------------------------------------------------------------------ singletons
    def __reduce__(self) -> str:
        return self._name  # pickled as the module attribute striate.<name>, like torch's

    def __copy__(self) -> dtype:
        return self

    def __deepcopy__(self, memo: Any) -> dtype:
        return self


dtype.__module__ = "striate"  # `<class 'striate.dtype'>`, as `<class 'torch.dtype'>`


def _make(name: str, numpy_name: str | None, itemsize: int) -> dtype:
    return dtype(name, None if numpy_name is None else np.dtype(numpy_name), itemsize)


float16 = _make("float16", "float16", 2)
float32 = _make("float32", "float32", 4)
float64 = _make("float64", "float64", 8)
bfloat16 = _make("bfloat16", None, 2)
int8 = _make("int8", "int8", 1)
int16 = _make("int16", "int16", 2)
int32 = _make("int32", "int32", 4)
int64 = _make("int64", "int64", 8)
uint8 = _make("uint8", "uint8", 1)
uint16 = _make("uint16", "uint16", 2)
uint32 = _make("uint32", "uint32", 4)
uint64 = _make("uint64", "uint64", 8)
bool_ = _make("bool", "bool", 1)

# PyTorch's other names for the same objects
half = float16
float = float32  # noqa: A001 - torch.float
double = float64
short = int16
int = int32  # noqa: A001 - torch.int
long = int64

ALL: tuple[dtype, ...] = (float16, float32, float64, bfloat16, int8, int16, int32, int64,
                          uint8, uint16, uint32, uint64, bool_)

BY_NAME: dict[str, dtype] = {str(d).removeprefix("striate."): d for d in ALL}  # canonical names

# NumPy's storage dtype -> its dtype object. `t.dtype` looks the array's np.dtype up here (native
# dtypes are singletons, so the lookup is one hash and an identity check); anything else (another
# byte order, 'q' where 'l' is int64) goes through NumPy's one-letter code.
BY_NUMPY: dict[np.dtype, dtype] = {d.numpy: d for d in ALL if d.numpy is not None}
_BY_CHAR: dict[str, dtype] = {}
for _d in ALL:
    if _d.numpy is not None:
        for _code in _d.numpy.char + np.typecodes["AllInteger"]:
            if np.dtype(_code) == _d.numpy:
                _BY_CHAR.setdefault(_code, _d)
del _d, _code


def of_numpy(d: np.dtype) -> dtype | np.dtype:
    """The dtype object of a NumPy dtype; a NumPy type striate has no name for (complex,
    strings, objects) is returned as NumPy's own dtype."""
    found = BY_NUMPY.get(d)
    if found is None:
        found = _BY_CHAR.get(d.char)
    return d if found is None else found


def to_numpy(value: Any) -> np.dtype:
    """What NumPy stores `value` (st.float32, np.float32, "float32", float, bool, ...) as."""
    if type(value) is dtype:
        return value._storage()
    if value is bool:
        return np.dtype(np.bool_)
    return np.dtype(value)


def from_any(value: Any) -> dtype | np.dtype:
    """The dtype object of anything NumPy takes as a dtype."""
    if type(value) is dtype:
        return value
    return of_numpy(to_numpy(value))

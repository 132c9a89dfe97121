"""`default_collate` and `default_convert`: a list of samples -> one batch, as torch's.

The rule (torch/utils/data/_utils/collate.py), applied recursively to the first sample's type:
Tensor -> `st.stack`; NumPy array -> tensors then stacked (string/object arrays refused);
NumPy scalar -> a tensor of its dtype; Python float -> float64 tensor; int (and bool) -> int64
(bool) tensor; str/bytes -> the list unchanged; Mapping -> the same mapping type of collated
values; namedtuple -> the same namedtuple; tuple -> a *list* of collated columns (torch's
backwards-compatible choice); other sequences -> the same type, all samples of one length.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor, wrap

_STRING_OR_OBJECT = re.compile(r"[SaUO]")
_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _as_tensor(array: np.ndarray) -> Tensor:
    return wrap(np.asarray(array), False)


def collate_tensor_fn(batch: list[Tensor], *, collate_fn_map: dict | None = None) -> Tensor:
    shapes = {tuple(t.shape) for t in batch}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but the samples of one batch have "
                           f"shapes {sorted(shapes)[:4]}; resize them to one size or pass a collate_fn "
                           "that pads them")
    from striate import stack

    return stack(batch, 0)


def collate_numpy_array_fn(batch: list[np.ndarray], *, collate_fn_map: dict | None = None) -> Any:
    if _STRING_OR_OBJECT.search(batch[0].dtype.str) is not None:
        raise TypeError(_ERROR.format(batch[0].dtype))
    return collate([_as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch: list[Any], *, collate_fn_map: dict | None = None) -> Tensor:
    return _as_tensor(np.asarray(batch))


def collate_float_fn(batch: list[float], *, collate_fn_map: dict | None = None) -> Tensor:
    return _as_tensor(np.asarray(batch, dtype=np.float64))


def collate_int_fn(batch: list[int], *, collate_fn_map: dict | None = None) -> Tensor:
    values = np.asarray(batch)
    return _as_tensor(values if values.dtype == np.bool_ else values.astype(np.int64))


def collate_str_fn(batch: list[Any], *, collate_fn_map: dict | None = None) -> list[Any]:
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def _same_mapping(like: Any, values: dict) -> Any:
    """`values` in a mapping of `like`'s type (a copy of it when mutable; a dict if that fails)."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _same_sequence(like: Any, values: list) -> Any:
    """`values` in a sequence of `like`'s type (a copy of it when mutable; a list if that fails)."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, value in enumerate(values):
                clone[i] = value
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _collate_mapping(batch: list[Any], collate_fn_map: dict | None) -> Any:
    elem = batch[0]
    return _same_mapping(elem, {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                                for key in elem})


def _collate_sequence(batch: list[Any], collate_fn_map: dict | None) -> Any:
    elem = batch[0]
    size = len(elem)
    if any(len(sample) != size for sample in batch):
        raise RuntimeError("each element in list of batch should be of equal size (samples of one batch "
                           "have different lengths; pass a collate_fn that pads them)")
    columns = [collate(list(samples), collate_fn_map=collate_fn_map) for samples in zip(*batch)]
    if isinstance(elem, tuple):
        return columns  # torch returns a list for tuples (backwards compatibility)
    return _same_sequence(elem, columns)


def collate(batch: list[Any], *, collate_fn_map: dict | None = None) -> Any:
    """Collate `batch` by the first sample's type: an exact entry of `collate_fn_map`, then the
    first entry it is an instance of, then mappings, namedtuples and sequences recursively."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type, fn in collate_fn_map.items():
            if isinstance(elem, collate_type):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _collate_mapping(batch, collate_fn_map)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(list(samples), collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        return _collate_sequence(batch, collate_fn_map)
    raise TypeError(_ERROR.format(elem_type))


def default_collate(batch: list[Any]) -> Any:
    """Samples -> a batch with torch's types (see the module docstring).

        >>> default_collate([(st.ones(2), 0), (st.zeros(2), 1)])   # doctest: +SKIP
        [tensor([[1., 1.], [0., 0.]]), tensor([0, 1])]
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data: Any) -> Any:
    """One sample's NumPy arrays and scalars -> tensors, everything else kept (the collate_fn of
    a DataLoader with `batch_size=None`)."""
    if isinstance(data, Tensor):
        return data
    elem_type = type(data)
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "bytes_", "string_"):
        if isinstance(data, np.ndarray) and _STRING_OR_OBJECT.search(data.dtype.str) is not None:
            return data
        return _as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _same_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_sequence(data, [default_convert(d) for d in data])
    return data

"""Devices: striate computes on the CPU only, and says so where PyTorch code asks for another.

PyTorch programs pick their device with `torch.device("cuda" if torch.cuda.is_available() else
"cpu")`; under striate `st.cuda.is_available()` is False and such a program runs unchanged on
the CPU. Naming a device is allowed (`st.device("cuda")` is a value, as in PyTorch); *using* one
(`.cuda()`, `.to("cuda")`, `device="cuda"` on a factory) raises `DeviceUnavailableError` with
the reason and the fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor

_KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "privateuseone", "mtia")


class DeviceUnavailableError(RuntimeError, ValueError):
    """A computation asked for a device other than the CPU (a RuntimeError as in PyTorch, and a
    ValueError as striate raised before it had a device model)."""


class device:  # noqa: N801 - torch.device
    """A device name (`'cpu'`, `'cuda:1'`, `st.device('cuda', 0)`): compare, print, pass around."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string such as 'cpu', got {type!r}")
        name, _, idx = type.partition(":")
        if name not in _KNOWN_TYPES:
            raise ValueError(f"Expected one of {', '.join(_KNOWN_TYPES)} device type at start of device "
                             f"string: {type}")
        if idx:
            if index is not None or not idx.isdigit():
                raise ValueError(f"Invalid device string: {type!r}")
            index = int(idx)
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"Device index must not be negative, got {index!r}")
        self.type = name
        self.index = index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except ValueError:
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def check_device(dev: Any, what: str = "this operation") -> device:
    """The CPU device for `dev` (None, 'cpu', 'cpu:0', st.device('cpu')); any other device is
    refused with the reason and the fix."""
    if dev is None:
        return CPU
    resolved = dev if isinstance(dev, device) else device(dev)
    if resolved.type != "cpu":
        raise DeviceUnavailableError(
            f"{what} asked for device '{resolved}', but striate computes on the CPU only (it has no "
            "CUDA, MPS or other accelerator backend). Use 'cpu', or choose the device with "
            "`'cuda' if st.cuda.is_available() else 'cpu'` (False under striate)."
        )
    return CPU


def _looks_like_device(arg: Any) -> bool:
    if isinstance(arg, device):
        return True
    if not isinstance(arg, str):
        return False
    return arg.partition(":")[0] in _KNOWN_TYPES


def parse_to(args: tuple, kwargs: dict, what: str) -> Any:
    """The dtype asked for by `.to(...)`'s PyTorch forms — `to(dtype)`, `to(device)`,
    `to(device, dtype)`, `to(other_tensor)`, `to(device=..., dtype=...)`, with `non_blocking`
    and `copy` accepted — after checking that any device named is the CPU (None: keep)."""
    kwargs = dict(kwargs)
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{what}.to() got unexpected arguments {sorted(kwargs)}")
    for arg in args:
        if _looks_like_device(arg):
            dev = arg
        elif isinstance(arg, (Tensor, np.ndarray)):  # another tensor: its dtype
            dtype = arg.dtype
        elif arg is not None:
            dtype = arg
    check_device(dev, f"{what}.to()")
    return dtype


def set_default_device(device: Any) -> None:  # PyTorch's parameter name (shadows the class here)
    """`torch.set_default_device`: the CPU is striate's only device, so `'cpu'` (or None) is
    accepted and changes nothing; any other device is refused with the reason, as factories
    refuse `device='cuda'` (so `set_default_device('cuda' if st.cuda.is_available() else 'cpu')`
    works unchanged)."""
    check_device(device, "set_default_device()")


def get_default_device() -> device:
    """`torch.get_default_device`: always the CPU."""
    return CPU

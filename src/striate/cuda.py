"""`st.cuda`: what PyTorch programs ask of CUDA, answered for a CPU-only library.

`is_available()` is False and `device_count()` 0, so the usual device choice picks the CPU;
seeding functions are accepted and do nothing (there is no CUDA generator to seed), as
PyTorch's do on a machine without CUDA. Anything that needs a GPU raises
`DeviceUnavailableError` with the reason.
"""

from __future__ import annotations

from typing import Any

from striate.device import DeviceUnavailableError


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Accepted and ignored: striate has no CUDA generator (`st.manual_seed` seeds the CPU)."""


manual_seed_all = manual_seed


def synchronize(device: Any = None) -> None:
    """Nothing runs asynchronously on a CPU-only library: returns at once."""


def empty_cache() -> None:
    """No CUDA memory cache exists: nothing to free."""


def _unavailable(*args: Any, **kwargs: Any) -> Any:
    raise DeviceUnavailableError(
        "CUDA is not available: striate computes on the CPU only; check st.cuda.is_available() first"
    )


current_device = get_device_name = get_device_properties = set_device = memory_allocated = _unavailable

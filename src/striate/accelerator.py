"""`st.accelerator` (PyTorch 2.6+'s device-agnostic API): there is none, the CPU does the work."""

from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def current_accelerator(check_available: bool = False) -> None:
    """None: striate has no accelerator (PyTorch returns None on a CPU-only machine too)."""
    return None

"""`st.backends`: PyTorch's backend switches, for programs that read or set them.

`mps.is_available()` / `mps.is_built()` are False; `cudnn.benchmark` and `cudnn.deterministic`
can be set (striate has no cuDNN: they change nothing; striate's CPU results are deterministic).
"""

from __future__ import annotations

from types import SimpleNamespace


def _false() -> bool:
    return False


mps = SimpleNamespace(is_available=_false, is_built=_false)
cuda = SimpleNamespace(is_built=_false)
cudnn = SimpleNamespace(enabled=False, benchmark=False, deterministic=False, is_available=_false)

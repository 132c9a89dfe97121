"""How large an output striate agrees to allocate.

An argument such as `output_size=2**40` or a padding of 2**40 would otherwise reach NumPy and end
in a MemoryError ("Unable to allocate 8 TiB") that does not say which argument was wrong.
"""

from __future__ import annotations

import math

INT32_MAX = 2**31 - 1

# 2**34 elements: 64 GiB of float32, beyond any machine striate is meant for
MAX_ELEMENTS = 2**34


def check_output_size(shape: tuple[int, ...], op: str, argument: str) -> None:
    """Raise ValueError naming `argument` when an output of `shape` would be absurdly large."""
    n = math.prod(int(s) for s in shape)
    if n > MAX_ELEMENTS:
        raise ValueError(f"{op}: the output would have shape {tuple(shape)} ({n:.3g} elements, more than "
                         f"striate allocates, {MAX_ELEMENTS:.3g}); check {argument}")


class DimensionError(ValueError, IndexError):
    """A `dim` argument outside -ndim..ndim-1: a ValueError (a bad argument value), and also an
    IndexError, which is what PyTorch raises, so `except IndexError` code keeps working."""

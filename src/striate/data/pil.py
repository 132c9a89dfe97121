"""Pillow, imported only when a PIL image is read, made or saved (the `images` extra)."""

from __future__ import annotations

from typing import Any


def pil_image_module(what: str) -> Any:
    """`PIL.Image`, or an ImportError that says which feature needs it and how to install it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{what} needs Pillow, which is not installed: pip install 'striate[images]'  "
                          "(or: pip install pillow)") from None
    return Image


def is_pil_image(value: Any) -> bool:
    """True for a PIL image, without importing Pillow when it was never imported."""
    import sys

    module = sys.modules.get("PIL.Image")
    return module is not None and isinstance(value, module.Image)

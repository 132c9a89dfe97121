"""The emg2qwerty key vocabulary (Sivakumar et al. 2024): 98 keys and the CTC blank.

Labels 0..93 are the printable ASCII characters in the order letters (a-z, A-Z), digits,
punctuation; then four modifier keys: 94 backspace, 95 enter, 96 space, 97 shift. The CTC blank
is label 98 (`BLANK`), so a model emits `NUM_CLASSES = 99` scores per frame. Keys are written
as text with one character per key: backspace '⌫', enter '⏎', shift '⇧', space ' '.

The keylogger writes printable keys as the character itself ("a", "?") and the others in
pynput's spelling ("Key.space", "Key.backspace"); keys outside the vocabulary ("Key.tab",
"Key.ctrl", "Key.cmd", ...) are dropped, as in the paper.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence

import numpy as np

MODIFIERS: tuple[tuple[str, str], ...] = (
    ("Key.backspace", "\u232b"),  # ⌫
    ("Key.enter", "\u23ce"),  # ⏎
    ("Key.space", " "),
    ("Key.shift", "\u21e7"),  # ⇧
)
CHARS: str = string.ascii_letters + string.digits + string.punctuation + "".join(c for _, c in MODIFIERS)
BLANK: int = len(CHARS)  # 98
NUM_CLASSES: int = len(CHARS) + 1  # 99 with the blank

_LABEL_OF_CHAR = {c: i for i, c in enumerate(CHARS)}
# other spellings of the same keys: pynput names, control characters, typographic quotes
_ALIASES = {
    **dict(MODIFIERS),
    "Key.shift_l": "\u21e7",
    "Key.shift_r": "\u21e7",
    "\u2191": "\u21e7",
    "\u21e1": "\u21e7",
    "\n": "\u23ce",
    "\r": "\u23ce",
    "\b": "\u232b",
    "\u2019": "'",
    "\u2018": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2014": "-",
    "\u2013": "-",
}


def key_to_char(key: str) -> str | None:
    """The vocabulary character of one keylogger key, or None when the key is not in it."""
    char = _ALIASES.get(key, key)
    return char if char in _LABEL_OF_CHAR else None


def keys_to_text(keys: Iterable[str]) -> str:
    """Keys (keylogger spelling or characters) -> text of vocabulary characters (others dropped)."""
    chars = (key_to_char(k) for k in keys)
    return "".join(c for c in chars if c is not None)


def text_to_labels(text: str) -> np.ndarray:
    """Text -> int64 labels in 0..97; characters outside the vocabulary are dropped."""
    return np.array([_LABEL_OF_CHAR[c] for c in keys_to_text(text)], dtype=np.int64)


def labels_to_text(labels: Sequence[int] | np.ndarray) -> str:
    """Labels in 0..97 -> text (a blank or an out-of-range label is a ValueError)."""
    out = []
    for label in np.asarray(labels, dtype=np.int64).ravel():
        if not 0 <= label < BLANK:
            raise ValueError(
                f"label {int(label)} is not a key (keys are 0..{BLANK - 1}; {BLANK} is the blank)"
            )
        out.append(CHARS[label])
    return "".join(out)

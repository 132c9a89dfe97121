"""Error rates of decoded sequences against references.

    edit_distance(a, b) = fewest insertions, deletions and substitutions turning a into b
    CER = sum of character edit distances / sum of reference lengths
    WER = the same over whitespace-separated words

Over a list of pairs the totals are summed before dividing (a corpus rate, as the emg2qwerty
paper reports), not averaged per sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def edit_distance(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Levenshtein distance between two sequences (strings, lists of labels or of words).

    Row by row: with d the previous row, the next row before insertions is
    min(d[j] + 1 (deletion), d[j-1] + [a_i != b_j] (substitution)); insertions then chain
    left to right, cur[j] = min(cur[j], cur[j-1] + 1), which is a running minimum of cur[j] - j.
    """
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    vocab: dict[Any, int] = {}
    bb = np.array([vocab.setdefault(x, len(vocab)) for x in b])
    cols = np.arange(len(b) + 1)
    row = cols.copy()
    for i, x in enumerate(a, start=1):
        code = vocab.get(x, -1)
        new = np.empty_like(row)
        new[0] = i
        new[1:] = np.minimum(row[1:] + 1, row[:-1] + (bb != code))
        row = np.minimum.accumulate(new - cols) + cols
    return int(row[-1])


def _pairs(preds: Any, target: Any) -> list[tuple[Any, Any]]:
    if isinstance(preds, str) or isinstance(target, str):
        if not (isinstance(preds, str) and isinstance(target, str)):
            raise TypeError("cer/wer: pass two strings or two lists of strings")
        return [(preds, target)]
    preds, target = list(preds), list(target)
    if len(preds) != len(target):
        raise ValueError(f"cer/wer: {len(preds)} predictions for {len(target)} references")
    return list(zip(preds, target))


def _rate(pairs: list[tuple[Any, Any]], split: bool) -> float:
    edits = total = 0
    for hyp, ref in pairs:
        if split:
            hyp, ref = hyp.split(), ref.split()
        edits += edit_distance(hyp, ref)
        total += len(ref)
    if total == 0:
        return 0.0 if edits == 0 else float("inf")
    return edits / total


def cer(preds: Any, target: Any) -> float:
    """Character error rate: edit distance / reference length (summed over pairs); 0.25 = 25%.

    >>> cer("helo world", "hello world")
    0.09090909090909091
    """
    return _rate(_pairs(preds, target), split=False)


def wer(preds: Any, target: Any) -> float:
    """Word error rate: the same over whitespace-separated words.

    >>> wer("the cat sat", "the cat sat down")
    0.25
    """
    return _rate(_pairs(preds, target), split=True)

"""Greedy CTC decoding and the character error rate, as the sEMG task uses them.

(Interim: issue 17's sequence half brings the library's decoders and metrics; this module then
only re-exports them.)

Greedy (best-path) decoding takes the most likely label per frame, merges repeats and drops
blanks. CER = sum of Levenshtein distances / sum of reference lengths.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def greedy_decode(emissions: np.ndarray, blank: int) -> list[int]:
    """(T, C) scores -> labels: argmax per frame, repeats merged, blanks removed."""
    best = np.asarray(emissions).argmax(axis=-1)
    keep = np.ones(len(best), dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    return [int(c) for c in best[keep] if c != blank]


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance (insertions, deletions, substitutions) between two sequences."""
    prev = np.arange(len(b) + 1)
    for i, x in enumerate(a, 1):
        cur = np.empty_like(prev)
        cur[0] = i
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return int(prev[-1])


def character_error_rate(predictions: Sequence[Sequence], references: Sequence[Sequence]) -> float:
    """Total edit distance over the total reference length (a fraction; 1.0 = 100%)."""
    edits = sum(edit_distance(p, r) for p, r in zip(predictions, references, strict=True))
    return edits / max(sum(len(r) for r in references), 1)

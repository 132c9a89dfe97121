"""Training metrics: accuracy, the confusion matrix, and the per-epoch history."""

from __future__ import annotations

from typing import Any

import numpy as np


def accuracy_count(logits: np.ndarray, targets: np.ndarray) -> int:
    """How many rows of `logits` have their largest value at the target class."""
    return int((logits.argmax(axis=1) == targets).sum())


def confusion_matrix(true: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[i, j] = number of samples of class i predicted as class j."""
    idx = true.astype(np.int64) * num_classes + pred.astype(np.int64)
    return np.bincount(idx, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


class History:
    """Per-epoch logs: `history["val_accuracy"]` is a list over epochs; `as_rows()` a list of dicts."""

    def __init__(self, rows: list[dict[str, Any]] | None = None) -> None:
        self.rows: list[dict[str, Any]] = [dict(r) for r in rows or []]

    def append(self, logs: dict[str, Any]) -> None:
        self.rows.append(dict(logs))

    def as_rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def __getitem__(self, key: str) -> list[Any]:
        if not self.rows or key not in self.rows[-1]:
            have = sorted(self.rows[-1]) if self.rows else []
            raise KeyError(f"no metric {key!r} in the history (have {have})")
        return [r.get(key) for r in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"History({len(self.rows)} epochs, metrics={sorted(self.rows[-1]) if self.rows else []})"

"""Random restarts: train several seeded initialisations and keep the best.

Seed 001: "return the set of weights that achieves the lowest training error" — by default
the final training loss decides; pass `monitor="val_accuracy"` (mode max) to choose by
validation instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from striate import random as st_random
from striate.train.metrics import History


def random_restarts(n: int, build: Callable[[], tuple[Any, Any]],
                    train_fn: Callable[[Any, Any], History], monitor: str = "loss", mode: str = "min",
                    seed: int = 0) -> tuple[Any, list[dict[str, Any]]]:
    """Train `n` models and return (best_model, results).

    build(): returns (model, optimizer), called after seeding striate with `seed + i`.
    train_fn(model, optimizer): trains and returns the History.
    Each result is {"seed", "value" (the monitored metric at the last epoch), "history"}.
    """
    if n < 1:
        raise ValueError(f"random_restarts needs n >= 1, got {n}")
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    best_model, best_value, results = None, math.inf if mode == "min" else -math.inf, []
    for i in range(n):
        st_random.manual_seed(seed + i)
        model, optimizer = build()
        history = train_fn(model, optimizer)
        value = float(history[monitor][-1])
        results.append({"seed": seed + i, "value": value, "history": history})
        better = value < best_value if mode == "min" else value > best_value
        if best_model is None or (math.isfinite(value) and better):
            best_model, best_value = model, value
    return best_model, results

"""Control requests from the page (pause, learning rate, ...): validated here, applied by the
publisher callback between two training steps."""

from __future__ import annotations

import math
from typing import Any

ACTIONS = ("pause", "resume", "set", "checkpoint", "stop_after_epoch")
SETTINGS = {  # name -> (type, lowest allowed, highest allowed (exclusive for momentum))
    "lr": (float, 0.0, 10.0),
    "momentum": (float, 0.0, 1.0),
    "weight_decay": (float, 0.0, 1.0),
    "batch_size": (int, 1, 65536),
}


class ControlError(ValueError):
    """A control request that cannot be applied; the message says what to send instead."""


def parse_control(body: Any) -> dict[str, Any]:
    """A checked control request: {"action": ..., plus for "set" one or more SETTINGS}."""
    if not isinstance(body, dict):
        raise ControlError("a control request is a JSON object like {\"action\": \"pause\"}")
    action = body.get("action")
    if action not in ACTIONS:
        raise ControlError(f"unknown action {action!r}; choose one of {', '.join(ACTIONS)}")
    out: dict[str, Any] = {"action": action}
    if action != "set":
        return out
    for name, (kind, lo, hi) in SETTINGS.items():
        if name not in body or body[name] in (None, ""):
            continue
        value = body[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ControlError(f"{name} must be a number, got {value!r}")
        if kind is int and float(value) != int(value):
            raise ControlError(f"{name} must be a whole number, got {value!r}")
        value = kind(value)
        if not math.isfinite(value) or value < lo or value > hi or (name == "momentum" and value >= hi) \
                or (name == "lr" and value <= 0):
            raise ControlError(f"{name} = {value!r} is out of range [{lo}, {hi}]")
        out[name] = value
    if len(out) == 1:
        raise ControlError(f"\"set\" needs at least one of {', '.join(SETTINGS)}")
    return out


def apply_optimizer_settings(optimizer: Any, change: dict[str, Any]) -> dict[str, Any]:
    """Write lr / momentum / weight_decay into every parameter group (Adam-style optimizers take
    momentum as beta1); returns what was applied."""
    applied: dict[str, Any] = {}
    for group in optimizer.param_groups:
        if "lr" in change:
            group["lr"] = applied["lr"] = change["lr"]
        if "weight_decay" in change and "weight_decay" in group:
            group["weight_decay"] = applied["weight_decay"] = change["weight_decay"]
        if "momentum" in change:
            if "momentum" in group:
                group["momentum"] = applied["momentum"] = change["momentum"]
            elif "betas" in group:
                group["betas"] = (change["momentum"], group["betas"][1])
                applied["momentum"] = change["momentum"]
    return applied


def optimizer_settings(optimizer: Any) -> dict[str, Any]:
    group = optimizer.param_groups[0]
    momentum = group.get("momentum", group.get("betas", (None,))[0])
    return {"optimizer": type(optimizer).__name__, "lr": float(group["lr"]),
            "momentum": None if momentum is None else float(momentum),
            "weight_decay": float(group.get("weight_decay", 0.0))}

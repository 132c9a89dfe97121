"""Layer outputs inside the graph: forward hooks keep the named modules' outputs (still connected
to the input, so losses on them backpropagate to the image) and stop the forward pass as soon
as the last of them has run, so the layers after them (a classifier that expects 28x28 inputs)
never see an input of another size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from striate.autograd.tensor import Tensor
from striate.viz._common import find_module


class _EnoughError(Exception):
    """Raised by the last hook: every requested output is known, the rest of the forward is moot."""


def capture(model: Any, x: Tensor, layers: Sequence[Any], fn: str = "capture") -> dict[str, Tensor]:
    """{path: output tensor} of `layers` (modules or named_modules() paths) for input x; a module
    called several times keeps its last output before the forward pass stops."""
    found = [find_module(model, layer, fn) for layer in layers]
    outputs: dict[str, Tensor] = {}
    wanted = {name for name, _ in found}

    def record(name: str):
        def hook(module: Any, args: Any, out: Any) -> None:
            if not isinstance(out, Tensor):
                raise ValueError(f"{fn}: layer {name!r} returns {type(out).__name__}, not one tensor")
            outputs[name] = out
            if set(outputs) == wanted:
                raise _EnoughError
        return hook

    handles = [m.register_forward_hook(record(name)) for name, m in found]
    try:
        model(x)
    except _EnoughError:
        pass
    finally:
        for h in handles:
            h.remove()
    missing = wanted - set(outputs)
    if missing:
        raise ValueError(f"{fn}: layers {sorted(missing)} were not called in the forward pass")
    return outputs

"""Pretrained weights from files: `st.models.resnet18(weights="resnet18.pth")`.

`load_weights(model, source)` reads a PyTorch checkpoint (`torch.save`, through the code-free
`st.load_torch`), a safetensors file written by PyTorch users (`safetensors.torch.save_file`)
or by `st.save`, or takes a mapping of arrays; unwraps the usual containers (`{"state_dict": ...}`,
`{"model": ...}`, `module.` prefixes from DataParallel) and loads strictly. ResNet, VGG and
GoogLeNet use torchvision's keys, so torchvision's files load as they are; for other layouts
pass `mapping`, a dict {file key: model key} or a function of the file key (returning None
drops the entry).
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from striate.models.pretrained import check_pretrained

Source = str | os.PathLike | Mapping
KeyMapping = Mapping[str, str] | Callable[[str], str | None] | None


def read_state_dict(source: Source) -> dict[str, Any]:
    """The state dict in a file (PyTorch zip/legacy, safetensors) or a mapping, unwrapped."""
    if isinstance(source, Mapping):
        state = source
    else:
        path = os.fspath(source)
        with open(path, "rb") as f:
            head = f.read(8)
        if path.endswith(".safetensors") or (
            len(head) == 8
            and not head.startswith(b"PK")
            and int.from_bytes(head, "little") < os.path.getsize(path)
            and _looks_like_safetensors(path)
        ):
            state = _read_safetensors(path)
        else:
            from striate.io_torch import load_torch

            state = load_torch(path)
    for wrapper in ("state_dict", "model_state_dict", "model"):
        if isinstance(state, Mapping) and isinstance(state.get(wrapper), Mapping):
            state = state[wrapper]
            break
    if not isinstance(state, Mapping):
        raise ValueError(f"{source}: holds a {type(state).__name__}, not a state dict of tensors")
    if state and all(isinstance(k, str) and k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return dict(state)


def _looks_like_safetensors(path: str) -> bool:
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        return n < 1 << 27 and f.read(1) == b"{"


def _read_safetensors(path: str) -> dict[str, Any]:
    import json

    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n)) if n < 1 << 27 else {}
    if "striate" in header.get("__metadata__", {}):
        from striate.io import load

        return load(path)
    from safetensors.numpy import load_file

    return load_file(path)


def _remap(state: dict[str, Any], mapping: KeyMapping) -> dict[str, Any]:
    if mapping is None:
        return state
    out = {}
    for key, value in state.items():
        new = mapping(key) if callable(mapping) else mapping.get(key, key)
        if new is not None:
            out[new] = value
    return out


def load_weights(model: Any, source: Source, mapping: KeyMapping = None, strict: bool = True) -> Any:
    """Load a checkpoint into `model` (keys and shapes checked first; see the module's docstring)."""
    state = _remap(read_state_dict(source), mapping)
    state = {
        k: (v.numpy() if hasattr(v, "numpy") and not isinstance(v, np.ndarray) else v)
        for k, v in state.items()
    }
    try:
        model.load_state_dict(state, strict=strict)
    except (RuntimeError, ValueError, KeyError) as exc:
        raise ValueError(
            f"weights from {source if not isinstance(source, Mapping) else 'the mapping'} do not fit "
            f"{type(model).__name__}: {exc} Pass mapping={{file key: model key}} (or a function) "
            "when the file's layout differs."
        ) from None
    return model


def with_weights(factory: Callable[..., Any], default_mapping: KeyMapping = None) -> Callable[..., Any]:
    """`factory(..., weights=None, weights_mapping=None)`: build, then load the weights if given
    (through `default_mapping` when no mapping is passed: DenseNet's old key spelling).

    torchvision's `pretrained=True`, `weights="IMAGENET1K_V1"` or `weights=ResNet18_Weights.DEFAULT`
    raise an error naming the file to load from disk (`models.pretrained`); `progress` is accepted."""

    @functools.wraps(factory)
    def build(
        *args: Any, weights: Source | None = None, weights_mapping: KeyMapping = None,
        pretrained: bool | None = None, progress: bool = True, **kwargs: Any
    ) -> Any:
        check_pretrained(factory.__name__, weights, pretrained)  # issue 21: torchvision's arguments
        model = factory(*args, **kwargs)
        if weights is not None:
            load_weights(model, weights, default_mapping if weights_mapping is None else weights_mapping)
        return model

    build.__signature__ = _signature_with_weights(factory)  # help() and striate.compat show weights=
    return build


def _signature_with_weights(factory: Callable[..., Any]) -> inspect.Signature:
    """The factory's signature plus the keyword-only weights, weights_mapping, pretrained, progress."""
    params = list(inspect.signature(factory).parameters.values())
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
             for name, default in (("weights", None), ("weights_mapping", None), ("pretrained", None),
                                   ("progress", True))]
    tail = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
    head = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD and p.name not in
            {"weights", "weights_mapping", "pretrained", "progress"}]
    return inspect.Signature(head + extra + tail)

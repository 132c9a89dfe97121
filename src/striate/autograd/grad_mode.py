"""Grad mode: whether operations record the graph (`st.no_grad()`, `st.enable_grad()`,
`st.set_grad_enabled`). Its own module so that the tensor (which checks the mode before an
in-place change) and the graph engine (which records under it) both import it, one way."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

# Grad mode lives in a one-element list: reading `_GRAD_ENABLED[0]` is the cheapest global
# check Python offers on the per-op hot path.
_GRAD_ENABLED = [True]
# Inference mode: grad mode off, and every tensor made meanwhile is marked (`is_inference()`).
_INFERENCE = [False]


def is_grad_enabled() -> bool:
    """True when operations record the graph (outside `st.no_grad()`)."""
    return _GRAD_ENABLED[0]


def _decorate(manager_factory: Callable[[], Any], fn: Callable) -> Callable:
    """`fn` wrapped so that each call runs inside a fresh context manager."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with manager_factory():
            return fn(*args, **kwargs)

    return wrapper


class set_grad_enabled:
    """Switch graph recording on or off: as a plain call (`st.set_grad_enabled(False)`, takes
    effect at once), as a context manager (restores the previous mode on exit) or as a
    decorator (the mode holds during each call), like `torch.set_grad_enabled`."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = _GRAD_ENABLED[0]
        _GRAD_ENABLED[0] = self.mode

    def __enter__(self) -> set_grad_enabled:
        return self

    def __exit__(self, *exc: object) -> None:
        _GRAD_ENABLED[0] = self.prev

    def __call__(self, fn: Callable) -> Callable:
        _GRAD_ENABLED[0] = self.prev  # decorating must not switch the mode for the caller
        mode = self.mode
        return _decorate(lambda: set_grad_enabled(mode), fn)


class no_grad:
    """`with st.no_grad():` records nothing; results do not require grad.

    Usable as a decorator too, with or without parentheses (`@st.no_grad()` or
    `@st.no_grad`), like `torch.no_grad`.
    """

    _mode = False

    def __new__(cls, fn: Callable | None = None) -> Any:
        if fn is None:
            return super().__new__(cls)
        if not callable(fn):
            raise TypeError(f"{cls.__name__}() takes no arguments (or a function to decorate), got {fn!r}")
        return _decorate(cls, fn)

    def __enter__(self) -> no_grad:
        self.prev = _GRAD_ENABLED[0]
        _GRAD_ENABLED[0] = self._mode
        return self

    def __exit__(self, *exc: object) -> None:
        _GRAD_ENABLED[0] = self.prev

    def __call__(self, fn: Callable) -> Callable:  # decorator form: @st.no_grad()
        return _decorate(type(self), fn)


class enable_grad(no_grad):
    """Re-enables recording inside a `no_grad` block (context manager or decorator)."""

    _mode = True


class inference_mode:
    """`with st.inference_mode():` like `no_grad`, and tensors made inside say `is_inference()`.

    Also a decorator (`@st.inference_mode()` or `@st.inference_mode`), and `inference_mode(False)`
    switches it off inside an outer block, like `torch.inference_mode`. An inference tensor
    cannot be changed in place outside inference mode (PyTorch's error)."""

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):
            return _decorate(cls, mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> inference_mode:
        self.prev = (_GRAD_ENABLED[0], _INFERENCE[0])
        if self.mode:
            _GRAD_ENABLED[0], _INFERENCE[0] = False, True
        else:
            _INFERENCE[0] = False
        return self

    def __exit__(self, *exc: object) -> None:
        _GRAD_ENABLED[0], _INFERENCE[0] = self.prev

    def __call__(self, fn: Callable) -> Callable:  # decorator form: @st.inference_mode()
        mode = self.mode
        return _decorate(lambda: inference_mode(mode), fn)

    def clone(self) -> inference_mode:
        return inference_mode(self.mode)


def is_inference_mode_enabled() -> bool:
    """True inside `st.inference_mode()`."""
    return _INFERENCE[0]

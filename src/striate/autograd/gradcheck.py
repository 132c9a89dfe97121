"""`st.autograd.gradcheck`: compare backpropagated gradients with finite differences.

For a random output weighting v, the analytic vector-Jacobian product dot(v, f(x)) is taken
with one backward pass; each input element is then nudged by +-eps and the central difference

    (dot(v, f(x + eps e_i)) - dot(v, f(x - eps e_i))) / (2 eps)

must agree with it. Run it in float64: in float32 the differences drown in rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from striate.autograd.function import no_grad
from striate.autograd.tensor import Tensor


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree; the message names the worst element."""


def _outputs(result: Any) -> list[Tensor]:
    if isinstance(result, Tensor):
        return [result]
    return [r for r in result if isinstance(r, Tensor)]


def gradcheck(fn: Callable[..., Any], inputs: Sequence[Any] | Tensor, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              seed: int = 0) -> bool:
    """Check `fn`'s gradients w.r.t. every input that requires grad.

    Returns True when |analytic - numeric| <= atol + rtol * |numeric| everywhere; otherwise
    raises GradcheckError naming the input, the worst element and both values (or returns
    False with `raise_exception=False`).
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input has requires_grad=True; nothing to check")
    for i in wrt:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need float64 "
                "(make it with dtype=st.float64)"
            )
        # nudged in place below; reshape: ascontiguousarray turns a 0-d array into shape (1,)
        inputs[i].array = np.ascontiguousarray(inputs[i].array).reshape(inputs[i].shape)
    rng = np.random.default_rng(seed)
    outs = _outputs(fn(*inputs))
    weights = [rng.standard_normal(o.shape) for o in outs]

    def weighted(result: Any) -> float:
        return float(sum((w * o.array).sum() for w, o in zip(weights, _outputs(result))))

    for i in wrt:
        inputs[i].grad = None
    total = None
    for w, o in zip(weights, outs):
        if not o.requires_grad:
            continue
        term = (o * Tensor(w, dtype=o.dtype)).sum()
        total = term if total is None else total + term
    if total is None:
        raise GradcheckError("gradcheck: no output requires grad; the function cut the graph")
    total.backward()

    for i in wrt:
        x = inputs[i]
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.array
        numeric = np.zeros(x.shape)
        flat = x.array.reshape(-1)
        with no_grad():
            for k in range(flat.size):
                orig = flat[k]
                flat[k] = orig + eps
                plus = weighted(fn(*inputs))
                flat[k] = orig - eps
                minus = weighted(fn(*inputs))
                flat[k] = orig
                numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if err.size and err.max() > 0:
            worst = np.unravel_index(int(err.argmax()), err.shape)
            msg = (
                f"gradcheck: gradient of input {i} (shape {x.shape}) is wrong at element "
                f"{tuple(int(j) for j in worst)}: backward gives {analytic[worst]:.10g}, finite "
                f"differences give {numeric[worst]:.10g} (atol={atol}, rtol={rtol})"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True

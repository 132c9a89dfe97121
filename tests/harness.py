"""One table-driven harness for operator parity with PyTorch and float64 gradient checks.

An `OpCase` says how to build inputs, how to call striate and how to call PyTorch; `check_case`
does the rest:

1. float32: forward values and every input gradient (for a random upstream gradient) agree
   with PyTorch within `rtol32`, once with contiguous and once with non-contiguous NumPy inputs;
2. float64: the same within `rtol64`;
3. `st.autograd.gradcheck` in float64 (finite differences) on the same inputs when they are
   small, or on `small_inputs` when given.

Tolerance: elementwise |striate - torch| <= rtol * (|torch| + max|torch|), i.e. relative to
each element, floored at rtol times the tensor's largest magnitude (so an element that is
~0 by cancellation is judged against the tensor's scale, not against 0).

Adding an op means adding rows (OpCase instances) in a test module and parametrizing a test
over them with `check_case`; no copy-paste of comparison code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import striate as st

GRADCHECK_MAX_ELEMENTS = 400


@dataclass
class OpCase:
    name: str
    inputs: Callable[[np.random.Generator], Sequence[np.ndarray]]
    striate: Callable[..., Any]
    torch: Callable[..., Any]
    grad: tuple[int, ...] | None = None  # which inputs get gradients (default: every float input)
    rtol32: float = 1e-5
    rtol64: float = 1e-10
    gradcheck: bool = True
    small_inputs: Callable[[np.random.Generator], Sequence[np.ndarray]] | None = None
    backward: bool = True
    seed: int = 0
    notes: str = ""
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:  # pytest ids
        return self.name


def _outputs(result: Any) -> list:
    if isinstance(result, (st.Tensor, torch.Tensor)):
        return [result]
    return [r for r in result if isinstance(r, (st.Tensor, torch.Tensor))]


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float, what: str) -> None:
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != torch's {expected.shape}"
    if expected.size == 0:
        return
    both_nan = np.isnan(actual) & np.isnan(expected)
    scale = float(np.nanmax(np.abs(np.where(np.isfinite(expected), expected, 0)))) if expected.size else 0
    with np.errstate(invalid="ignore"):  # inf - inf where both are inf: judged by same_inf below
        err = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    allowed = rtol * (np.abs(expected.astype(np.float64)) + scale)
    same_inf = np.isinf(expected) & (actual == expected)
    bad = ~(both_nan | same_inf | (err <= allowed))
    if bad.any():
        i = np.unravel_index(int(np.argmax(np.where(bad, err - allowed, -np.inf))), bad.shape)
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} elements differ; worst at {i}: striate "
            f"{actual[i]!r} vs torch {expected[i]!r} (rtol {rtol}, scale {scale:.3g})"
        )


def _noncontiguous(a: np.ndarray) -> np.ndarray:
    """The same values in a strided (non-contiguous) view."""
    if a.ndim == 0 or a.size == 0:
        return a
    holder = np.empty(a.shape + (2,), a.dtype)
    holder[..., 0] = a
    return holder[..., 0]


def _grad_indices(case: OpCase, arrays: Sequence[np.ndarray]) -> tuple[int, ...]:
    if case.grad is not None:
        return case.grad
    return tuple(i for i, a in enumerate(arrays) if np.asarray(a).dtype.kind == "f")


def _cast(arrays: Sequence[np.ndarray], dtype) -> list[np.ndarray]:
    return [np.asarray(a, dtype) if np.asarray(a).dtype.kind == "f" else np.asarray(a) for a in arrays]


def run_parity(case: OpCase, dtype, contiguous: bool = True) -> None:
    rng = np.random.default_rng(case.seed)
    arrays = _cast(case.inputs(rng), dtype)
    grads = _grad_indices(case, arrays)
    st_in, th_in = [], []
    for i, a in enumerate(arrays):
        src = a if contiguous else _noncontiguous(a)
        t = st.from_numpy(src)
        if i in grads and case.backward:
            t.requires_grad_(True)
        st_in.append(t)
        th_in.append(torch.tensor(a, requires_grad=(i in grads and case.backward)))
    rtol = case.rtol32 if dtype == np.float32 else case.rtol64
    tag = f"{case.name} [{np.dtype(dtype).name}{'' if contiguous else ', non-contiguous'}]"
    outs_s = _outputs(case.striate(*st_in))
    outs_t = _outputs(case.torch(*th_in))
    assert len(outs_s) == len(outs_t), f"{tag}: {len(outs_s)} outputs vs torch's {len(outs_t)}"
    for k, (a, b) in enumerate(zip(outs_s, outs_t)):
        b_np = b.detach().numpy()
        if b_np.dtype.kind == "f":
            assert a.dtype == b_np.dtype, f"{tag}: output {k} dtype {a.dtype} vs torch {b_np.dtype}"
        assert_close(a.numpy(), b_np, rtol, f"{tag} output {k}")
    if not case.backward or not grads:
        return
    loss_s, loss_t = None, None
    for a, b in zip(outs_s, outs_t):
        if not b.requires_grad:
            continue
        w = rng.standard_normal(b.shape).astype(dtype)
        ls = (a * st.from_numpy(w)).sum()
        lt = (b * torch.from_numpy(w)).sum()
        loss_s = ls if loss_s is None else loss_s + ls
        loss_t = lt if loss_t is None else loss_t + lt
    assert loss_t is not None, f"{tag}: torch output does not require grad"
    loss_s.backward()
    loss_t.backward()
    for i in grads:
        gt = th_in[i].grad
        gs = st_in[i].grad
        if gt is None:
            assert gs is None or not np.any(gs.numpy()), f"{tag}: striate has a gradient for input {i}"
            continue
        assert gs is not None, f"{tag}: no gradient reached input {i}"
        assert gs.dtype == np.dtype(dtype), f"{tag}: grad {i} dtype {gs.dtype}"
        assert_close(gs.numpy(), gt.numpy(), rtol, f"{tag} d/dinput{i}")


def run_gradcheck(case: OpCase) -> None:
    rng = np.random.default_rng(case.seed + 1)
    source = case.small_inputs or case.inputs
    arrays = _cast(source(rng), np.float64)
    grads = _grad_indices(case, arrays)
    n = sum(arrays[i].size for i in grads)
    if n > GRADCHECK_MAX_ELEMENTS:
        raise AssertionError(
            f"{case.name}: {n} input elements is too many for gradcheck; give small_inputs"
        )
    ts = []
    for i, a in enumerate(arrays):
        t = st.from_numpy(a.copy())
        if i in grads:
            t.requires_grad_(True)
        ts.append(t)
    st.autograd.gradcheck(case.striate, ts, eps=1e-6, atol=1e-6, rtol=1e-4)


def check_case(case: OpCase) -> None:
    """The whole check for one row: float32 (contiguous and not), float64, gradcheck."""
    run_parity(case, np.float32, contiguous=True)
    run_parity(case, np.float32, contiguous=False)
    run_parity(case, np.float64, contiguous=True)
    if case.gradcheck and case.backward:
        run_gradcheck(case)

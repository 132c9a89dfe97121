"""The named products: `mm`, `bmm`, `mv`, `dot`, `outer` and `einsum`.

`mm`, `bmm`, `mv` and `dot` are `matmul` with PyTorch's stricter shape checks (no broadcasting,
exact ranks), so they share its backward: for Z = X Y, dL/dX = dL/dZ Y^T, dL/dY = X^T dL/dZ.
`outer(x, y)_ij = x_i y_j` is a broadcast product. `einsum` computes with `numpy.einsum`; its
backward is einsum again: the gradient of operand k is the output gradient contracted with every
other operand, written to operand k's subscripts (letters that only operand k has are summed in
the forward, so their gradient is broadcast back).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.linalg import matmul


def _need(t: Any, ndim: int, name: str, arg: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be a Tensor, got {type(t).__name__}")
    if t.ndim != ndim:
        raise RuntimeError(f"{name}(): {arg} must be a {ndim}-D tensor, got {t.ndim}-D of shape {t.shape}")


def _same_dtype(a: Tensor, b: Tensor, name: str) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(f"{name}(): expected both operands to have the same dtype, but found "
                           f"{a.dtype} and {b.dtype}; convert one (e.g. .to(other.dtype))")


def mm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002 - PyTorch's argument name
    """(n, m) @ (m, p) -> (n, p), no broadcasting."""
    _need(input, 2, "mm", "input")
    _need(mat2, 2, "mm", "mat2")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mm(): shapes {input.shape} and {mat2.shape} cannot be multiplied "
                           f"({input.shape[1]} columns vs {mat2.shape[0]} rows)")
    _same_dtype(input, mat2, "mm")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """(b, n, m) @ (b, m, p) -> (b, n, p): one matrix product per batch entry, no broadcasting."""
    _need(input, 3, "bmm", "input (batch1)")
    _need(mat2, 3, "bmm", "mat2 (batch2)")
    b, _, m = input.shape
    if mat2.shape[:2] != (b, m):
        raise RuntimeError(f"bmm(): mat2 of shape {mat2.shape} does not fit input {input.shape}: "
                           f"its first two dimensions must be ({b}, {m})")
    _same_dtype(input, mat2, "bmm")
    return matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:  # noqa: A002
    """(n, m) @ (m,) -> (n,)."""
    _need(input, 2, "mv", "input")
    _need(vec, 1, "mv", "vec")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"mv(): matrix {input.shape} and vector {vec.shape} do not fit "
                           f"({input.shape[1]} columns vs {vec.shape[0]} entries)")
    _same_dtype(input, vec, "mv")
    return matmul(input, vec)


def dot(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """sum_i x_i y_i of two 1-D tensors of the same length (a 0-d result)."""
    _need(input, 1, "dot", "input")
    _need(other, 1, "dot", "tensor")
    if input.shape != other.shape:
        raise RuntimeError(f"dot(): both vectors need the same number of elements, got "
                           f"{input.shape[0]} and {other.shape[0]}")
    _same_dtype(input, other, "dot")
    return matmul(input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """outer(x, y)_ij = x_i y_j for 1-D x (n,) and y (m,) -> (n, m)."""
    _need(input, 1, "outer", "input")
    _need(vec2, 1, "outer", "vec2")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer  # the old PyTorch name


# ---------------------------------------------------------------------------------- einsum
def _explicit(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Parse 'ij,jk->ik' (or the implicit 'ij,jk'); '...' becomes unused letters."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum(): the equation {equation!r} names {len(terms)} operands but "
                         f"{len(shapes)} were given")
    used = {c for c in eq if c.isalpha()}
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used]
    n_ell = max((len(s) - (len(t) - 3) for t, s in zip(terms, shapes) if "..." in t), default=0)
    ell = "".join(spare[:n_ell])
    out_terms = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            t = t.replace("...", ell[n_ell - k:] if k else "")
        if len(t) != len(s):
            raise ValueError(f"einsum(): the subscripts {t!r} have {len(t)} letters but the operand "
                             f"has {len(s)} dimensions (shape {s})")
        if len(set(t)) != len(t):
            raise ValueError(f"einsum(): repeated subscripts within one operand ({t!r}, a diagonal) "
                             "are not supported; take torch.diagonal-style slices first")
        out_terms.append(t)
    if arrow:
        rhs = rhs.replace("...", ell)
    else:  # implicit mode: the letters that appear once, in alphabetical order, after '...'
        counts = {c: "".join(out_terms).count(c) for c in set("".join(out_terms))}
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return out_terms, rhs


class Einsum(Function):
    """z = einsum(eq, x_1, ..., x_n);  dL/dx_k = einsum(dL/dz and every x_j, j != k -> x_k's subscripts)."""

    # every operand's values feed the others' gradients; the version check (saves_inputs) is
    # per position and the operand count varies, so einsum does not check in-place changes

    def forward(self, *arrays, terms, out):
        self.arrays, self.terms, self.out = arrays, terms, out
        # optimize=True lets NumPy contract pairs with BLAS (tensordot) instead of its C loop
        return np.einsum(",".join(terms) + "->" + out, *arrays, optimize=True)

    def backward(self, g):
        needs = self.needs_input_grad
        grads = []
        for k, (arr, term) in enumerate(zip(self.arrays, self.terms)):
            if not needs[k]:
                grads.append(None)
                continue
            others = [(t, a) for j, (t, a) in enumerate(zip(self.terms, self.arrays)) if j != k]
            known = set(self.out).union(*[set(t) for t, _ in others])
            target = "".join(c for c in term if c in known)
            subs = ",".join([self.out] + [t for t, _ in others]) + "->" + target
            gk = np.einsum(subs, g, *[a for _, a in others], optimize=True)
            shape = [arr.shape[i] if c in known else 1 for i, c in enumerate(term)]
            grads.append(np.ascontiguousarray(np.broadcast_to(gk.reshape(shape), arr.shape)))
        return tuple(grads)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, like `torch.einsum('bij,bjk->bik', a, b)` (operands may also be one list)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands or not all(isinstance(t, Tensor) for t in operands):
        raise TypeError("einsum(): give the equation and then Tensors, e.g. einsum('ij,jk->ik', a, b)")
    dtypes = {t.dtype for t in operands}
    if len(dtypes) > 1:
        raise RuntimeError(f"einsum(): all operands need the same dtype, got {sorted(map(str, dtypes))}")
    terms, out = _explicit(equation, [t.shape for t in operands])
    try:
        result = Einsum.apply(*operands, terms=tuple(terms), out=out)
    except ValueError as e:
        raise RuntimeError(f"einsum(): operands of shapes {[t.shape for t in operands]} do not fit "
                           f"{equation!r}: {e}") from None
    if result.array.dtype != operands[0].dtype:
        result.array = result.array.astype(operands[0].dtype)
    return result

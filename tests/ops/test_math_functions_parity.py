"""Issue 21's tensor functions against PyTorch, forward and backward, through the harness table.

Unary functions (trig, hyperbolic, log1p/expm1, rounding), the named products (mm, bmm, mv, dot,
outer, einsum), norms, cumulative ops and rearrangements, on shapes including 0-d, empty,
size-1 and negative dims; float32 within 1e-5 relative, float64 within 1e-10, and a float64
finite-difference gradcheck on each row.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import striate as st
from harness import OpCase, check_case

ROWS: list[OpCase] = []


def row(name: str, inputs, s, t, **kw) -> None:
    ROWS.append(OpCase(name=name, inputs=inputs, striate=s, torch=t, **kw))


def normal(*shapes, scale=1.0):
    return lambda rng: [scale * rng.standard_normal(s) for s in shapes]


def uniform(low, high, *shapes):
    return lambda rng: [rng.uniform(low, high, s) for s in shapes]


def off_integers(*shapes):
    """Values at least 0.1 away from any integer (floor/ceil/round have kinks there)."""
    return lambda rng: [rng.integers(-4, 4, s) + rng.uniform(0.1, 0.4, s) for s in shapes]


UNARY_SHAPES = [(3, 4), (), (0, 3)]
UNARY = {  # name: input generator
    "sin": lambda s: normal(s, scale=3), "cos": lambda s: normal(s, scale=3),
    "tan": lambda s: uniform(-1.2, 1.2, s), "sinh": lambda s: normal(s, scale=2),
    "cosh": lambda s: normal(s, scale=2), "asin": lambda s: uniform(-0.9, 0.9, s),
    "acos": lambda s: uniform(-0.9, 0.9, s), "atan": lambda s: normal(s, scale=3),
    "asinh": lambda s: normal(s, scale=3), "acosh": lambda s: uniform(1.2, 4, s),
    "atanh": lambda s: uniform(-0.9, 0.9, s), "log1p": lambda s: uniform(-0.9, 3, s),
    "expm1": lambda s: normal(s), "log2": lambda s: uniform(0.2, 4, s),
    "log10": lambda s: uniform(0.2, 4, s), "rsqrt": lambda s: uniform(0.3, 4, s),
    "reciprocal": lambda s: uniform(0.3, 4, s), "square": lambda s: normal(s),
    "floor": off_integers, "ceil": off_integers, "trunc": off_integers, "round": off_integers,
    "sign": lambda s: normal(s), "erf": lambda s: normal(s, scale=2),
}
for _name, _gen in UNARY.items():
    for _shape in UNARY_SHAPES:
        row(f"{_name}{_shape}", _gen(_shape), getattr(st, _name), getattr(torch, _name))
    row(f"Tensor.{_name}", _gen((2, 3)), lambda x, n=_name: getattr(x, n)(),
        lambda x, n=_name: getattr(x, n)())
row("round(decimals=2)", normal((3, 4), scale=5), lambda x: st.round(x, decimals=2),
    lambda x: torch.round(x, decimals=2), gradcheck=False)

# ------------------------------------------------------------------ products
row("mm", normal((3, 4), (4, 5)), st.mm, torch.mm)
row("mm empty", normal((0, 4), (4, 2)), st.mm, torch.mm)
row("mm k=0", normal((3, 0), (0, 2)), st.mm, torch.mm)
row("Tensor.mm", normal((2, 3), (3, 1)), lambda a, b: a.mm(b), lambda a, b: a.mm(b))
row("bmm", normal((2, 3, 4), (2, 4, 5)), st.bmm, torch.bmm)
row("bmm batch 1", normal((1, 1, 4), (1, 4, 1)), st.bmm, torch.bmm)
row("bmm empty batch", normal((0, 3, 4), (0, 4, 2)), st.bmm, torch.bmm)
row("Tensor.bmm", normal((3, 2, 2), (3, 2, 4)), lambda a, b: a.bmm(b), lambda a, b: a.bmm(b))
row("mv", normal((3, 4), (4,)), st.mv, torch.mv)
row("dot", normal((7,), (7,)), st.dot, torch.dot)
row("dot empty", normal((0,), (0,)), st.dot, torch.dot)
row("outer", normal((3,), (4,)), st.outer, torch.outer)
row("outer empty", normal((0,), (4,)), st.outer, torch.outer)
for eq, shapes in [("ij,jk->ik", ((3, 4), (4, 5))), ("bij,bjk->bik", ((2, 3, 4), (2, 4, 2))),
                   ("ij->ji", ((3, 4),)), ("ij->", ((3, 4),)), ("ij->j", ((3, 4),)),
                   ("i,j->ij", ((3,), (4,))), ("i,i->", ((5,), (5,))), ("bi,bi->b", ((3, 4), (3, 4))),
                   ("...ij,...jk->...ik", ((2, 3, 4), (2, 4, 2))), ("ik,kj", ((2, 3), (3, 2))),
                   ("abc,cd,de->abe", ((2, 3, 4), (4, 3), (3, 2))), ("ij,k->ik", ((2, 3), (4,)))]:
    row(f"einsum {eq}", normal(*shapes), lambda *a, e=eq: st.einsum(e, *a),
        lambda *a, e=eq: torch.einsum(e, *a))

# ------------------------------------------------------------------ norms
NORM_SHAPES = [((3, 4), None), ((3, 4), 1), ((3, 4), -1), ((2, 3, 4), (0, 2)), ((5,), 0), ((), None)]
for _shape, _dim in NORM_SHAPES:
    for _p in (2, 1, math.inf, 3) if _dim != 1 else (2, 1, math.inf, -math.inf, 3, 0.5, 0):
        if _shape == () and _p != 2:
            continue
        row(f"vector_norm p={_p} {_shape} dim={_dim}", normal(_shape),
            lambda x, p=_p, d=_dim: st.linalg.vector_norm(x, p, d),
            lambda x, p=_p, d=_dim: torch.linalg.vector_norm(x, p, d))
    row(f"Tensor.norm {_shape} dim={_dim} keepdim", normal(_shape),
        lambda x, d=_dim: x.norm(dim=d, keepdim=True), lambda x, d=_dim: x.norm(dim=d, keepdim=True))
row("norm p=1 over dim", normal((3, 4)), lambda x: st.norm(x, p=1, dim=1),
    lambda x: torch.norm(x, p=1, dim=1))
row("vector_norm empty", normal((0, 3)), lambda x: st.linalg.vector_norm(x),
    lambda x: torch.linalg.vector_norm(x))
row("vector_norm zero vector", lambda rng: [np.zeros((2, 3))], lambda x: st.linalg.vector_norm(x, dim=1),
    lambda x: torch.linalg.vector_norm(x, dim=1), gradcheck=False)
for _ord in ("fro", 1, -1, math.inf, -math.inf):
    row(f"linalg.norm matrix ord={_ord}", normal((3, 4)), lambda x, o=_ord: st.linalg.norm(x, o),
        lambda x, o=_ord: torch.linalg.norm(x, o))
    row(f"matrix_norm batched ord={_ord} keepdim", normal((2, 3, 4)),
        lambda x, o=_ord: st.linalg.matrix_norm(x, o, keepdim=True),
        lambda x, o=_ord: torch.linalg.matrix_norm(x, o, keepdim=True))
row("linalg.norm default", normal((2, 3, 4)), st.linalg.norm, torch.linalg.norm)
row("linalg.norm ord=3 dim=-1", normal((2, 3)), lambda x: st.linalg.norm(x, 3, -1),
    lambda x: torch.linalg.norm(x, 3, -1))

# ------------------------------------------------------------------ cumulative
for _shape, _dim in [((3, 4), 1), ((3, 4), 0), ((3, 4), -1), ((5,), 0), ((), 0), ((0, 3), 1), ((2, 3, 2), 1)]:
    row(f"cumsum {_shape} dim={_dim}", normal(_shape), lambda x, d=_dim: st.cumsum(x, d),
        lambda x, d=_dim: torch.cumsum(x, d))
    row(f"cumprod {_shape} dim={_dim}", normal(_shape), lambda x, d=_dim: x.cumprod(d),
        lambda x, d=_dim: x.cumprod(d))
    row(f"prod {_shape} dim={_dim}", normal(_shape), lambda x, d=_dim: x.prod(d),
        lambda x, d=_dim: x.prod(d))
row("prod all", normal((2, 3)), st.prod, torch.prod)
row("prod keepdim", normal((2, 3)), lambda x: x.prod(1, keepdim=True), lambda x: x.prod(1, keepdim=True))


def with_zeros(shape, zeros):
    def make(rng):
        x = rng.standard_normal(shape)
        x.reshape(-1)[list(zeros)] = 0.0
        return [x]
    return make


row("prod one zero", with_zeros((2, 4), (1,)), lambda x: x.prod(1), lambda x: x.prod(1))
row("prod two zeros", with_zeros((2, 4), (1, 2)), lambda x: x.prod(1), lambda x: x.prod(1))
row("prod all, one zero", with_zeros((3, 2), (4,)), st.prod, torch.prod)
row("cumprod with zeros", with_zeros((2, 5), (1, 3, 7)), lambda x: x.cumprod(1), lambda x: x.cumprod(1))

# ------------------------------------------------------------------ rearranging
row("flip 0", normal((3, 4)), lambda x: st.flip(x, [0]), lambda x: torch.flip(x, [0]))
row("flip (0, -1)", normal((2, 3, 4)), lambda x: x.flip(0, -1), lambda x: x.flip(0, -1))
row("flip 0-d", normal(()), lambda x: st.flip(x, []), lambda x: torch.flip(x, []))
row("fliplr", normal((2, 3)), st.fliplr, torch.fliplr)
row("flipud", normal((2, 3)), st.flipud, torch.flipud)
row("roll flat", normal((3, 4)), lambda x: st.roll(x, 5), lambda x: torch.roll(x, 5))
row("roll dims", normal((3, 4)), lambda x: x.roll((1, -2), (0, 1)), lambda x: x.roll((1, -2), (0, 1)))
row("roll repeated dim", normal((3, 4)), lambda x: x.roll((1, 2), (1, 1)), lambda x: x.roll((1, 2), (1, 1)))
row("roll empty", normal((0, 4)), lambda x: x.roll(1, 1), lambda x: x.roll(1, 1))
row("tile", normal((2, 3)), lambda x: st.tile(x, (2,)), lambda x: torch.tile(x, (2,)))
row("tile more dims", normal((2, 3)), lambda x: x.tile(2, 1, 2), lambda x: x.tile(2, 1, 2))
row("repeat", normal((2, 3)), lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3))
for _k in (0, 1, -1, 5):
    row(f"tril k={_k}", normal((3, 4)), lambda x, k=_k: st.tril(x, k), lambda x, k=_k: torch.tril(x, k))
    row(f"triu batched k={_k}", normal((2, 4, 3)), lambda x, k=_k: x.triu(k), lambda x, k=_k: x.triu(k))
    row(f"diag 1-D k={_k}", normal((3,)), lambda x, k=_k: st.diag(x, k), lambda x, k=_k: torch.diag(x, k))
    row(f"diag 2-D k={_k}", normal((3, 4)), lambda x, k=_k: x.diag(k), lambda x, k=_k: x.diag(k))
row("meshgrid ij", normal((3,), (4,)), lambda a, b: st.meshgrid(a, b, indexing="ij"),
    lambda a, b: torch.meshgrid(a, b, indexing="ij"))
row("meshgrid xy", normal((3,), (4,)), lambda a, b: st.meshgrid(a, b, indexing="xy"),
    lambda a, b: torch.meshgrid(a, b, indexing="xy"))
row("meshgrid xy three", normal((2,), (3,), (4,)), lambda *a: st.meshgrid(*a, indexing="xy"),
    lambda *a: torch.meshgrid(*a, indexing="xy"))
row("meshgrid 0-d and list", normal((), (3,)), lambda a, b: st.meshgrid([a, b], indexing="ij"),
    lambda a, b: torch.meshgrid([a, b], indexing="ij"))


# ------------------------------------------------------------------ views and logsumexp
for _shape, _dim in [((3, 4), 1), ((3, 4), (0, 1)), ((2, 3, 4), -2), ((), 0), ((0, 3), 1)]:
    row(f"logsumexp {_shape} dim={_dim}", normal(_shape, scale=3), lambda x, d=_dim: st.logsumexp(x, d),
        lambda x, d=_dim: torch.logsumexp(x, d))
row("logsumexp keepdim", normal((3, 4)), lambda x: x.logsumexp(1, keepdim=True),
    lambda x: x.logsumexp(1, keepdim=True))
row("unbind", normal((3, 4)), lambda x: st.unbind(x, 1), lambda x: torch.unbind(x, 1))
row("narrow", normal((3, 5)), lambda x: x.narrow(1, -3, 2), lambda x: x.narrow(1, -3, 2))
row("movedim", normal((2, 3, 4)), lambda x: st.movedim(x, (0, 1), (2, 0)),
    lambda x: torch.movedim(x, (0, 1), (2, 0)))
row("swapaxes", normal((2, 3, 4)), lambda x: x.swapaxes(0, 2), lambda x: x.swapaxes(0, 2))
row("broadcast_to", normal((3, 1)), lambda x: st.broadcast_to(x, (2, 3, 4)),
    lambda x: torch.broadcast_to(x, (2, 3, 4)))
row("masked_select", lambda rng: [rng.standard_normal((3, 4)), rng.random(4) > 0.5],
    lambda x, m: st.masked_select(x, m), lambda x, m: torch.masked_select(x, m))


@pytest.mark.parametrize("case", ROWS, ids=str)
def test_parity(case: OpCase) -> None:
    check_case(case)

"""Every engine operator against PyTorch: one table, rows generated programmatically.

Each row is an `OpCase` (see tests/harness.py): the harness checks the forward values and the
gradients for a random upstream gradient in float32 (contiguous and non-contiguous NumPy inputs,
within 1e-5 relative) and float64 (within 1e-10), then runs a float64 finite-difference
gradcheck. Shapes include size-1 and broadcast dimensions, 0-d tensors and empty tensors.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import striate as st
import striate.nn.functional as F
from harness import OpCase, check_case

ROWS: list[OpCase] = []


def row(name: str, inputs, s, t, **kw) -> None:
    ROWS.append(OpCase(name=name, inputs=inputs, striate=s, torch=t, **kw))


def normal(*shapes):
    """Inputs: one standard-normal array per shape."""
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def positive(*shapes, low=0.5):
    """Inputs bounded away from zero (log, sqrt, division, fractional powers)."""
    return lambda rng: [low + rng.random(s) * 2 for s in shapes]


def away_from_zero(*shapes):
    """Signed inputs with |x| >= 0.5 (denominators, abs)."""
    def make(rng):
        out = []
        for s in shapes:
            x = rng.standard_normal(s)
            out.append(np.where(x >= 0, 1, -1) * (0.5 + np.abs(x)))
        return out
    return make


def small_ints(*shapes, low=-2, high=3):
    """Float inputs with many exact ties (max/min routing)."""
    return lambda rng: [rng.integers(low, high, s).astype(np.float64) for s in shapes]


# ------------------------------------------------------------------ elementwise binary
BROADCAST_PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((2, 1, 4), (3, 1)),
    ((2, 3, 1), (1, 1, 5)),
    ((1,), (5,)),
    ((), (3,)),
    ((3, 1), ()),
    ((), ()),
    ((0, 3), (3,)),
    ((2, 0, 3), (1, 3)),
]
BINARY = {
    "add": (lambda a, b: a + b, normal),
    "sub": (lambda a, b: a - b, normal),
    "mul": (lambda a, b: a * b, normal),
    "div": (lambda a, b: a / b, away_from_zero),
    "pow": (lambda a, b: a ** b, positive),
    "maximum": ("maximum", normal),
    "minimum": ("minimum", normal),
}
for (op, (fn, gen)), (sa, sb) in itertools.product(BINARY.items(), BROADCAST_PAIRS):
    if isinstance(fn, str):
        s_fn = getattr(st, fn)
        t_fn = getattr(torch, fn)
    else:
        s_fn = t_fn = fn
    row(f"{op}{sa}{sb}", gen(sa, sb), s_fn, t_fn)

# ties: the gradient is split in half between equal inputs, as in PyTorch (not differentiable
# there, so no finite-difference check)
for op in ("maximum", "minimum"):
    row(f"{op}-ties", small_ints((4, 5), (4, 5)), getattr(st, op), getattr(torch, op), gradcheck=False)
    row(f"{op}-ties-broadcast", small_ints((4, 5), (5,)), getattr(st, op), getattr(torch, op),
        gradcheck=False)

# Python scalars on either side (the scalar takes the tensor's dtype)
SCALAR_FORMS = {
    "x+2.5": lambda x: x + 2.5,
    "2.5+x": lambda x: 2.5 + x,
    "x-3": lambda x: x - 3,
    "3-x": lambda x: 3 - x,
    "x*-1.5": lambda x: x * -1.5,
    "-1.5*x": lambda x: -1.5 * x,
    "x/4": lambda x: x / 4,
    "x**2": lambda x: x ** 2,
    "x**3": lambda x: x ** 3,
    "x**0": lambda x: x ** 0,
    "x**1": lambda x: x ** 1,
    "-x": lambda x: -x,
}
for name, fn in SCALAR_FORMS.items():
    for shape in [(3, 4), (), (1, 5)]:
        row(f"{name}{shape}", normal(shape), fn, fn)
POSITIVE_SCALAR_FORMS = {
    "1/x": lambda x: 1 / x,
    "x**0.5": lambda x: x ** 0.5,
    "x**-1.5": lambda x: x ** -1.5,
    "x**2.7": lambda x: x ** 2.7,
    "2**x": lambda x: 2 ** x,
    "0.5**x": lambda x: 0.5 ** x,
}
for name, fn in POSITIVE_SCALAR_FORMS.items():
    for shape in [(3, 4), ()]:
        row(f"{name}{shape}", positive(shape), fn, fn)
row("x**-2 signed", away_from_zero((3, 4)), lambda x: x ** -2, lambda x: x ** -2)
row("x**3 signed", normal((3, 4)), lambda x: x ** 3, lambda x: x ** 3)
row("pow(x, y) signed base, integer exponent tensor",
    lambda rng: [rng.standard_normal((3, 4)), rng.integers(0, 4, (3, 4)).astype(np.float64)],
    lambda a, b: a ** b, lambda a, b: a ** b, grad=(0,))

# ------------------------------------------------------------------ elementwise unary
UNARY = {
    "neg": (lambda x: -x, normal),
    "exp": (lambda x: x.exp(), normal),
    "log": (lambda x: x.log(), positive),
    "sqrt": (lambda x: x.sqrt(), positive),
    "abs": (lambda x: x.abs(), away_from_zero),
    "clamp(min=-0.3)": (lambda x: x.clamp(min=-0.3), normal),
    "clamp(max=0.4)": (lambda x: x.clamp(max=0.4), normal),
    "clamp(-0.3, 0.4)": (lambda x: x.clamp(-0.3, 0.4), normal),
    "clip(-0.3, 0.4)": (lambda x: x.clip(-0.3, 0.4), normal),
}
for (name, (fn, gen)), shape in itertools.product(UNARY.items(), [(3, 4), (), (1,), (2, 1, 3), (0, 2)]):
    row(f"{name}{shape}", gen(shape), fn, fn)
row("st.exp/log/sqrt/abs functions", positive((3, 4)),
    lambda x: st.sqrt(st.exp(st.log(st.abs(x)))), lambda x: torch.sqrt(torch.exp(torch.log(torch.abs(x)))))
row("clamp with tensor bounds", normal((3, 4), (3, 4)),
    lambda x, lo: st.clamp(x, min=lo), lambda x, lo: torch.clamp(x, min=lo), grad=(0,))

for sc, sx, sy in [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (4,)), ((2, 3), (), (2, 3))]:
    row(f"where{sc}{sx}{sy}",
        lambda rng, sc=sc, sx=sx, sy=sy: [rng.random(sc) > 0.5, rng.standard_normal(sx),
                                          rng.standard_normal(sy)],
        lambda c, x, y: st.where(c, x, y), lambda c, x, y: torch.where(c, x, y))

# ------------------------------------------------------------------ matmul and linear
MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((1, 3), (3, 1)),
    ((5, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3, 4)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((2, 1, 2, 3), (4, 3, 2)),
    ((1, 2, 3), (4, 3, 2)),
    ((0, 3), (3, 2)),
    ((2, 0), (0, 3)),
]
for sa, sb in MATMUL_SHAPES:
    row(f"matmul{sa}@{sb}", normal(sa, sb), lambda a, b: a @ b, lambda a, b: a @ b)
row("st.matmul / mm", normal((2, 3), (3, 4)), lambda a, b: st.matmul(a, b).mm(b.T @ b),
    lambda a, b: torch.matmul(a, b).mm(b.T @ b))

for sx, bias in itertools.product([(4, 3), (2, 4, 3), (3,), (1, 3), (0, 3)], [True, False]):
    if bias:
        row(f"linear{sx} bias", normal(sx, (5, 3), (5,)), F.linear, TF.linear)
    else:
        row(f"linear{sx} no bias", normal(sx, (5, 3)), F.linear, TF.linear)

# ------------------------------------------------------------------ reductions
REDUCE_SHAPES_DIMS = [
    ((3, 4), None),
    ((3, 4), 0),
    ((3, 4), -1),
    ((2, 3, 4), (0, 2)),
    ((2, 3, 4), (-1, 1)),
    ((2, 1, 4), 1),
    ((5,), 0),
    ((), None),
    ((), 0),
]
for (shape, dim), keep in itertools.product(REDUCE_SHAPES_DIMS, [False, True]):
    if dim is None:
        if keep:
            continue
        row(f"sum{shape}", normal(shape), lambda x: x.sum(), lambda x: x.sum())
        row(f"mean{shape}", normal(shape), lambda x: x.mean(), lambda x: x.mean())
        row(f"max{shape}", normal(shape), lambda x: x.max(), lambda x: x.max())
        row(f"min{shape}", normal(shape), lambda x: x.min(), lambda x: x.min())
        row(f"var{shape}", normal(shape), lambda x: x.var(), lambda x: x.var()) if shape else None
        row(f"std{shape}", normal(shape), lambda x: x.std(), lambda x: x.std()) if shape else None
        row(f"argmax{shape}", normal(shape), lambda x: x.argmax(), lambda x: x.argmax(), backward=False)
        row(f"argmin{shape}", normal(shape), lambda x: x.argmin(), lambda x: x.argmin(), backward=False)
        continue
    for op in ("sum", "mean", "amax", "amin"):
        row(f"{op}{shape} dim={dim} keepdim={keep}", normal(shape),
            lambda x, op=op, d=dim, k=keep: getattr(x, op)(d, keepdim=k),
            lambda x, op=op, d=dim, k=keep: getattr(x, op)(d, keepdim=k))
    for op in ("var", "std"):
        if shape and np.prod([shape[i] for i in np.atleast_1d(dim)]) > 1:
            row(f"{op}{shape} dim={dim} keepdim={keep}", normal(shape),
                lambda x, op=op, d=dim, k=keep: getattr(x, op)(d, keepdim=k),
                lambda x, op=op, d=dim, k=keep: getattr(x, op)(d, keepdim=k))
    if isinstance(dim, int):
        for op in ("max", "min"):  # (values, indices) pairs
            row(f"{op}{shape} dim={dim} keepdim={keep}", normal(shape),
                lambda x, op=op, d=dim, k=keep: tuple(getattr(x, op)(d, keepdim=k)),
                lambda x, op=op, d=dim, k=keep: tuple(getattr(x, op)(d, keepdim=k)))
        for op in ("argmax", "argmin"):
            row(f"{op}{shape} dim={dim} keepdim={keep}", normal(shape),
                lambda x, op=op, d=dim, k=keep: getattr(x, op)(d, keepdim=k),
                lambda x, op=op, d=dim, k=keep: getattr(x, op)(d, keepdim=k), backward=False)

row("max(dim) named fields", normal((3, 4)), lambda x: (x.max(1).values * 2, x.max(1).indices),
    lambda x: (x.max(1).values * 2, x.max(1).indices))
row("st.max/st.min/st.sum functions", normal((3, 4)),
    lambda x: st.max(x, 0)[0] + st.min(x, 1, keepdim=True)[0] + st.sum(x, 1, keepdim=True),
    lambda x: torch.max(x, 0)[0] + torch.min(x, 1, keepdim=True)[0] + torch.sum(x, 1, keepdim=True))
row("max ties full", small_ints((3, 4), low=0, high=2), lambda x: x.max(), lambda x: x.max(),
    gradcheck=False, notes="full max/min share the gradient evenly between ties, as torch")
row("amax ties dim", small_ints((3, 4), low=0, high=2), lambda x: x.amax(1), lambda x: x.amax(1),
    gradcheck=False)
row("var unbiased=False", normal((3, 4)), lambda x: x.var(1, unbiased=False),
    lambda x: x.var(1, unbiased=False))
row("var correction=0 tuple dims", normal((2, 3, 4)), lambda x: x.var((0, 2), correction=0),
    lambda x: x.var((0, 2), correction=0))
row("std correction=2", normal((3, 5)), lambda x: x.std(1, correction=2), lambda x: x.std(1, correction=2))
row("st.var/st.std functions", normal((3, 4)), lambda x: st.var(x, 0) + st.std(x, 0),
    lambda x: torch.var(x, 0) + torch.std(x, 0))
# empty reductions PyTorch allows: sum is 0, mean is nan, over empty axes
row("sum empty", normal((0, 3)), lambda x: x.sum(), lambda x: x.sum())
row("sum empty dim=0", normal((0, 3)), lambda x: x.sum(0), lambda x: x.sum(0))
row("sum empty dim=1 keepdim", normal((0, 3)), lambda x: x.sum(1, keepdim=True),
    lambda x: x.sum(1, keepdim=True))
row("mean empty dim=0", normal((0, 3)), lambda x: x.mean(0), lambda x: x.mean(0), backward=False)
row("amax over non-empty dim of empty", normal((0, 3)), lambda x: x.amax(1), lambda x: x.amax(1))

# ------------------------------------------------------------------ shape ops
SHAPE_OPS = [
    ("reshape(3,4)->(4,3)", (3, 4), lambda x: x.reshape(4, 3)),
    ("reshape tuple -1", (2, 3, 4), lambda x: x.reshape((-1, 4))),
    ("reshape to 0-d", (1, 1), lambda x: x.reshape(())),
    ("reshape 0-d to (1,1)", (), lambda x: x.reshape(1, 1)),
    ("reshape empty", (0, 3), lambda x: x.reshape(3, 0, 1)),
    ("view", (2, 6), lambda x: x.view(3, 2, 2)),
    ("view -1", (2, 6), lambda x: x.view(-1)),
    ("flatten", (2, 3, 4), lambda x: x.flatten()),
    ("flatten(1)", (2, 3, 4), lambda x: x.flatten(1)),
    ("flatten(0, 1)", (2, 3, 4), lambda x: x.flatten(0, 1)),
    ("flatten(-2, -1)", (2, 3, 4, 5), lambda x: x.flatten(-2, -1)),
    ("flatten 0-d", (), lambda x: x.flatten()),
    ("transpose(0,1)", (3, 4), lambda x: x.transpose(0, 1)),
    ("transpose(-1,0)", (2, 3, 4), lambda x: x.transpose(-1, 0)),
    ("transpose 1-d", (3,), lambda x: x.transpose(0, -1)),
    ("t()", (3, 4), lambda x: x.t()),
    ("T", (3, 4), lambda x: x.T),
    ("permute", (2, 3, 4), lambda x: x.permute(2, 0, 1)),
    ("permute tuple neg", (2, 3, 4), lambda x: x.permute((-1, 1, 0))),
    ("squeeze", (1, 3, 1, 4), lambda x: x.squeeze()),
    ("squeeze(2)", (1, 3, 1, 4), lambda x: x.squeeze(2)),
    ("squeeze(1) not size 1", (1, 3, 1, 4), lambda x: x.squeeze(1)),
    ("squeeze(-2)", (1, 3, 1, 4), lambda x: x.squeeze(-2)),
    ("squeeze((0, 2))", (1, 3, 1, 4), lambda x: x.squeeze((0, 2))),
    ("squeeze 0-d", (), lambda x: x.squeeze()),
    ("unsqueeze(0)", (3, 4), lambda x: x.unsqueeze(0)),
    ("unsqueeze(-1)", (3, 4), lambda x: x.unsqueeze(-1)),
    ("unsqueeze(1) 0-d", (), lambda x: x.unsqueeze(0)),
    ("expand", (3, 1), lambda x: x.expand(3, 4)),
    ("expand -1 and new dims", (3, 1), lambda x: x.expand(2, -1, 5)),
    ("expand 0-d", (), lambda x: x.expand(2, 3)),
    ("expand_as", (1, 4), lambda x: x.expand_as(torch.zeros(3, 4) if isinstance(x, torch.Tensor)
                                                 else st.zeros(3, 4))),
    ("repeat", (2, 3), lambda x: x.repeat(2, 3)),
    ("repeat new dims", (2, 3), lambda x: x.repeat(2, 1, 2)),
    ("repeat 1-d", (3,), lambda x: x.repeat(4)),
    ("repeat 0-d", (), lambda x: x.repeat(3, 2)),
    ("clone", (3, 4), lambda x: x.clone() * 2),
    ("double cast", (3, 4), lambda x: x.double() * 2),
    ("float cast", (3, 4), lambda x: x.float() * 2),
]
for name, shape, fn in SHAPE_OPS:
    # finite differences of a float32 result cannot resolve a float64 step of 1e-6
    row(name, normal(shape), fn, fn, gradcheck=name != "float cast")
row("st.reshape/flatten/permute/transpose/squeeze/unsqueeze functions", normal((2, 1, 3)),
    lambda x: st.unsqueeze(st.squeeze(st.transpose(st.permute(
        st.flatten(st.reshape(x, (2, 3, 1)), 1), (1, 0)), 0, 1), 1), 0),
    lambda x: torch.unsqueeze(torch.squeeze(torch.transpose(torch.permute(
        torch.flatten(torch.reshape(x, (2, 3, 1)), 1), (1, 0)), 0, 1), 1), 0))

# ------------------------------------------------------------------ indexing
INDEX_OPS = [
    ("x[1]", (3, 4), lambda x: x[1], None),
    ("x[-1]", (3, 4), lambda x: x[-1], None),
    ("x[1:3]", (4, 5), lambda x: x[1:3], None),
    ("x[:, 1:4:2]", (4, 5), lambda x: x[:, 1:4:2], None),
    ("x[1, 2] 0-d", (3, 4), lambda x: x[1, 2], None),
    ("x[None]", (3, 4), lambda x: x[None], None),
    ("x[..., 1]", (2, 3, 4), lambda x: x[..., 1], None),
    ("x[None, ..., None, 1:]", (2, 3), lambda x: x[None, ..., None, 1:], None),
    ("x[:, None, 2]", (3, 4), lambda x: x[:, None, 2], None),
    ("x[[0, 2, 0, 0]] repeated", (3, 4), lambda x: x[[0, 2, 0, 0]], None),
    ("x[:, [1, 1, 3]] repeated", (3, 4), lambda x: x[:, [1, 1, 3]], None),
    ("x[[0, 1, 0], [2, 2, 2]] pairs repeated", (3, 4), lambda x: x[[0, 1, 0], [2, 2, 2]], None),
    ("x[x > 0] bool mask", (3, 4), lambda x: x[x > 0], None),
    ("x[row mask]", (3, 4), lambda x: x[x.sum(1) > 0], None),
    ("x[1:, [0, 2, 2]] mixed", (3, 4), lambda x: x[1:, [0, 2, 2]], None),
    ("x[[0, 1], :, [1, 1]] separated", (2, 3, 4), lambda x: x[[0, 1], :, [1, 1]], None),
    ("x[..., [0, -1]] negative", (2, 3, 4), lambda x: x[..., [0, -1]], None),
    ("x[None, [1, 1]]", (3, 4), lambda x: x[None, [1, 1]], None),
    ("x[::-1]", (4, 3), lambda x: x[::-1], lambda x: x.flip(0)),
    ("x[::-2]", (5, 3), lambda x: x[::-2], lambda x: x.flip(0)[::2]),
    ("x[:, 3:0:-2]", (2, 5), lambda x: x[:, 3:0:-2], lambda x: x[:, 1:4].flip(1)[:, ::2]),
    ("x[1:1] empty slice", (3, 4), lambda x: x[1:1], None),
]
for name, shape, fn, tfn in INDEX_OPS:
    row(name, normal(shape), fn, tfn or fn)
row("x[index tensor] repeated", lambda rng: [rng.standard_normal((4, 3)), np.array([3, 0, 3, 3, 1])],
    lambda x, i: x[i], lambda x, i: x[i])
row("x[2-d index tensor]", lambda rng: [rng.standard_normal((3, 4)), np.array([[0, 1], [1, 1]])],
    lambda x, i: x[i], lambda x, i: x[i])
row("x[bool tensor]", lambda rng: [rng.standard_normal((4, 3)), np.array([True, False, True, True])],
    lambda x, m: x[m], lambda x, m: x[m])
row("x[:, index tensor, 1:] mixed", lambda rng: [rng.standard_normal((2, 4, 3)), np.array([[1, 1], [0, 3]])],
    lambda x, i: x[:, i, 1:], lambda x, i: x[:, i, 1:])

GATHER = [
    ((3, 4), 0, (2, 4)),
    ((3, 4), 1, (3, 6)),
    ((3, 4), -1, (2, 2)),
    ((2, 3, 4), 1, (2, 5, 4)),
    ((2, 3, 4), 2, (1, 2, 3)),
    ((5,), 0, (7,)),
]
for shape, dim, ishape in GATHER:
    row(f"gather{shape} dim={dim} index{ishape}",
        lambda rng, shape=shape, dim=dim, ishape=ishape: [rng.standard_normal(shape),
                                                          rng.integers(0, shape[dim], ishape)],
        lambda x, i, d=dim: x.gather(d, i), lambda x, i, d=dim: x.gather(d, i))
row("st.gather function", lambda rng: [rng.standard_normal((3, 4)), rng.integers(0, 4, (3, 2))],
    lambda x, i: st.gather(x, 1, i), lambda x, i: torch.gather(x, 1, i))

# ------------------------------------------------------------------ cat stack split chunk
row("cat dim 0", normal((2, 3), (4, 3), (1, 3)), lambda *xs: st.cat(xs), lambda *xs: torch.cat(xs))
row("cat dim -1", normal((2, 3), (2, 1)), lambda *xs: st.cat(xs, dim=-1), lambda *xs: torch.cat(xs, dim=-1))
row("cat with empty", normal((2, 3), (0, 3)), lambda *xs: st.cat(list(xs)), lambda *xs: torch.cat(list(xs)))
row("cat single", normal((2, 3)), lambda *xs: st.cat(xs, 1), lambda *xs: torch.cat(xs, 1))
row("concat alias", normal((2, 3), (2, 3)), lambda *xs: st.concat(xs, 1), lambda *xs: torch.concat(xs, 1))
row("stack dim 0", normal((2, 3), (2, 3), (2, 3)), lambda *xs: st.stack(xs), lambda *xs: torch.stack(xs))
row("stack dim -1", normal((2, 3), (2, 3)), lambda *xs: st.stack(xs, -1), lambda *xs: torch.stack(xs, -1))
row("stack 0-d", normal((), ()), lambda *xs: st.stack(xs), lambda *xs: torch.stack(xs))
row("x used twice in cat", normal((2, 3)), lambda x: st.cat([x, x * 2, x], 1),
    lambda x: torch.cat([x, x * 2, x], 1))
for size in (2, 3, 7):
    row(f"split({size})", normal((7, 2)), lambda x, s=size: x.split(s), lambda x, s=size: x.split(s))
row("split list dim 1", normal((2, 6)), lambda x: x.split([1, 3, 2], 1), lambda x: x.split([1, 3, 2], 1))
row("st.split function", normal((5, 2)), lambda x: st.split(x, 2), lambda x: torch.split(x, 2))
for chunks, n in [(2, 7), (3, 6), (4, 6), (3, 2)]:
    row(f"chunk({chunks}) of {n}", normal((n, 2)), lambda x, c=chunks: x.chunk(c),
        lambda x, c=chunks: x.chunk(c))
row("st.chunk dim -1", normal((2, 5)), lambda x: st.chunk(x, 2, -1), lambda x: torch.chunk(x, 2, -1))

# ------------------------------------------------------------------ activations
def extreme(*shapes):
    """Logits of magnitude up to 1e4: overflow-prone for a naive exp."""
    def make(rng):
        out = []
        for s in shapes:
            x = rng.standard_normal(s) * 1e4
            x.flat[:: 3] = np.sign(x.flat[:: 3]) * 1e4
            out.append(x)
        return out
    return make


ACTIVATIONS = {
    "relu": (F.relu, TF.relu),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu),
    "leaky_relu(0.2)": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "elu": (F.elu, TF.elu),
    "elu(0.5)": (lambda x: F.elu(x, alpha=0.5), lambda x: TF.elu(x, alpha=0.5)),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "st.relu/sigmoid/tanh": (lambda x: st.relu(x) + st.sigmoid(x) + st.tanh(x),
                             lambda x: torch.relu(x) + torch.sigmoid(x) + torch.tanh(x)),
    "method relu/sigmoid/tanh": (lambda x: x.relu() * x.sigmoid() + x.tanh(),
                                 lambda x: x.relu() * x.sigmoid() + x.tanh()),
    "softmax(dim=1)": (lambda x: F.softmax(x, dim=1), lambda x: TF.softmax(x, dim=1)),
    "softmax(dim=0)": (lambda x: F.softmax(x, dim=0), lambda x: TF.softmax(x, dim=0)),
    "softmax(dim=-1)": (lambda x: F.softmax(x, dim=-1), lambda x: TF.softmax(x, dim=-1)),
    "log_softmax(dim=1)": (lambda x: F.log_softmax(x, dim=1), lambda x: TF.log_softmax(x, dim=1)),
    "log_softmax(dim=-1)": (lambda x: F.log_softmax(x, dim=-1), lambda x: TF.log_softmax(x, dim=-1)),
    "x.softmax / x.log_softmax": (lambda x: x.softmax(-1) * x.log_softmax(-1),
                                  lambda x: x.softmax(-1) * x.log_softmax(-1)),
}
ACTIVATION_SHAPES = [(3, 5), (2, 3, 4), (1, 1), (4, 0)]
for (name, (s_fn, t_fn)), shape in itertools.product(ACTIVATIONS.items(), ACTIVATION_SHAPES):
    row(f"{name}{shape}", normal(shape), s_fn, t_fn)
for name, (s_fn, t_fn) in ACTIVATIONS.items():
    # leaky_relu is linear in x on both sides, so at |x| = 1e4 the float64 central difference
    # (step 1e-6) carries ~1e-6 of rounding: the float64 torch comparison (1e-10) checks it instead
    row(f"{name} extreme logits", extreme((4, 6)), s_fn, t_fn, gradcheck=not name.startswith("leaky"),
        notes="no NaN/overflow at +-1e4")
row("softmax 1-d", normal((5,)), lambda x: F.softmax(x, 0), lambda x: TF.softmax(x, 0))
row("log_softmax 0-d", normal(()), lambda x: F.log_softmax(x, 0), lambda x: TF.log_softmax(x, 0))

# ------------------------------------------------------------------ losses
def logits_and_classes(shape, n_classes_axis=1, ignore=None, seed_shift=0):
    def make(rng):
        x = rng.standard_normal(shape)
        c = shape[n_classes_axis] if len(shape) > 1 else shape[0]
        tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
        y = rng.integers(0, c, tshape)
        if ignore is not None and y.ndim:
            y.flat[::3] = ignore
        return [x, y]
    return make


def with_weight(make, c):
    return lambda rng: make(rng) + [0.2 + rng.random(c)]


CE_SHAPES = [(4, 5), (1, 3), (2, 3, 4, 5), (3, 4, 2), (5,)]
for shape, reduction in itertools.product(CE_SHAPES, ["mean", "sum", "none"]):
    c = shape[1] if len(shape) > 1 else shape[0]
    row(f"cross_entropy{shape} {reduction}", logits_and_classes(shape),
        lambda x, y, r=reduction: F.cross_entropy(x, y, reduction=r),
        lambda x, y, r=reduction: TF.cross_entropy(x, y, reduction=r))
    row(f"cross_entropy{shape} {reduction} weight", with_weight(logits_and_classes(shape), c),
        lambda x, y, w, r=reduction: F.cross_entropy(x, y, weight=w, reduction=r),
        lambda x, y, w, r=reduction: TF.cross_entropy(x, y, weight=w, reduction=r), grad=(0,))
    row(f"cross_entropy{shape} {reduction} smoothing 0.1", logits_and_classes(shape),
        lambda x, y, r=reduction: F.cross_entropy(x, y, reduction=r, label_smoothing=0.1),
        lambda x, y, r=reduction: TF.cross_entropy(x, y, reduction=r, label_smoothing=0.1))
    row(f"cross_entropy{shape} {reduction} weight+smoothing 0.25", with_weight(logits_and_classes(shape), c),
        lambda x, y, w, r=reduction: F.cross_entropy(x, y, weight=w, reduction=r, label_smoothing=0.25),
        lambda x, y, w, r=reduction: TF.cross_entropy(x, y, weight=w, reduction=r, label_smoothing=0.25),
        grad=(0,))
    if len(shape) > 1:
        row(f"cross_entropy{shape} {reduction} ignore_index", logits_and_classes(shape, ignore=-100),
            lambda x, y, r=reduction: F.cross_entropy(x, y, reduction=r),
            lambda x, y, r=reduction: TF.cross_entropy(x, y, reduction=r))
        row(f"cross_entropy{shape} {reduction} ignore_index=1 weight smoothing",
            with_weight(logits_and_classes(shape, ignore=1), c),
            lambda x, y, w, r=reduction: F.cross_entropy(x, y, weight=w, ignore_index=1, reduction=r,
                                                         label_smoothing=0.2),
            lambda x, y, w, r=reduction: TF.cross_entropy(x, y, weight=w, ignore_index=1, reduction=r,
                                                          label_smoothing=0.2), grad=(0,))
        row(f"nll_loss{shape} {reduction}", logits_and_classes(shape),
            lambda x, y, r=reduction: F.nll_loss(F.log_softmax(x, 1), y, reduction=r),
            lambda x, y, r=reduction: TF.nll_loss(TF.log_softmax(x, 1), y, reduction=r))
        row(f"nll_loss{shape} {reduction} raw input weight ignore",
            with_weight(logits_and_classes(shape, ignore=-100), c),
            lambda x, y, w, r=reduction: F.nll_loss(x, y, weight=w, reduction=r),
            lambda x, y, w, r=reduction: TF.nll_loss(x, y, weight=w, reduction=r), grad=(0,))


def logits_and_probs(shape):
    def make(rng):
        x = rng.standard_normal(shape)
        t = rng.random(shape)
        return [x, t / t.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)]
    return make


for shape, reduction in itertools.product([(4, 5), (2, 3, 4), (2, 3, 2, 2)], ["mean", "sum", "none"]):
    c = shape[1]
    row(f"cross_entropy probs{shape} {reduction}", logits_and_probs(shape),
        lambda x, t, r=reduction: F.cross_entropy(x, t, reduction=r),
        lambda x, t, r=reduction: TF.cross_entropy(x, t, reduction=r))
    row(f"cross_entropy probs{shape} {reduction} weight smoothing",
        lambda rng, shape=shape, c=c: logits_and_probs(shape)(rng) + [0.2 + rng.random(c)],
        lambda x, t, w, r=reduction: F.cross_entropy(x, t, weight=w, reduction=r, label_smoothing=0.3),
        lambda x, t, w, r=reduction: TF.cross_entropy(x, t, weight=w, reduction=r, label_smoothing=0.3),
        grad=(0, 1))
row("cross_entropy probs 1-d", logits_and_probs((5,)), F.cross_entropy, TF.cross_entropy)
row("cross_entropy extreme logits", lambda rng: extreme((4, 6))(rng) + [np.array([0, 5, 2, 3])],
    F.cross_entropy, TF.cross_entropy)
row("log_softmax+nll extreme logits", lambda rng: extreme((4, 6))(rng) + [np.array([0, 5, 2, 3])],
    lambda x, y: F.nll_loss(F.log_softmax(x, 1), y), lambda x, y: TF.nll_loss(TF.log_softmax(x, 1), y))
row("nll_loss 1-d", lambda rng: [rng.standard_normal(5), np.array(3)], F.nll_loss, TF.nll_loss)

for shape, reduction in itertools.product([(4, 3), (), (2, 1, 3)], ["mean", "sum", "none"]):
    row(f"mse_loss{shape} {reduction}", normal(shape, shape),
        lambda x, t, r=reduction: F.mse_loss(x, t, reduction=r),
        lambda x, t, r=reduction: TF.mse_loss(x, t, reduction=r))


def logits_and_binary(shape, scale=1.0, soft=False):
    def make(rng):
        x = rng.standard_normal(shape) * scale
        t = rng.random(shape) if soft else (rng.random(shape) > 0.5).astype(np.float64)
        return [x, t]
    return make


for shape, reduction in itertools.product([(4, 3), (5,), (2, 3, 2)], ["mean", "sum", "none"]):
    c = shape[-1]
    row(f"bce_with_logits{shape} {reduction}", logits_and_binary(shape, soft=True),
        lambda x, t, r=reduction: F.binary_cross_entropy_with_logits(x, t, reduction=r),
        lambda x, t, r=reduction: TF.binary_cross_entropy_with_logits(x, t, reduction=r))
    row(f"bce_with_logits{shape} {reduction} weight pos_weight",
        lambda rng, shape=shape, c=c: logits_and_binary(shape, soft=True)(rng)
        + [0.2 + rng.random(shape), 0.5 + rng.random(c)],
        lambda x, t, w, q, r=reduction: F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=q,
                                                                             reduction=r),
        lambda x, t, w, q, r=reduction: TF.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=q,
                                                                              reduction=r),
        grad=(0, 1))
row("bce_with_logits broadcast weight (C,)",
    lambda rng: logits_and_binary((4, 3))(rng) + [0.2 + rng.random(3)],
    lambda x, t, w: F.binary_cross_entropy_with_logits(x, t, weight=w),
    lambda x, t, w: TF.binary_cross_entropy_with_logits(x, t, weight=w), grad=(0, 1))
row("bce_with_logits extreme logits", logits_and_binary((4, 6), scale=1e4),
    F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits)
row("bce_with_logits extreme logits pos_weight", lambda rng: logits_and_binary((4, 6), scale=1e4)(rng)
    + [0.5 + rng.random(6)],
    lambda x, t, q: F.binary_cross_entropy_with_logits(x, t, pos_weight=q),
    lambda x, t, q: TF.binary_cross_entropy_with_logits(x, t, pos_weight=q), grad=(0, 1))


# ------------------------------------------------------------------ compositions
row("two-layer MLP with cross_entropy",
    lambda rng: [rng.standard_normal((6, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5),
                 rng.standard_normal((3, 5)), rng.integers(0, 3, 6)],
    lambda x, w1, b1, w2, y: F.cross_entropy(F.linear(F.relu(F.linear(x, w1, b1)), w2), y),
    lambda x, w1, b1, w2, y: TF.cross_entropy(TF.linear(TF.relu(TF.linear(x, w1, b1)), w2), y))
row("diamond: x used by several ops", normal((3, 4)),
    lambda x: (x * x.exp() + x.sum(0) - x.T.mean(1, keepdim=True).T) / (1 + x.abs()),
    lambda x: (x * x.exp() + x.sum(0) - x.T.mean(1, keepdim=True).T) / (1 + x.abs()))


@pytest.mark.parametrize("case", ROWS, ids=str)
def test_engine_op_matches_torch(case: OpCase) -> None:
    check_case(case)


def test_table_has_unique_names() -> None:
    names = [c.name for c in ROWS]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, duplicates

"""The computational graph of a tensor, drawn as seed 003 draws f = (x + y) z: tensors with their
values (green) and gradients (red), operations as gates between them, left to right.

`graph(f)` walks `f`'s graph of `Function` nodes (before `backward()` frees it) and, for a scalar
f, computes df/d(every tensor) itself by the chain rule over the same nodes, without writing any
`.grad`. The SVG is written by hand (no dependency); `AutogradGraph.dot()` gives Graphviz source
and `svg(engine="graphviz")` renders it with the `dot` program when it is installed.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from dataclasses import dataclass, field

import numpy as np

from striate.autograd.function import topological_order
from striate.autograd.released import ReleasedInput, input_tensor
from striate.autograd.tensor import Tensor

_OP_SYMBOLS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Neg": "-", "MatMul": "@", "Pow": "^",
               "Exp": "exp", "Log": "log", "ReLU": "relu", "Sigmoid": "σ", "Tanh": "tanh", "Sum": "Σ",
               "Mean": "mean", "Maximum": "max"}


def _fmt(a: np.ndarray) -> str:
    a = np.asarray(a)
    if a.size == 1:
        return f"{float(a.reshape(())):.4g}"
    if a.size <= 4:
        return "[" + ", ".join(f"{float(v):.3g}" for v in a.ravel()) + "]"
    return f"shape {tuple(a.shape)}"


@dataclass
class AutogradGraph:
    """Nodes: ('t', id) tensors and ('f', id) functions; edges in data-flow direction."""

    labels: dict[tuple, list[str]] = field(default_factory=dict)
    kinds: dict[tuple, str] = field(default_factory=dict)
    edges: list[tuple[tuple, tuple]] = field(default_factory=list)

    def _layers(self) -> list[list[tuple]]:
        depth = dict.fromkeys(self.labels, 0)
        consumers: dict[tuple, list[tuple]] = {n: [] for n in self.labels}
        waiting = dict.fromkeys(self.labels, 0)
        for a, b in self.edges:
            consumers[a].append(b)
            waiting[b] += 1
        ready = [n for n, k in waiting.items() if k == 0]
        while ready:  # longest path from the inputs, in topological order (Kahn)
            a = ready.pop()
            for b in consumers[a]:
                depth[b] = max(depth[b], depth[a] + 1)
                waiting[b] -= 1
                if not waiting[b]:
                    ready.append(b)
        for a, _ in self.edges:  # inputs sit just before their first use (z beside q in (x+y)z)
            if self.kinds[a] == "t" and not any(b == a for _, b in self.edges):
                depth[a] = min(depth[b] for x, b in self.edges if x == a) - 1
        cols: dict[int, list[tuple]] = {}
        for n in self.labels:
            cols.setdefault(depth[n], []).append(n)
        return [cols[k] for k in sorted(cols)]

    def svg(self, engine: str = "builtin") -> str:
        """The picture as SVG text; engine='graphviz' uses Graphviz's `dot` (must be installed)."""
        if engine == "graphviz":
            if shutil.which("dot") is None:
                raise RuntimeError("graph: engine='graphviz' needs the Graphviz `dot` program "
                                   "(apt-get install graphviz); engine='builtin' needs nothing")
            return subprocess.run(["dot", "-Tsvg"], input=self.dot(), capture_output=True, text=True,
                                  check=True).stdout
        return self._builtin_svg()

    def _builtin_svg(self) -> str:
        layers, pos, box_w, box_h, gap_x, gap_y = self._layers(), {}, 150, 64, 60, 24
        height = max(len(c) for c in layers) * (box_h + gap_y) + gap_y
        for i, col in enumerate(layers):
            top = (height - len(col) * (box_h + gap_y) + gap_y) / 2
            for j, n in enumerate(col):
                pos[n] = (gap_x / 2 + i * (box_w + gap_x), top + j * (box_h + gap_y))
        width = len(layers) * (box_w + gap_x)
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
               f'font-family="DejaVu Sans, sans-serif" font-size="13">',
               '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
               'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>',
               '<rect width="100%" height="100%" fill="white"/>']
        inset = {"f": 30, "t": 0}
        for a, b in self.edges:
            (xa, ya), (xb, yb) = pos[a], pos[b]
            xa, xb = xa - inset[self.kinds[a]], xb + inset[self.kinds[b]]
            out.append(f'<line x1="{xa + box_w:.0f}" y1="{ya + box_h / 2:.0f}" x2="{xb:.0f}" '
                       f'y2="{yb + box_h / 2:.0f}" stroke="#444" stroke-width="1.5" '
                       'marker-end="url(#arrow)"/>')
        colours = ["#1a7f37", "#c62828"]  # values green, gradients red, as on seed 003's slide
        for n, lines in self.labels.items():
            x, y = pos[n]
            if self.kinds[n] == "f":
                out.append(f'<ellipse cx="{x + box_w / 2:.0f}" cy="{y + box_h / 2:.0f}" '
                           f'rx="{box_w / 2 - 30:.0f}" ry="{box_h / 2 - 8:.0f}" '
                           'fill="#fff3c4" stroke="#b08900"/>')
            else:
                out.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{box_w}" height="{box_h}" rx="8" '
                           'fill="#eef4ff" stroke="#3b6fd4"/>')
            top = y + box_h / 2 - 8 * (len(lines) - 1)
            for k, text in enumerate(lines):
                colour = "#333" if self.kinds[n] == "f" else colours[min(k, 1)]
                out.append(f'<text x="{x + box_w / 2:.0f}" y="{top + 16 * k + 5:.0f}" text-anchor="middle" '
                           f'fill="{colour}">{html.escape(text)}</text>')
        out.append("</svg>")
        return "\n".join(out)

    def dot(self) -> str:
        """Graphviz source of the same graph."""
        lines = ["digraph G {", "  rankdir=LR;"]
        for n, label in self.labels.items():
            shape = "ellipse" if self.kinds[n] == "f" else "box"
            text = "\\n".join(s.replace('"', "'") for s in label)
            lines.append(f'  "{n[0]}{n[1]}" [shape={shape}, label="{text}"];')
        lines += [f'  "{a[0]}{a[1]}" -> "{b[0]}{b[1]}";' for a, b in self.edges]
        return "\n".join([*lines, "}"])

    def save(self, path: str | os.PathLike, engine: str = "builtin") -> None:
        """Write the SVG (atomically)."""
        from striate.io_atomic import atomic_write_text

        atomic_write_text(path, self.svg(engine))

    def _repr_svg_(self) -> str:  # Jupyter shows the picture
        return self.svg()


def _inputs(node, canonical: dict[int, object]) -> list:
    """`node`'s inputs as tensors; an input the graph released (large, and not read by backward)
    once the program dropped it is one stand-in per producing node, whichever consumer saw it."""
    out = []
    for p in node.parents:
        t = input_tensor(p)
        out.append(t if t is not None else canonical.setdefault(id(p.ctx), p))
    return out


def _chain_rule(root: Tensor, order: list, canonical: dict[int, object]) -> dict[int, np.ndarray]:
    """df/d(tensor) for every tensor of the graph, by the nodes' own backward rules (no .grad written)."""
    grads = {id(root): np.ones_like(root.numpy())}
    out_of = {id(root._ctx): root}
    for node in order:
        g = grads.get(id(out_of[id(node)])) if id(node) in out_of else None
        if g is None:
            continue
        for parent, pg in zip(_inputs(node, canonical), node.backward(g)):
            if pg is None:
                continue
            grads[id(parent)] = grads[id(parent)] + pg if id(parent) in grads else pg
            if parent._ctx is not None:
                out_of[id(parent._ctx)] = parent
    return grads


def graph(tensor: Tensor, names: dict[str, Tensor] | None = None,
          grads: bool | None = None) -> AutogradGraph:
    """The autograd graph that produced `tensor`, with each tensor's value and, for a scalar that
    requires grad (or grads=True), d tensor / d (each tensor). `names` labels tensors
    ({'x': x, 'y': y, 'z': z}); unnamed leaves show their `.grad` when backward() already ran."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"graph: expected a striate Tensor, got {type(tensor).__name__}")
    label_of = {id(t): n for n, t in (names or {}).items()}
    result = AutogradGraph()
    root_fn = tensor._ctx
    order = topological_order(root_fn) if root_fn is not None else []
    if any(node.parents is None for node in order):
        raise RuntimeError("graph: this graph was freed by backward(); call st.viz.graph(f) before "
                           "f.backward(), or backward(retain_graph=True)")
    want = tensor.requires_grad and tensor.numel() == 1 if grads is None else grads
    canonical: dict[int, object] = {}
    dvals = _chain_rule(tensor, order, canonical) if want and root_fn is not None else {}
    tensors: dict[int, Tensor] = {id(tensor): tensor}
    inputs_of = {id(node): _inputs(node, canonical) for node in order}
    for node in order:
        for p in inputs_of[id(node)]:
            tensors[id(p)] = p
    out_of = {}
    for t in tensors.values():
        if t._ctx is not None:
            out_of[id(t._ctx)] = t
    for tid, t in tensors.items():
        name = label_of.get(tid, "output" if t is tensor else ("input" if t._ctx is None else ""))
        if isinstance(t, ReleasedInput):  # its memory went back when the program dropped it
            lines = [(name + " = " if name else "") + f"{list(t.shape)} (released)"]
            g = dvals.get(tid)
        else:
            lines = [(name + " = " if name else "") + _fmt(t.numpy())]
            g = dvals.get(tid, t.grad.numpy() if t.grad is not None else None)
        if g is not None:
            lines.append(f"grad {_fmt(g)}")
        result.labels[("t", tid)], result.kinds[("t", tid)] = lines, "t"
    for node in order:
        name = type(node).__name__
        result.labels[("f", id(node))] = [_OP_SYMBOLS.get(name, name)]
        result.kinds[("f", id(node))] = "f"
        for p in inputs_of[id(node)]:
            result.edges.append((("t", id(p)), ("f", id(node))))
        result.edges.append((("f", id(node)), ("t", id(out_of[id(node)]))))
    return result

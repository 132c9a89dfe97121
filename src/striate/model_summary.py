"""`st.summary(model, input_size)`: the layer table of a model, in the style of Keras.

It runs one forward pass of a batch of one example with forward hooks on every leaf module and
returns a `Summary`: its `rows` (name, type, output_shape, params, connections, macs,
receptive_field, jump, warning), totals, and `str(summary)` is the table. The per-module counts
are `layer_accounting`'s; `striate summary MODEL` prints it from the command line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from striate.layer_accounting import (
    LayerRow,
    _adaptive_axes,
    _advance,
    _as_int,
    _class_names,
    _conv_geometry,
    _full_rf,
    _Geometry,
    _module_counts,
    _numel,
)


@dataclass
class Summary:
    """What `st.summary(model, input_size)` found: `rows`, totals, `warnings`; print it for the table."""

    model_name: str
    input_size: tuple[int, ...]
    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    buffer_elements: int
    output_shape: tuple[int, ...]
    dtype_bytes: int = 4
    warnings: list[str] = field(default_factory=list)

    @property
    def params(self) -> int:
        return self.total_params

    @property
    def total_connections(self) -> int:
        return sum(r.connections for r in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def activation_elements(self) -> int:
        return sum(_numel(r.output_shape) for r in self.rows)

    @property
    def activation_bytes(self) -> int:
        """Memory of every leaf layer's output for one example (what backward would keep)."""
        return self.activation_elements * self.dtype_bytes

    @property
    def input_bytes(self) -> int:
        return _numel(self.input_size) * self.dtype_bytes

    @property
    def param_bytes(self) -> int:
        return (self.total_params + self.buffer_elements) * self.dtype_bytes

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.activation_bytes + self.param_bytes

    def __getitem__(self, name: str) -> LayerRow:
        """The first row of the module called `name` (e.g. summary["C1"], summary["features.0"])."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no layer named {name!r} in this summary; names: {[r.name for r in self.rows]}")

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (for files and the dashboard)."""
        def fr(v):
            return None if v is None else [float(x) if isinstance(x, Fraction) else x for x in v]

        return {
            "model": self.model_name,
            "input_size": list(self.input_size),
            "rows": [{"name": r.name, "type": r.type, "output_shape": list(r.output_shape),
                      "params": r.params, "non_trainable_params": r.non_trainable_params,
                      "buffers": r.buffers, "connections": r.connections, "macs": r.macs,
                      "receptive_field": fr(r.receptive_field), "jump": fr(r.jump),
                      "warning": r.warning, "note": r.note} for r in self.rows],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "total_connections": self.total_connections,
            "total_macs": self.total_macs,
            "activation_bytes": self.activation_bytes,
            "param_bytes": self.param_bytes,
            "warnings": list(self.warnings),
        }

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return self.table()

    def table(self) -> str:
        """The Keras/torchinfo-style table."""
        header = ("Layer (type)", "Output Shape", "Param #", "Connections", "MACs", "RF", "Jump")
        lines_data = []
        for r in self.rows:
            label = f"{r.name} ({r.type})"
            if r.warning:
                label += " [!]"
            params = "(shared)" if r.shared else f"{r.params:,}"
            if r.non_trainable_params:
                params += f" +{r.non_trainable_params:,} frozen"
            lines_data.append((label, str(list(r.output_shape)), params, f"{r.connections:,}",
                               f"{r.macs:,}", _fmt_pair(r.receptive_field), _fmt_pair(r.jump)))
        widths = [max(len(h), *(len(row[i]) for row in lines_data)) if lines_data else len(h)
                  for i, h in enumerate(header)]
        right = {2, 3, 4, 5, 6}

        def fmt(cells):
            return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        total_width = sum(widths) + 2 * (len(widths) - 1)
        bar, thin = "=" * total_width, "-" * total_width
        mb = 1024 ** 2
        out = [f'Model: "{self.model_name}"   input (C, H, W): {list(self.input_size)}', bar, fmt(header),
               bar]
        out += [fmt(cells) for cells in lines_data]
        out += [bar,
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}"]
        if self.buffer_elements:
            out.append(f"Buffer elements (running stats, fixed tables): {self.buffer_elements:,}")
        out += [f"Connections: {self.total_connections:,}",
                f"Mult-adds (MACs): {self.total_macs:,} ({_fmt_big(self.total_macs)})",
                thin,
                f"Input size (MB): {self.input_bytes / mb:.2f}",
                f"Forward activations, one example, float32 (MB): {self.activation_bytes / mb:.2f}",
                f"Params + buffers size (MB): {self.param_bytes / mb:.2f}",
                f"Estimated total size (MB): {self.total_bytes / mb:.2f}",
                bar]
        notes = [f"{r.name}: {r.note}" for r in self.rows if r.note]
        if self.warnings:
            out.append("Warnings (the stride does not fit the input):")
            out += [f"  ! {w}" for w in self.warnings]
        if notes:
            out.append("Notes:")
            out += [f"  - {n}" for n in dict.fromkeys(notes)]
        out.append("RF = receptive field in input pixels; Jump = its step (effective stride) between "
                   "neighbouring units.")
        return "\n".join(out)


def _fmt_pair(values: Sequence[Any] | None) -> str:
    if values is None:
        return "-"
    texts = [str(v) for v in values]
    if len(set(texts)) == 1:
        return texts[0]
    return "x".join(texts)


def _fmt_big(n: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


# --------------------------------------------------------------------------- summary()
def _leaf_modules(model: Any) -> list[tuple[str, Any]]:
    leaves = []
    for name, module in model.named_modules():
        if not any(True for _ in module.children()):
            leaves.append((name or type(module).__name__, module))
    return leaves


def _input_size(input_size: Any) -> tuple[int, ...]:
    if isinstance(input_size, (int, np.integer)):
        input_size = (int(input_size),)
    if not isinstance(input_size, (tuple, list)) or not input_size:
        raise TypeError(f"summary: input_size must be one example's shape such as (1, 32, 32) for (C, H, W), "
                        f"got {input_size!r}")
    size = tuple(input_size)
    for v in size:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"summary: input_size entries must be positive integers, got {size}; "
                             "give one example's (C, H, W) without the batch dimension")
    return tuple(int(v) for v in size)


class _Tracker:
    """Hooks that turn each leaf module call into a LayerRow, tracking geometry through the graph."""

    def __init__(self, model: Any, input_tensor: Any) -> None:
        self.rows: list[LayerRow] = []
        self.warnings: list[str] = []
        self.geometry: dict[int, _Geometry] = {}
        self.keep_alive: list[Any] = [input_tensor]
        self.seen_modules: set[int] = set()
        self.last: _Geometry | None = None
        shape = tuple(input_tensor.shape[1:])
        spatial = len(shape) - 1
        if spatial >= 1:
            geom = _Geometry((1,) * spatial, (Fraction(1),) * spatial, shape)
        else:
            geom = _Geometry(None, None, shape)
        self.geometry[id(input_tensor)] = geom
        self.last = geom
        self.prefix_depth = {name: name.count(".") for name, _ in model.named_modules()}

    def _lookup(self, tensor: Any) -> _Geometry:
        """The geometry of a tensor: known if a hooked module made it, otherwise merged from the
        nearest hooked ancestors in the autograd graph (residual sums, concatenations, flattens)."""
        known = self.geometry.get(id(tensor))
        if known is not None:
            return known
        found: list[_Geometry] = []
        stack, visited = [tensor], set()
        while stack:
            t = stack.pop()
            if id(t) in visited:
                continue
            visited.add(id(t))
            g = self.geometry.get(id(t))
            if g is not None:
                found.append(g)
                continue
            ctx = getattr(t, "_ctx", None)
            if ctx is not None:
                stack.extend(getattr(ctx, "parents", ()))
        if not found:
            base = self.last
        else:
            # the widest receptive field wins (a sum or concatenation sees the union)
            base = max(found, key=lambda g: (0 if g.rf is None else max(g.rf)))
        shape = tuple(tensor.shape[1:])
        if base.rf is not None and len(shape) - 1 != len(base.rf):
            # reshaped away from a spatial layout (flatten): each value still sees the base's window,
            # but the layer that mixes them (Linear) is handled by _full_rf on the base geometry.
            return _Geometry(base.rf, base.jump, base.shape)
        return _Geometry(base.rf, base.jump, shape)

    def hook(self, name: str):
        def _hook(module: Any, inputs: tuple, output: Any) -> None:
            tensors = [x for x in inputs if hasattr(x, "_data")]
            outputs = output if isinstance(output, (tuple, list)) else (output,)
            out_t = next((o for o in outputs if hasattr(o, "_data")), None)
            if out_t is None:
                return
            in_geoms = [self._lookup(t) for t in tensors] or [self.last]
            geom_in = max(in_geoms, key=lambda g: (0 if g.rf is None else max(g.rf)))
            in_shape = tuple(tensors[0].shape[1:]) if tensors else ()
            out_shape = tuple(out_t.shape[1:])
            rf, jump, warning, note = self._geometry(module, geom_in, in_shape, out_shape, name)
            connections, macs = _module_counts(module, in_shape, out_shape)
            first = id(module) not in self.seen_modules
            self.seen_modules.add(id(module))
            params = nontrain = buffers = 0
            if first:
                for p in module.parameters(recurse=False):
                    if p.requires_grad:
                        params += p.numel()
                    else:
                        nontrain += p.numel()
                buffers = sum(b.numel() for b in _buffers(module))
            row = LayerRow(name, type(module).__name__, in_shape, out_shape, params, nontrain, buffers,
                           connections, macs, rf, jump, self.prefix_depth.get(name, 0), warning, note,
                           shared=not first and any(True for _ in module.parameters(recurse=False)))
            self.rows.append(row)
            if warning:
                self.warnings.append(warning)
            geom_out = _Geometry(rf, jump, out_shape)
            if rf is not None and jump is not None and len(out_shape) - 1 != len(rf):
                # flattened but not yet mixed (Flatten, Dropout): remember the spatial layout
                geom_out = _Geometry(rf, jump, geom_in.shape)
            for o in outputs:
                if hasattr(o, "_data"):
                    self.geometry[id(o)] = geom_out
                    self.keep_alive.append(o)
            self.last = geom_out

        return _hook

    def _geometry(self, module: Any, geom: _Geometry, in_shape: tuple, out_shape: tuple, name: str):
        names = _class_names(module)
        spatial_in = len(in_shape) - 1
        if any(n.startswith("ConvTranspose") for n in names):
            axes, _, _ = _conv_geometry(module, in_shape, out_shape, name, transposed=True)
            rf, jump = _advance(geom, axes, transposed=True)
            return rf, jump, None, None
        if any(n.startswith("Adaptive") and "Pool" in n for n in names) and geom.rf is not None:
            adaptive = _adaptive_axes(in_shape[1:], out_shape[1:])
            rf = tuple(_as_int(r + (k - 1) * j) for (k, _s), r, j in zip(adaptive, geom.rf, geom.jump))
            jump = tuple(j * s for (_k, s), j in zip(adaptive, geom.jump))
            note = None
            if any(Fraction(a, b).denominator != 1 for a, b in zip(in_shape[1:], out_shape[1:])):
                note = "adaptive pooling windows overlap or repeat (input size not a multiple of output size)"
            return rf, jump, None, note
        has_kernel = hasattr(module, "kernel_size") and spatial_in >= 1 and getattr(module, "kernel_size",
                                                                                     None) is not None
        if has_kernel:
            axes, warning, note = _conv_geometry(module, in_shape, out_shape, name)
            rf, jump = _advance(geom, axes)
            return rf, jump, warning, note
        mixes_features = callable(getattr(module, "summary_counts", None)) or any(
            True for _ in module.parameters())
        if mixes_features and len(out_shape) <= 1 and "Flatten" not in names:
            # a fully connected unit sees the whole volume in front of it
            return _full_rf(geom), None, None, None
        return geom.rf, geom.jump, None, None


def _buffers(module: Any) -> list[Any]:
    try:
        return list(module.buffers(recurse=False))
    except TypeError:
        return list(module.buffers())
    except AttributeError:
        return []


def summary(model: Any, input_size: Sequence[int] | int, *, dtype: Any = None,
            name: str | None = None) -> Summary:
    """Run one forward pass of a batch of one example and tabulate every leaf layer.

    `input_size` is one example's shape without the batch dimension, e.g. (1, 32, 32) for
    LeNet-5 or (3, 227, 227) for AlexNet. The model is put in eval mode for the pass (so
    BatchNorm uses its running statistics and Dropout is the identity) and every module's
    mode is restored afterwards; the input is zeros, so the global random stream is untouched.

    The pass records the autograd graph of that one example (not under `no_grad`): summing
    branches (ResNet) or concatenating them (GoogLeNet, U-Net) are plain tensor operations with
    no module to hook, and walking the graph back to the nearest hooked layers is how the
    receptive field of what follows them is known. Nothing is kept after the call.

    Each row: name, type, output_shape (per example), params (trainable), connections
    (LeCun's count of weight and bias uses), macs, receptive_field and jump (relative to the
    input), and a warning when a conv/pool stride does not fit: (W - F + 2P)/S + 1 is not an
    integer. Totals: params, trainable, non-trainable, MACs, activation and parameter memory.
    """
    import striate as st

    size = _input_size(input_size)
    if not hasattr(model, "named_modules") or not callable(model):
        raise TypeError(f"summary: expected an nn.Module, got {type(model).__name__}")
    dtype = st.float32 if dtype is None else dtype
    x = st.zeros((1, *size), dtype=dtype)
    x.requires_grad_(True)
    tracker = _Tracker(model, x)
    modes = [(m, m.training) for m in model.modules()]
    handles = [module.register_forward_hook(tracker.hook(leaf_name)) for leaf_name, module in
               _leaf_modules(model)]
    try:
        model.eval()
        with st.enable_grad():
            try:
                out = model(x)
            except Exception as e:  # give the input shape the user asked for
                raise RuntimeError(
                    f"summary: the forward pass of {type(model).__name__} failed on an input of shape "
                    f"{(1, *size)} (input_size={size}): {type(e).__name__}: {e}"
                ) from e
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.training = mode
    outputs = out if isinstance(out, (tuple, list)) else (out,)
    first_out = next((o for o in outputs if hasattr(o, "shape")), None)
    params = list(model.parameters())
    trainable = sum(p.numel() for p in params if p.requires_grad)
    total = sum(p.numel() for p in params)
    try:
        buffer_elems = sum(b.numel() for b in model.buffers() if np.dtype(b.dtype).kind == "f")
    except AttributeError:
        buffer_elems = 0
    itemsize = int(np.dtype(dtype).itemsize)
    result = Summary(
        model_name=name or type(model).__name__,
        input_size=size,
        rows=tracker.rows,
        total_params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
        buffer_elements=buffer_elems,
        output_shape=tuple(first_out.shape[1:]) if first_out is not None else (),
        dtype_bytes=itemsize,
        warnings=list(dict.fromkeys(tracker.warnings)),
    )
    del tracker, x, out, outputs, first_out
    return result

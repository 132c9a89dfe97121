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
    _input_size,
    _leaf_modules,
    _numel,
    _Tracker,
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

"""What `st.summary` counts for one module of a model: connections, MACs, receptive field.

`_Tracker` runs one forward pass with hooks on every leaf module; each module, with its input
and output shapes, becomes one `LayerRow` (parameters, LeCun's connections, multiply-adds,
receptive field and jump), with the one-layer arithmetic of `striate.sizing`. `model_summary`
turns the rows into the table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from striate.sizing import conv_output_size


def _class_names(module: Any) -> set[str]:
    return {cls.__name__ for cls in type(module).__mro__}


def _numel(shape: Sequence[int]) -> int:
    return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1


def _tuple_attr(module: Any, name: str, n: int, default: Any) -> tuple[int, ...]:
    value = getattr(module, name, default)
    if value is None:
        value = default
    if isinstance(value, str):  # padding='same' / 'valid' is resolved from the shapes later
        return (value,) * n  # type: ignore[return-value]
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value)
    return (int(value),) * n


@dataclass
class _Geometry:
    """Receptive field (in input pixels) and jump (effective stride) of a tensor's units, per axis."""

    rf: tuple[int, ...] | None  # None: not spatial (e.g. an MLP input)
    jump: tuple[Fraction, ...] | None  # None after a fully connected layer
    shape: tuple[int, ...]  # per-example shape of the tensor


@dataclass
class LayerRow:
    """One line of the summary: a leaf module's call.

    params: trainable parameters of the module (counted on its first call only);
    non_trainable_params: its parameters with requires_grad=False; buffers: elements in its
    buffers (BatchNorm running statistics, fixed RBF prototypes); connections: LeCun's count
    of weight and bias uses; macs: multiply-adds with weights; receptive_field / jump: the
    size (in input pixels) and spacing of the input window one output unit sees.
    """

    name: str
    type: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    non_trainable_params: int
    buffers: int
    connections: int
    macs: int
    receptive_field: tuple[int, ...] | None
    jump: tuple[Fraction, ...] | None
    depth: int = 0
    warning: str | None = None
    note: str | None = None
    shared: bool = False

    @property
    def rf(self) -> tuple[int, ...] | None:
        return self.receptive_field


def _conv_geometry(module: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...], name: str,
                   transposed: bool = False) -> tuple[list[tuple[int, ...]], str | None, str | None]:
    """Per spatial axis (kernel, stride, padding, dilation), plus a fit warning or ceil_mode note."""
    n = len(in_shape) - 1
    k = _tuple_attr(module, "kernel_size", n, 1)
    s = _tuple_attr(module, "stride", n, k if _is_pool(module) else 1)
    if _is_pool(module) and getattr(module, "stride", None) is None:
        s = k
    p = _tuple_attr(module, "padding", n, 0)
    d = _tuple_attr(module, "dilation", n, 1)
    if isinstance(p[0], str):  # 'valid' or 'same' (stride 1): recover the padding from the shapes
        p = tuple(0 if p[0] == "valid" else (d[i] * (k[i] - 1)) // 2 for i in range(n))
    axes = [(k[i], s[i], p[i], d[i]) for i in range(n)]
    warnings, notes = [], []
    ceil_mode = bool(getattr(module, "ceil_mode", False))
    square = n == 2 and in_shape[1] == in_shape[2] and len(set(axes)) == 1
    for i in ([] if transposed else range(1 if square else n)):
        axis = "row and column" if square else ("row" if (n == 2 and i == 0) else "column")
        try:
            o = conv_output_size(in_shape[1 + i], k[i], s[i], p[i], d[i], ceil_mode=ceil_mode, axis=axis)
        except (ValueError, TypeError):
            continue
        if not o.fits:
            # losing real input is a warning; dropping only padding, or ceil_mode's partial window, a note
            (warnings if o.unseen and not ceil_mode else notes).append(o.message)
    warning = f"{name}: " + "; ".join(dict.fromkeys(warnings)) if warnings else None
    note = "; ".join(dict.fromkeys(notes)) if notes else None
    return axes, warning, note


def _is_pool(module: Any) -> bool:
    return any(n.endswith("Pool1d") or n.endswith("Pool2d") for n in _class_names(module)) and not any(
        n.startswith("Adaptive") for n in _class_names(module))


def _advance(geom: _Geometry, axes: list[tuple[int, int, int, int]], transposed: bool = False) -> tuple:
    """r_out = r_in + (F' - 1) * j_in, j_out = j_in * S (transposed: j_out = j_in / S)."""
    if geom.rf is None or geom.jump is None or len(geom.rf) != len(axes):
        return geom.rf, geom.jump
    rf, jump = [], []
    for (k, s, _p, d), r, j in zip(axes, geom.rf, geom.jump):
        f_eff = d * (k - 1) + 1
        if transposed:
            # each output unit gathers ceil(F'/S) input units, spaced j_in apart
            rf.append(r + (math.ceil(Fraction(f_eff, s)) - 1) * j)
            jump.append(j / s)
        else:
            rf.append(r + (f_eff - 1) * j)
            jump.append(j * s)
    return tuple(_as_int(x) for x in rf), tuple(jump)


def _as_int(x: Fraction | int) -> Any:
    x = Fraction(x)
    return int(x) if x.denominator == 1 else x


def _full_rf(geom: _Geometry) -> tuple[int, ...] | None:
    """A unit that sees a whole spatial volume: r + (size - 1) * j per axis."""
    if geom.rf is None or geom.jump is None:
        return geom.rf
    spatial = geom.shape[1:]
    if len(spatial) != len(geom.rf):
        return geom.rf
    return tuple(_as_int(r + (n - 1) * j) for r, n, j in zip(geom.rf, spatial, geom.jump))


def _adaptive_axes(in_spatial: Sequence[int], out_spatial: Sequence[int]) -> list[tuple[int, Fraction]]:
    """Adaptive pooling window i spans [floor(i*in/out), ceil((i+1)*in/out)): largest window and stride."""
    axes = []
    for n_in, n_out in zip(in_spatial, out_spatial):
        widest = max(math.ceil(Fraction((i + 1) * n_in, n_out)) - (i * n_in) // n_out for i in range(n_out))
        axes.append((widest, Fraction(n_in, n_out)))
    return axes


def _module_counts(module: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> tuple[int, int]:
    """(connections, macs) for one call of a module on one example."""
    custom = getattr(module, "summary_counts", None)
    if callable(custom):
        counts = custom(in_shape, out_shape)
        return int(counts.get("connections", 0)), int(counts.get("macs", 0))
    names = _class_names(module)
    out_elems = _numel(out_shape)
    has_bias = getattr(module, "bias", None) is not None
    weight = getattr(module, "weight", None)
    if any(n.startswith("ConvTranspose") for n in names) and weight is not None:
        w_per_in = _numel(weight.shape[1:])  # (in, out/groups, kh, kw): out/groups * kh * kw per input
        macs = _numel(in_shape) * w_per_in
        return macs + (out_elems if has_bias else 0), macs
    if any(n in ("Conv1d", "Conv2d", "Conv3d") for n in names) and weight is not None:
        per_out = _numel(weight.shape[1:])  # in/groups * kh * kw
        macs = out_elems * per_out
        return macs + (out_elems if has_bias else 0), macs
    if "Linear" in names and weight is not None:
        macs = out_elems * int(weight.shape[1])
        return macs + (out_elems if has_bias else 0), macs
    if any(n.startswith("BatchNorm") for n in names) and weight is not None:
        # in eval mode y = x * w' + b': one multiply-add per element, two weight/bias uses
        return 2 * out_elems, out_elems
    if "Maxout" in names and weight is not None:
        macs = out_elems * _numel(weight.shape) // max(1, int(getattr(module, "out_features", 1)))
        return macs + (out_elems * int(getattr(module, "pieces", 1)) if has_bias else 0), macs
    return 0, 0


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

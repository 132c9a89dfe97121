"""`st.onnx.export(model, example_input, path)`: a striate model as an ONNX file.

How the graph is found: the model runs once on the example (in eval mode, recording the
autograd graph) with a forward hook on every module. Walking back from the output:

- a tensor that some module returned, where that module has a converter in
  `striate.onnx.modules` (batch norm, LRN, average/adaptive pooling, transposed convolution),
  becomes that module's ONNX node, its parameters named by their state-dict keys;
- any other tensor becomes the ONNX node of the `Function` that made it
  (`striate.onnx.functions`): this is what carries the functional code of `forward()` --
  ResNet's residual `out + identity`, GoogLeNet's and U-Net's `st.cat`, `x.view(N, -1)`,
  `F.relu`, `F.max_pool2d` -- which a module-by-module export would not see;
- a tensor that does not depend on the input (a parameter, a buffer, or something computed
  from them alone, such as LeNet-5's C3 kernel scattered into a dense one) becomes an
  initializer holding its value.

So export follows what the model computed, not what its modules are called; an operation with no
converter is refused with the name of the module whose forward ran it.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor
from striate.io_atomic import atomic_write_bytes
from striate.onnx.functions import FUNCTIONS
from striate.onnx.graph import OUTPUT_STRUCTURE, ExportError, GraphBuilder, require_onnx
from striate.onnx.modules import module_converter
from striate.ops.activation import inplace_as_copies


class _Record:
    """One call of a module: its tensor inputs (args then kwargs, flattened), its tensor outputs
    (`outputs` is the list when it returned a tuple, e.g. an RNN's (output, h_n)), and whether
    everything it took and returned was a tensor (a PackedSequence is not)."""

    __slots__ = ("name", "module", "inputs", "outputs", "complete")

    def __init__(self, name: str, module: Any, inputs: tuple, outputs: list | None, complete: bool) -> None:
        self.name, self.module, self.inputs = name, module, inputs
        self.outputs, self.complete = outputs, complete


def _leaves(value: Any) -> list:
    """The non-container values of nested tuples, lists and dicts, in order."""
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    return [value]


def _structure(value: Any, counter: list[int]) -> Any:
    """Nested lists of output indices ([0, [1, 2]] for (output, (h_n, c_n))), kept in the file so
    st.onnx.load returns the outputs nested as the model did."""
    if isinstance(value, (tuple, list)):
        return [_structure(v, counter) for v in value]
    counter[0] += 1
    return counter[0] - 1


class _Trace:
    def __init__(self, model: Any, args: tuple, xs: list[Tensor], g: GraphBuilder) -> None:
        self.model, self.args, self.g = model, args, g
        self.input_names = {id(x): "input" if i == 0 else f"input_{i}" for i, x in enumerate(xs)}
        self.records: dict[int, list[_Record]] = {}
        self.keep: list = []  # keeps hooked tensors alive so ids stay unique
        self.names: dict[int, str] = {}
        self.root_names: dict[int, str] = {}
        self.depends: dict[int, bool] = {}
        self.param_names = {id(t): k for k, t in model.state_dict(keep_vars=True).items()}
        g.value = self.leaf_name
        g.param_name = lambda t: self.param_names.get(id(t), "")

    def hook(self, name: str):
        def record(module: Any, args: tuple, kwargs: dict, output: Any) -> None:
            in_leaves, out_leaves = _leaves((args, kwargs)), _leaves(output)
            inputs = tuple(a for a in in_leaves if isinstance(a, Tensor))
            tensors = [o for o in out_leaves if isinstance(o, Tensor)]
            complete = len(inputs) == len([a for a in in_leaves if a is not None]) and len(tensors) == len(
                out_leaves)
            rec = _Record(name, module, inputs, tensors if not isinstance(output, Tensor) else None, complete)
            for t in tensors:
                if not any(t is a for a in inputs):
                    self.keep.append(t)
                    self.records.setdefault(id(t), []).append(rec)

        return record

    def run(self) -> Any:
        handles = [
            m.register_forward_hook(self.hook(name or type(m).__name__), with_kwargs=True)
            for name, m in self.model.named_modules()
        ]
        try:
            with inplace_as_copies():  # values are named by tensor identity: no aliasing
                out = self.model(*self.args)
        finally:
            for h in handles:
                h.remove()
        leaves = _leaves(out)
        if not leaves or not all(isinstance(t, Tensor) for t in leaves):
            raise ExportError(
                f"the model returned {type(out).__name__}; export needs a model returning a tensor "
                "or a (nested) tuple of tensors"
            )
        return out

    # ---------------------------------------------------------------- dependence on the input
    def depends_on_input(self, root: Tensor) -> bool:
        stack = [root]
        while stack:
            t = stack[-1]
            if id(t) in self.depends:
                stack.pop()
                continue
            if id(t) in self.input_names or t._ctx is None:
                self.depends[id(t)] = id(t) in self.input_names
                stack.pop()
                continue
            parents = t._ctx.parents
            todo = [p for p in parents if id(p) not in self.depends]
            if todo:
                stack.extend(todo)
                continue
            self.depends[id(t)] = any(self.depends[id(p)] for p in parents)
            stack.pop()
        return self.depends[id(root)]

    def leaf_name(self, t: Tensor) -> str:
        """The initializer for a tensor that does not depend on the input."""
        name = self.param_names.get(id(t))
        if name is not None:  # st.onnx.load makes parameters trainable again, buffers not
            role = "parameter" if t.requires_grad else "buffer"
            return self.g.initializer(t._data, name, role)
        return self.g.const(t._data, "const", key=t)

    # ---------------------------------------------------------------- what makes each tensor
    def plan(self, t: Tensor, context: str) -> tuple[str, Any, tuple, str]:
        for rec in reversed(self.records.get(id(t), [])):  # outermost module first
            if module_converter(rec.module) is not None:
                if not rec.complete:
                    raise ExportError(
                        f"module {rec.name!r} ({type(rec.module).__name__}) took or returned something "
                        "other than tensors (a PackedSequence?); export needs it called on tensors"
                    )
                return "module", rec, rec.inputs, rec.name
        recs = self.records.get(id(t))
        if recs:
            context = recs[0].name  # the innermost module that returned it
        fn = t._ctx
        if fn is None or fn.parents is None:
            raise ExportError(
                f"module {context!r}: a value was computed outside the recorded graph "
                "(under st.no_grad() or from .numpy()); export cannot follow it"
            )
        return "function", fn, tuple(fn.parents), context

    def emit(self, roots: list[Tensor]) -> list[str]:
        """Nodes for every output tensor; returns the graph's output names."""
        outputs = ["output" if i == 0 else f"output_{i}" for i in range(len(roots))]
        for t, name in zip(roots, outputs):
            self.root_names.setdefault(id(t), name)
        for root in roots:
            self._emit(root)
        for t, name in zip(roots, outputs):  # an input, a constant or a repeated tensor returned
            if self.names[id(t)] != name:
                self.g.node("Identity", [self.names[id(t)]], name)
        return outputs

    def _out_name(self, t: Tensor, ctx: str) -> str:
        return self.root_names.get(id(t)) or self.g.fresh(ctx.replace(".", "_") or "t")

    def _emit(self, root: Tensor) -> None:
        stack: list[tuple[Tensor, bool, str]] = [(root, False, "model")]
        while stack:
            t, expanded, context = stack.pop()
            if id(t) in self.names:
                continue
            if id(t) in self.input_names:
                self.names[id(t)] = self.input_names[id(t)]
                continue
            if not self.depends_on_input(t):
                self.names[id(t)] = self.leaf_name(t)
                continue
            kind, what, inputs, ctx = self.plan(t, context)
            if not expanded:
                stack.append((t, True, context))
                stack.extend((p, False, ctx) for p in inputs if id(p) not in self.names)
                continue
            ins = [self.names[id(p)] for p in inputs]
            try:
                if kind == "module" and what.outputs is not None:  # several outputs at once
                    outs = [self._out_name(o, ctx) for o in what.outputs]
                    module_converter(what.module)(self.g, what.module, ins, inputs, tuple(what.outputs), outs)
                    self.names.update({id(o): n for o, n in zip(what.outputs, outs)})
                    continue
                out = self._out_name(t, ctx)
                if kind == "module":
                    module_converter(what.module)(self.g, what.module, ins, inputs, t, out)
                else:
                    converter = FUNCTIONS.get(type(what).__name__)
                    if converter is None:
                        raise ExportError(f"the operation {type(what).__name__} has no ONNX converter")
                    converter(self.g, what, ins, inputs, t, out)
            except ExportError as exc:
                if str(exc).startswith("module "):
                    raise
                raise ExportError(
                    f"module {ctx!r} ({_module_type(self.model, ctx)}) cannot be exported: {exc}"
                ) from None
            self.names[id(t)] = out


def _module_type(model: Any, name: str) -> str:
    for n, m in model.named_modules():
        if n == name:
            return type(m).__name__
    return type(model).__name__


def _as_example(example_input: Any) -> Tensor:
    arr = example_input._data if isinstance(example_input, Tensor) else np.asarray(example_input)
    if arr.dtype.kind != "f":
        raise TypeError(f"st.onnx.export: example_input must be floating point, got {arr.dtype}")
    return Tensor(arr.copy(), dtype=arr.dtype, requires_grad=True)


def _as_arguments(example_input: Any, xs: list[Tensor]) -> Any:
    """A tuple example_input is the model's positional arguments (as torch.onnx.export's args):
    `(x, (h0, c0))` calls `model(x, (h0, c0))`; every tensor in it becomes a graph input, in order."""
    if isinstance(example_input, tuple):
        return tuple(_as_arguments(a, xs) for a in example_input)
    if example_input is None:
        return None
    xs.append(_as_example(example_input))
    return xs[-1]


def _value_info(onnx: Any, name: str, t: Tensor, first: Any, symbolic: bool) -> Any:
    """The declared type of a graph input or output: the first axis `first` (e.g. "N"), the others
    fixed, or (symbolic) every axis a name of its own."""
    shape: list = [f"{name}_{i}" for i in range(t.ndim)] if symbolic else list(t.shape)
    if first is not None and t.ndim:
        shape[0] = first
    return onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(t.dtype), shape)


def to_model_proto(model: Any, example_input: Any, opset: int = 17, dynamic_batch: bool = True) -> Any:
    """The ONNX ModelProto of `model` traced on `example_input` (not written anywhere)."""
    from striate.autograd.function import enable_grad
    from striate.autograd.released import keep_graph_inputs

    if opset < 13:
        raise ValueError(f"st.onnx.export: opset {opset} is too old; use 13 or later (default 17)")
    g = GraphBuilder(opset, None)
    onnx = g.onnx
    xs: list[Tensor] = []
    if isinstance(example_input, tuple):
        args = _as_arguments(example_input, xs)
    else:
        xs = [_as_example(example_input)]
        args = tuple(xs)
    x = xs[0]
    if dynamic_batch:
        if x.ndim < 2:
            raise ValueError("st.onnx.export: dynamic_batch=True needs a batched example input (N, ...)")
        g.batch = x.shape[0]
    was_training = [m.training for m in model.modules()]
    model.eval()
    try:
        with enable_grad(), keep_graph_inputs():  # the trace walks every node's input tensors
            trace = _Trace(model, args, xs, g)
            out = trace.run()
            outs = _leaves(out)
            out_names = trace.emit(outs)
    finally:
        for m, mode in zip(model.modules(), was_training):
            m.training = mode
    used = {name for node in g.nodes for name in node.input}  # e.g. a weight folded into a constant
    batch = "N" if dynamic_batch else None
    in_names = ["input" if i == 0 else f"input_{i}" for i in range(len(xs))]
    graph = onnx.helper.make_graph(
        g.nodes,
        type(model).__name__,
        [_value_info(onnx, n, t, batch if i == 0 else None, dynamic_batch and i > 0)
         for i, (n, t) in enumerate(zip(in_names, xs))],
        # the extra inputs and outputs (an RNN's h0, h_n) have their batch elsewhere than axis 0
        [_value_info(onnx, n, t, batch if i == 0 else None, dynamic_batch and i > 0)
         for i, (n, t) in enumerate(zip(out_names, outs))],
        initializer=[t for name, t in g.initializers.items() if name in used],
    )
    proto = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", opset)], producer_name="striate"
    )
    if not isinstance(out, Tensor):
        onnx.helper.set_model_props(proto, {OUTPUT_STRUCTURE: json.dumps(_structure(out, [0]))})
    proto.ir_version = min(proto.ir_version, 8 if opset <= 17 else 9)  # what onnxruntime releases accept
    return proto


def export(
    model: Any, example_input: Any, path: str | os.PathLike, opset: int = 17, dynamic_batch: bool = True
) -> Any:
    """Write `model` as an ONNX file runnable by onnxruntime (and viewable in Netron).

    The model runs once on `example_input` (in eval mode; its training mode is restored after):
    dropout becomes the identity, batch norm uses its running statistics. With
    `dynamic_batch=True` the first axis of input and output is named "N" and any batch size
    runs (for a time-major recurrent model that axis is time). A tuple `example_input` holds
    the model's arguments, e.g. `(x, (h0, c0))` for an nn.LSTM: the graph's inputs are
    "input", "input_1", ...; a model returning a (nested) tuple has outputs "output",
    "output_1", ... (`st.onnx.load` nests them again). The file passes
    `onnx.checker.check_model(full_check=True)` before it is written
    (atomically). Returns the ModelProto.
    """
    proto = to_model_proto(model, example_input, opset, dynamic_batch)
    onnx = require_onnx()
    onnx.checker.check_model(proto, full_check=True)
    atomic_write_bytes(os.fspath(path), proto.SerializeToString())
    return proto

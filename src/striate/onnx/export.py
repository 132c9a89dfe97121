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

import os
from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor
from striate.io_atomic import atomic_write_bytes
from striate.onnx.functions import FUNCTIONS
from striate.onnx.graph import ExportError, GraphBuilder, require_onnx
from striate.onnx.modules import module_converter
from striate.ops.activation import inplace_as_copies


class _Record:
    __slots__ = ("name", "module", "inputs")

    def __init__(self, name: str, module: Any, inputs: tuple) -> None:
        self.name, self.module, self.inputs = name, module, inputs


class _Trace:
    def __init__(self, model: Any, x: Tensor, g: GraphBuilder) -> None:
        self.model, self.x, self.g = model, x, g
        self.records: dict[int, list[_Record]] = {}
        self.keep: list = []  # keeps hooked tensors alive so ids stay unique
        self.names: dict[int, str] = {}
        self.depends: dict[int, bool] = {}
        self.param_names = {id(t): k for k, t in model.state_dict(keep_vars=True).items()}
        g.value = self.leaf_name

    def hook(self, name: str):
        def record(module: Any, inputs: tuple, output: Any) -> None:
            if isinstance(output, Tensor) and not any(output is a for a in inputs):
                self.keep.append(output)
                self.records.setdefault(id(output), []).append(_Record(name, module, inputs))

        return record

    def run(self) -> Tensor:
        handles = [
            m.register_forward_hook(self.hook(name or type(m).__name__))
            for name, m in self.model.named_modules()
        ]
        try:
            with inplace_as_copies():  # values are named by tensor identity: no aliasing
                out = self.model(self.x)
        finally:
            for h in handles:
                h.remove()
        if not isinstance(out, Tensor):
            raise ExportError(
                f"the model returned {type(out).__name__}; export needs a model returning one tensor"
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
            if t is self.x or t._ctx is None:
                self.depends[id(t)] = t is self.x
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
                return "module", rec, tuple(a for a in rec.inputs if isinstance(a, Tensor)), rec.name
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

    def emit(self, root: Tensor) -> str:
        stack: list[tuple[Tensor, bool, str]] = [(root, False, "model")]
        while stack:
            t, expanded, context = stack.pop()
            if id(t) in self.names:
                continue
            if t is self.x:
                self.names[id(t)] = "input"
                continue
            if not self.depends_on_input(t):
                self.names[id(t)] = self.leaf_name(t)
                continue
            kind, what, inputs, ctx = self.plan(t, context)
            if not expanded:
                stack.append((t, True, context))
                stack.extend((p, False, ctx) for p in inputs if id(p) not in self.names)
                continue
            out = "output" if t is root else self.g.fresh(ctx.replace(".", "_") or "t")
            ins = [self.names[id(p)] for p in inputs]
            try:
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
        if self.names[id(root)] != "output":  # the output is the input itself, or a constant
            self.g.node("Identity", [self.names[id(root)]], "output")
        return "output"


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


def to_model_proto(model: Any, example_input: Any, opset: int = 17, dynamic_batch: bool = True) -> Any:
    """The ONNX ModelProto of `model` traced on `example_input` (not written anywhere)."""
    from striate.autograd.function import enable_grad

    if opset < 13:
        raise ValueError(f"st.onnx.export: opset {opset} is too old; use 13 or later (default 17)")
    g = GraphBuilder(opset, None)
    onnx = g.onnx
    x = _as_example(example_input)
    if dynamic_batch:
        if x.ndim < 2:
            raise ValueError("st.onnx.export: dynamic_batch=True needs a batched example input (N, ...)")
        g.batch = x.shape[0]
    was_training = [m.training for m in model.modules()]
    model.eval()
    try:
        with enable_grad():
            trace = _Trace(model, x, g)
            out = trace.run()
            trace.emit(out)
    finally:
        for m, mode in zip(model.modules(), was_training):
            m.training = mode
    used = {name for node in g.nodes for name in node.input}  # e.g. a weight folded into a constant
    elem = onnx.helper.np_dtype_to_tensor_dtype(x.dtype)
    batch = ["N"] if dynamic_batch else [x.shape[0]]
    graph = onnx.helper.make_graph(
        g.nodes,
        type(model).__name__,
        [onnx.helper.make_tensor_value_info("input", elem, batch + list(x.shape[1:]))],
        [
            onnx.helper.make_tensor_value_info(
                "output",
                onnx.helper.np_dtype_to_tensor_dtype(out.dtype),
                (batch if out.ndim and dynamic_batch else [out.shape[0]] if out.ndim else [])
                + list(out.shape[1:]),
            )
        ],
        initializer=[t for name, t in g.initializers.items() if name in used],
    )
    proto = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", opset)], producer_name="striate"
    )
    proto.ir_version = min(proto.ir_version, 8 if opset <= 17 else 9)  # what onnxruntime releases accept
    return proto


def export(
    model: Any, example_input: Any, path: str | os.PathLike, opset: int = 17, dynamic_batch: bool = True
) -> Any:
    """Write `model` as an ONNX file runnable by onnxruntime (and viewable in Netron).

    The model runs once on `example_input` (in eval mode; its training mode is restored after):
    dropout becomes the identity, batch norm uses its running statistics. With
    `dynamic_batch=True` the first axis of input and output is named "N" and any batch size
    runs. The file passes `onnx.checker.check_model(full_check=True)` before it is written
    (atomically). Returns the ModelProto.
    """
    proto = to_model_proto(model, example_input, opset, dynamic_batch)
    onnx = require_onnx()
    onnx.checker.check_model(proto, full_check=True)
    atomic_write_bytes(os.fspath(path), proto.SerializeToString())
    return proto

"""`st.onnx.load(path)`: an ONNX file as a striate Module that runs and can be fine-tuned.

The graph's nodes run in file order (ONNX requires topological order) through striate's own
operations (`striate.onnx.runners`), so gradients flow through them like through any model.
Initializers become:

- Parameters (trainable) when the file says so (striate writes "parameter" in their
  doc_string) or, in other producers' files, when they are the weight or bias of a Conv,
  ConvTranspose, Gemm, MatMul or BatchNormalization;
- buffers (batch norm's running statistics: updated in training mode, saved in state_dict);
- constants (shapes, axes, folded values).

Parameters and buffers are registered under their dotted names, so a model exported by
striate loads back with the same state-dict keys (`conv1.weight`, `layer1.0.bn1.running_mean`).
Every operator of the file is checked before anything runs; unknown ones are all named.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor
from striate.creation import from_numpy
from striate.nn.module import Module
from striate.nn.parameter import Parameter
from striate.onnx.graph import require_onnx
from striate.onnx.runners import RUNNERS, Node, OnnxImportError

_WEIGHT_INPUTS = {
    "Conv": (1, 2),
    "ConvTranspose": (1, 2),
    "Gemm": (1, 2),
    "MatMul": (1,),
    "BatchNormalization": (1, 2),
}
_BUFFER_INPUTS = {"BatchNormalization": (3, 4)}
_DOTTED = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")


class OnnxModule(Module):
    """A model read from an ONNX file: `forward(x)` runs the file's graph with striate's operations."""

    def __init__(
        self,
        nodes: list[Node],
        input_name: str,
        output_name: str,
        constants: dict[str, np.ndarray],
        tensor_paths: dict[str, str],
    ) -> None:
        super().__init__()
        self._nodes = nodes
        self._input_name = input_name
        self._output_name = output_name
        self._constants = constants  # name -> array (never trained, not in state_dict)
        self._tensor_paths = tensor_paths  # initializer name -> dotted attribute path
        self._constant_tensors: dict[str, Tensor] = {}
        self._shapes: dict[str, Any] = {}

    def tensor(self, name: str) -> Tensor:
        """The Parameter, buffer or constant named `name` in the file."""
        path = self._tensor_paths.get(name)
        if path is not None:
            owner = self
            *parents, attr = path.split(".")
            for p in parents:
                owner = getattr(owner, p)
            return getattr(owner, attr)
        t = self._constant_tensors.get(name)
        if t is None:
            t = self._constant_tensors[name] = from_numpy(self._constants[name])
        return t

    def constant(self, name: str, what: str) -> np.ndarray:
        """A value the graph needs as plain numbers (a shape, axes, pads): a constant of the file,
        or a shape computed from the input's shape during this forward."""
        computed = self._shapes.get(name) if hasattr(self, "_shapes") else None
        if isinstance(computed, np.ndarray):
            return computed
        if name not in self._constants:
            raise OnnxImportError(
                f"{what} ({name!r}) is computed inside the graph; only constant {what} can be loaded"
            )
        return self._constants[name]

    def forward(self, x: Tensor) -> Tensor:
        # integer values (shapes, indices: PyTorch's exporter computes x.view(x.size(0), -1) with
        # Shape/Gather/Concat) stay NumPy arrays; everything else is a Tensor
        env: dict[str, Any] = {self._input_name: x, "": None}
        self._shapes = env
        try:
            for node in self._nodes:
                args = [env[n] if n in env else self._value(n) for n in node.inputs]
                env[node.outputs[0]] = RUNNERS[node.op](self, node, args)
        finally:
            self._shapes = {}
        return env[self._output_name]

    def _value(self, name: str) -> Any:
        if name == "":
            return None
        arr = self._constants.get(name)
        if arr is not None and arr.dtype.kind in "iub":
            return arr
        return self.tensor(name)

    def extra_repr(self) -> str:
        return f"{len(self._nodes)} nodes"


def _holder(root: Module, parts: list[str]) -> Module:
    owner = root
    for p in parts:
        child = owner._modules.get(p)
        if child is None:
            child = Module()
            owner.add_module(p, child)
        owner = child
    return owner


def _roles(graph: Any) -> dict[str, str]:
    roles = {}
    for node in graph.node:
        for kind, table in (("parameter", _WEIGHT_INPUTS), ("buffer", _BUFFER_INPUTS)):
            for i in table.get(node.op_type, ()):
                if i < len(node.input):
                    roles.setdefault(node.input[i], kind)
    return roles


def load(path: str | os.PathLike) -> OnnxModule:
    """Read an ONNX file (one input, one output, the operators of `striate.onnx.runners`) as a Module."""
    onnx = require_onnx()
    path = os.fspath(path)
    try:
        proto = onnx.load(path, load_external_data=False)  # never read files the model names
    except (OSError, ValueError) as exc:
        raise OnnxImportError(f"{path}: not a readable ONNX file: {exc}") from None
    except Exception as exc:  # protobuf's DecodeError has no stable import path
        raise OnnxImportError(f"{path}: not a readable ONNX file ({type(exc).__name__}: {exc})") from None
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as exc:
        raise OnnxImportError(f"{path}: not a valid ONNX model: {str(exc).splitlines()[0]}") from None
    graph = proto.graph
    external = [t.name for t in graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    if external:
        raise OnnxImportError(f"{path}: tensors stored in external files ({', '.join(external[:3])}) are not "
                              "loaded; save the model with its weights inside the .onnx file")
    unknown = sorted(
        {
            n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}"
            for n in graph.node
            if (n.op_type not in RUNNERS and n.op_type != "Constant") or n.domain not in ("", "ai.onnx")
        }
    )
    if unknown:
        raise OnnxImportError(
            f"{path}: operators striate cannot run: {', '.join(unknown)} "
            f"(it runs {', '.join(sorted(RUNNERS))})"
        )
    init_names = {t.name for t in graph.initializer}
    inputs = [i.name for i in graph.input if i.name not in init_names]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise OnnxImportError(
            f"{path}: st.onnx.load takes graphs with one input and one output, this one has "
            f"{len(inputs)} inputs and {len(graph.output)} outputs"
        )
    constants: dict[str, np.ndarray] = {}
    paths: dict[str, str] = {}
    guessed = _roles(graph)
    params: list[tuple[str, str, np.ndarray]] = []
    for t in graph.initializer:
        arr = np.array(onnx.numpy_helper.to_array(t))
        role = (
            t.doc_string
            if proto.producer_name == "striate" and t.doc_string
            else guessed.get(t.name, "constant")
        )
        if role in ("parameter", "buffer") and arr.dtype.kind == "f":
            params.append((t.name, role, arr))
        else:
            constants[t.name] = arr
    for node in graph.node:
        if node.op_type == "Constant":
            constants[node.output[0]] = np.array(onnx.numpy_helper.to_array(node.attribute[0].t))
    nodes = [Node.from_proto(n, onnx) for n in graph.node if n.op_type != "Constant"]
    module = OnnxModule(nodes, inputs[0], graph.output[0].name, constants, paths)
    for name, role, arr in params:
        dotted = name if _DOTTED.match(name) else re.sub(r"[^A-Za-z0-9_.]", "_", name).strip(".") or "t"
        if hasattr(OnnxModule, dotted.split(".")[0]) or dotted.startswith("_"):
            dotted = "p" + dotted  # never shadow a method or an internal attribute
        while dotted in paths.values():
            dotted += "_"
        *parents, attr = dotted.split(".")
        owner = _holder(module, parents)
        if role == "parameter":
            owner.register_parameter(attr, Parameter(from_numpy(arr.copy())))
        else:
            owner.register_buffer(attr, from_numpy(arr.copy()))
        paths[name] = dotted
    module.eval()
    return module

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

import json
import os
import re
from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor
from striate.creation import from_numpy
from striate.nn.module import Module
from striate.nn.parameter import Parameter
from striate.onnx import layer_norm as _layer_norm  # noqa: F401 (registers LayerNormalization's runner)
from striate.onnx import shapes as _shapes  # noqa: F401 (registers Shape, Gather, Expand, ConstantOfShape)
from striate.onnx.graph import OUTPUT_STRUCTURE, require_onnx
from striate.onnx.recurrent import recurrent_parameters
from striate.onnx.runners import RUNNERS, Node, OnnxImportError

_WEIGHT_INPUTS = {
    "Conv": (1, 2),
    "ConvTranspose": (1, 2),
    "Gemm": (1, 2),
    "MatMul": (1,),
    "BatchNormalization": (1, 2),
    "LayerNormalization": (1, 2),
}
_BUFFER_INPUTS = {"BatchNormalization": (3, 4)}
_DOTTED = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")


class OnnxModule(Module):
    """A model read from an ONNX file: `forward(x)` runs the file's graph with striate's operations."""

    def __init__(
        self,
        nodes: list[Node],
        input_names: list[str],
        output_names: list[str],
        constants: dict[str, np.ndarray],
        tensor_paths: dict[str, str],
        output_structure: Any = None,
    ) -> None:
        super().__init__()
        self._nodes = nodes
        self._input_names = input_names
        self._output_names = output_names
        self._output_structure = output_structure  # nested output indices, from striate's metadata
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

    def forward(self, *inputs: Any) -> Any:
        """The graph's outputs for its inputs, given in the file's order; nested tuples are
        flattened (an exported nn.LSTM runs as `loaded(x, (h0, c0))`). Several outputs come back
        as a tuple, nested as the exported model returned them."""
        xs = _flatten(inputs)
        if len(xs) != len(self._input_names):
            raise TypeError(f"{type(self).__name__}: the graph takes {len(self._input_names)} input(s) "
                            f"({', '.join(self._input_names)}), got {len(xs)}")
        # integer values (shapes, indices: PyTorch's exporter computes x.view(x.size(0), -1) with
        # Shape/Gather/Concat) stay NumPy arrays; everything else is a Tensor
        env: dict[str, Any] = {**dict(zip(self._input_names, xs)), "": None}
        self._shapes = env
        try:
            for node in self._nodes:
                args = [env[n] if n in env else self._value(n) for n in node.inputs]
                result = RUNNERS[node.op](self, node, args)
                if isinstance(result, tuple):  # RNN/LSTM/GRU: Y, Y_h (, Y_c)
                    env.update({n: r for n, r in zip(node.outputs, result) if n})
                else:
                    env[node.outputs[0]] = result
        finally:
            self._shapes = {}
        outs = [env[n] if n in env else self._value(n) for n in self._output_names]
        if len(outs) == 1:
            return outs[0]
        return _nest(self._output_structure, outs) if self._output_structure is not None else tuple(outs)

    def _value(self, name: str) -> Any:
        if name == "":
            return None
        arr = self._constants.get(name)
        if arr is not None and arr.dtype.kind in "iub":
            return arr
        return self.tensor(name)

    def extra_repr(self) -> str:
        return f"{len(self._nodes)} nodes"


def _flatten(value: Any) -> list:
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _flatten(v)]
    return [value]


def _nest(structure: Any, outs: list) -> Any:
    if isinstance(structure, list):
        return tuple(_nest(s, outs) for s in structure)
    return outs[structure]


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
    if not inputs or not graph.output:
        raise OnnxImportError(f"{path}: the graph has {len(inputs)} inputs and {len(graph.output)} outputs; "
                              "st.onnx.load needs at least one of each")
    striate_file = proto.producer_name == "striate"
    constants: dict[str, np.ndarray] = {}
    paths: dict[str, str] = {}
    guessed = _roles(graph)
    params: list[tuple[str, str, np.ndarray]] = []
    for t in graph.initializer:
        arr = np.array(onnx.numpy_helper.to_array(t))
        role = t.doc_string if striate_file and t.doc_string else guessed.get(t.name, "constant")
        if role in ("parameter", "buffer") and arr.dtype.kind == "f":
            params.append((t.name, role, arr))
        else:
            constants[t.name] = arr
    for node in graph.node:
        if node.op_type == "Constant":
            constants[node.output[0]] = np.array(onnx.numpy_helper.to_array(node.attribute[0].t))
    nodes = [Node.from_proto(n, onnx) for n in graph.node if n.op_type != "Constant"]
    shared: dict[tuple, list] = {}  # a layer called twice (same W, R, B) keeps one set of Parameters
    for i, node in enumerate(nodes):
        if node.op in ("RNN", "LSTM", "GRU"):
            weights = tuple(node.inputs[1:4])  # the stored W, R, B tensors' names
            if weights in shared:
                node.attrs["_weights"] = shared[weights]
                continue
            params += _recurrent_parameters(node, i, constants, striate_file)
            shared[weights] = node.attrs["_weights"]
    structure = {p.key: p.value for p in proto.metadata_props}.get(OUTPUT_STRUCTURE) if striate_file else None
    module = OnnxModule(nodes, inputs, [o.name for o in graph.output], constants, paths,
                        json.loads(structure) if structure else None)
    for name, role, arr in params:
        paths[name] = _register(module, name, role, arr, paths)
    module.eval()
    return module


def _recurrent_parameters(node: Node, index: int, constants: dict[str, np.ndarray],
                          striate_file: bool) -> list[tuple[str, str, np.ndarray]]:
    """An RNN/LSTM/GRU node's weights as Parameters in PyTorch's layout, named as in nn.LSTM
    (under the exporting module's path in striate's files); the node remembers their keys."""
    if not striate_file:
        node.doc = ""  # only striate's own note on the node names the module
    prefix, directions = recurrent_parameters(node, constants)
    node.attrs["_weights"] = [[f"#{index}:{prefix}.{k}" if prefix else f"#{index}:{k}" for k in weights]
                              for weights in directions]
    return [(key, "parameter", arr) for keys, weights in zip(node.attrs["_weights"], directions)
            for key, arr in zip(keys, weights.values())]


def _register(module: OnnxModule, name: str, role: str, arr: np.ndarray, paths: dict[str, str]) -> str:
    """A Parameter or buffer on `module` under the file's (dotted) name; returns the attribute path."""
    if name.startswith("#"):  # a recurrent node's weight: "#<node>:<module path>.<nn.LSTM name>"
        name = name.split(":", 1)[1]
    dotted = name if _DOTTED.match(name) else re.sub(r"[^A-Za-z0-9_.]", "_", name).strip(".") or "t"
    if hasattr(OnnxModule, dotted.split(".")[0]) or dotted.startswith("_"):
        dotted = "p" + dotted  # never shadow a method or an internal attribute
    taken = set(paths.values())
    while dotted in taken:
        dotted += "_"
    *parents, attr = dotted.split(".")
    owner = _holder(module, parents)
    if role == "parameter":
        owner.register_parameter(attr, Parameter(from_numpy(arr.copy())))
    else:
        owner.register_buffer(attr, from_numpy(arr.copy()))
    return dotted

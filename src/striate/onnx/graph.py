"""The ONNX graph under construction: fresh value names, nodes, initializers.

Converters (`striate.onnx.modules`, `striate.onnx.functions`) add nodes through `GraphBuilder`
only, so naming and the `onnx.helper` calls live in one place.
"""

from __future__ import annotations

from typing import Any

import numpy as np

OUTPUT_STRUCTURE = "striate.outputs"  # metadata key: how a tuple-returning model nests its outputs


class ExportError(ValueError):
    """A model (or one of its modules or operations) that cannot be written as ONNX."""


def require_onnx() -> Any:
    """The `onnx` package, or a clear message on how to get it."""
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "st.onnx needs onnx (and onnxruntime to run the result): pip install 'striate[onnx]'"
        ) from None
    return onnx


class GraphBuilder:
    def __init__(self, opset: int, batch: int | None) -> None:
        self.onnx = require_onnx()
        self.opset = opset
        self.batch = batch  # the example's batch size when the batch axis is dynamic, else None
        self.nodes: list = []
        self.initializers: dict[str, Any] = {}
        self.const_ids: dict[int, str] = {}
        self.used: set[str] = {"input", "output"}
        self.ops: set[str] = set()
        self.dtype: Any = None  # the floating type of the value being converted, where a converter needs it
        self.param_name: Any = lambda t: ""  # a parameter's state-dict key (set by the tracer)

    def fresh(self, hint: str) -> str:
        base = hint.replace("/", "_") or "t"
        name, n = base, 1
        while name in self.used:
            name, n = f"{base}_{n}", n + 1
        self.used.add(name)
        return name

    def node(self, op: str, inputs: list[str], out: str | None = None, hint: str = "", **attrs: Any) -> str:
        out = out or self.fresh(hint or op.lower())
        self.ops.add(op)
        self.nodes.append(
            self.onnx.helper.make_node(op, inputs, [out], name=self.fresh("n_" + (hint or op)), **attrs)
        )
        return out

    def initializer(self, array: np.ndarray, name: str, role: str = "constant") -> str:
        """A named tensor of the file; `role` (parameter, buffer, constant) goes in its doc_string."""
        if name in self.initializers:
            return name
        self.used.add(name)
        arr = np.array(array, order="C")  # (ascontiguousarray would make a 0-d value 1-d)
        proto = self.onnx.numpy_helper.from_array(arr, name)
        proto.doc_string = role
        self.initializers[name] = proto
        return name

    def const(self, array: Any, hint: str = "const", key: Any = None) -> str:
        """A constant tensor; `key` (an object) names it once however often it is used."""
        if key is not None and id(key) in self.const_ids:
            return self.const_ids[id(key)]
        name = self.initializer(np.asarray(array), self.fresh(hint))
        if key is not None:
            self.const_ids[id(key)] = name
        return name

    def ints(self, values: Any, hint: str = "shape") -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), hint)

    def batch_shape(self, shape: tuple[int, ...], in_shape: tuple[int, ...]) -> list[int]:
        """A Reshape target: the batch axis copied from the input (0) when it is dynamic."""
        target = list(shape)
        if self.batch is not None and target and in_shape and target[0] == in_shape[0] == self.batch:
            target[0] = 0
        elif self.batch is not None and target:
            raise ExportError(
                f"a reshape from {in_shape} to {tuple(shape)} mixes the batch axis with others; "
                "export with dynamic_batch=False"
            )
        return target

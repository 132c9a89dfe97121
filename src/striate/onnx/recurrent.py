"""nn.RNN / nn.LSTM / nn.GRU as ONNX RNN / LSTM / GRU nodes (export) and back (import).

One ONNX node per layer, both directions in it (direction="bidirectional"). The operators
compute, per direction, with the weights W [D, G*H, I], R [D, G*H, H], B [D, 2*G*H] = [Wb, Rb]:

    RNN:  H_t = f(X_t W^T + H_{t-1} R^T + Wb + Rb),  f = Tanh or Relu
    LSTM: [i o f c] gates, C_t = f * C_{t-1} + i * c,  H_t = o * tanh(C_t)
    GRU (linear_before_reset=1): [z r h] gates, h = tanh(X_t Wh^T + Wbh + r * (H_{t-1} Rh^T + Rbh)),
          H_t = (1 - z) * h + z * H_{t-1}

which is PyTorch's (and striate's) math with the gate blocks in another order: PyTorch stores
LSTM rows as i, f, g, o and GRU rows as r, z, n. ONNX's Y is [T, D, N, H]; PyTorch's output is
[T, N, D*H] (Transpose + Reshape), and h_n stacks every layer's Y_h [D, N, H] (Concat).

Import runs each node with striate's recurrent layer Functions (`striate.ops.recurrent`), on
Parameters converted back to PyTorch's layout and named as nn.RNN/LSTM/GRU names them
(`rnn.weight_ih_l1_reverse`): a file exported by striate loads with the original state-dict keys.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from striate.creation import zeros
from striate.nn.layers.recurrent import RNNBase
from striate.onnx.graph import ExportError, GraphBuilder
from striate.onnx.runners import runs
from striate.ops.recurrent import recurrent_layer
from striate.ops.shape import stack

# PyTorch's gate blocks, in the order ONNX wants them (ONNX block k = PyTorch block ORDER[k])
_ORDER = {"RNN": (0,), "LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2)}
_OP = {"RNN_TANH": "RNN", "RNN_RELU": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
_SUFFIXES = ("", "_reverse")
_TORCH_NODE = re.compile(r"^(.*)/(RNN|LSTM|GRU)(?:_(\d+))?$")


def _blocks(a: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
    """Rows of `a` (G*H, ...) as G gate blocks, taken in `order`."""
    parts = np.split(a, len(order), axis=0)
    return np.concatenate([parts[k] for k in order], axis=0)


def _inverse(order: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argsort(order))


# ---------------------------------------------------------------------------------------- export
def _onnx_weights(m: RNNBase, layer: int, op: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """W [D, G*H, I], R [D, G*H, H], B [D, 2*G*H] (None without bias) of one layer, ONNX's gate order."""
    order = _ORDER[op]
    W, R, B = [], [], []
    for suffix in _SUFFIXES[: 2 if m.bidirectional else 1]:
        w = {k: getattr(m, f"{k}_l{layer}{suffix}") for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
             if hasattr(m, f"{k}_l{layer}{suffix}")}
        W.append(_blocks(w["weight_ih"]._data, order))
        R.append(_blocks(w["weight_hh"]._data, order))
        if m.bias:
            B.append(np.concatenate([_blocks(w["bias_ih"]._data, order), _blocks(w["bias_hh"]._data, order)]))
    return np.stack(W), np.stack(R), (np.stack(B) if m.bias else None)


def _initial_states(g: GraphBuilder, m: RNNBase, ins: list, inputs: tuple) -> list[str]:
    """The names of the initial states the nodes get, (L*D, N, H) each: none when none were given
    or all are constant zeros (ONNX's default, and then any batch size runs)."""
    n_states = 2 if m.mode == "LSTM" else 1
    if len(inputs) not in (1, 1 + n_states):
        raise ExportError(f"expected the input and {'(h0, c0)' if n_states == 2 else 'h0'} or no initial "
                          f"state, got {len(inputs)} tensors")
    given = range(1, len(inputs))
    constant = [ins[i] in g.initializers for i in given]
    if all(constant) and all(not inputs[i]._data.any() for i in given):
        return []
    if any(constant) and g.batch is not None and m.batch_first:
        raise ExportError("its initial state is a constant made for the example's batch size; pass h0 "
                          "(and c0) as inputs of the model or export with dynamic_batch=False")
    if inputs[0].ndim == 2:  # unbatched: (L*D, H) -> (L*D, 1, H)
        return [g.node("Unsqueeze", [ins[i], g.ints([1], "axes")]) for i in given]
    return [ins[i] for i in given]


def _layer_node(g: GraphBuilder, m: RNNBase, layer: int, x: str, states: list[str], finals: list[str] | None,
                dtype: Any) -> tuple[str, list[str]]:
    """One layer's RNN/LSTM/GRU node on x [T, N, I]: returns Y [T, D, N, H] and its Y_h (, Y_c)
    names (`finals` when given: the layer's states are the module's h_n (, c_n) themselves)."""
    op, D = _OP[m.mode], 2 if m.bidirectional else 1
    prefix = g.param_name(m.weight_ih_l0)[: -len("weight_ih_l0")]
    key = f"{prefix}onnx_{op}_l{layer}"
    W, R, B = _onnx_weights(m, layer, op)
    weights = [g.initializer(W.astype(dtype), f"{key}.W", "recurrent"),
               g.initializer(R.astype(dtype), f"{key}.R", "recurrent"),
               "" if B is None else g.initializer(B.astype(dtype), f"{key}.B", "recurrent")]
    if m.num_layers > 1:  # this layer's slice of (L*D, N, H)
        states = [g.node("Slice", [s, g.ints([layer * D]), g.ints([(layer + 1) * D]), g.ints([0])])
                  for s in states]
    attrs: dict[str, Any] = {"hidden_size": m.hidden_size,
                             "direction": "bidirectional" if D == 2 else "forward"}
    if op == "RNN":
        attrs["activations"] = ["Relu" if m.mode == "RNN_RELU" else "Tanh"] * D
    if op == "GRU":
        attrs["linear_before_reset"] = 1  # PyTorch's GRU: r multiplies (h R_h^T + Rb_h)
    y = g.fresh(f"{key}_Y")
    finals = finals or [g.fresh(f"{key}_Y_{s}") for s in ("h", "c")[: 2 if op == "LSTM" else 1]]
    g.ops.add(op)
    g.nodes.append(g.onnx.helper.make_node(
        op, [x, *weights, "", *states] if states else [x, *weights], [y, *finals], name=g.fresh(f"n_{key}"),
        doc_string=json.dumps({"module": prefix[:-1], "layer": layer}), **attrs))
    return y, finals


def export_recurrent(g: GraphBuilder, m: RNNBase, ins: list, inputs: tuple, outs_t: Any, outs: Any) -> None:
    """Module converter for RNNBase: outs are the names of (output, h_n[, c_n]) as the module returns them."""
    if not isinstance(outs, list):
        raise ExportError("the recurrent layer's output was used without its states; export needs the "
                          "layer called on a tensor (not a PackedSequence)")
    if getattr(m, "proj_size", 0) or m.mode not in _OP:
        raise ExportError(f"mode {m.mode!r} with proj_size={getattr(m, 'proj_size', 0)} has no ONNX operator")
    batched, L = inputs[0].ndim == 3, m.num_layers
    states = _initial_states(g, m, ins, inputs)
    x = ins[0]
    if not batched:  # (T, I) -> (T, 1, I)
        x = g.node("Unsqueeze", [x, g.ints([1], "axes")])
    elif m.batch_first:
        x = g.node("Transpose", [x], perm=[1, 0, 2])
    per_layer = []
    for layer in range(L):
        y, finals = _layer_node(g, m, layer, x, states, outs[1:] if L == 1 and batched else None,
                                inputs[0].dtype)
        per_layer.append(finals)
        target = outs[0] if layer == L - 1 and batched and not m.batch_first else None
        if not m.bidirectional:
            x = g.node("Squeeze", [y, g.ints([1], "axes")], target)
        else:  # [T, D, N, H] -> [T, N, D, H] -> [T, N, D*H]
            x = g.node("Reshape", [g.node("Transpose", [y], perm=[0, 2, 1, 3]), g.ints([0, 0, -1])], target)
    if not batched:
        g.node("Squeeze", [x, g.ints([1], "axes")], outs[0])
    elif m.batch_first:
        g.node("Transpose", [x], outs[0], perm=[1, 0, 2])
    for k, name in enumerate(outs[1:]):  # h_n (, c_n): every layer's Y_h (, Y_c) in order
        layers = [finals[k] for finals in per_layer]
        if not batched:
            g.node("Squeeze", [g.node("Concat", layers, axis=0), g.ints([1], "axes")], name)
        elif len(layers) > 1:
            g.node("Concat", layers, name, axis=0)


# ---------------------------------------------------------------------------------------- import
def _check_attributes(node: Any) -> None:
    if node.get("layout", 0) != 0:
        raise node.refuse("layout=1 (batch-major) is not supported; write layout=0 with Transposes")
    if node.get("clip", None) is not None:
        raise node.refuse("clip (cell clipping) has no PyTorch equivalent")
    if node.get("input_forget", 0):
        raise node.refuse("input_forget=1 (coupled input and forget gates) has no PyTorch equivalent")
    if node.get("activation_alpha", None) or node.get("activation_beta", None):
        raise node.refuse("activation_alpha/activation_beta are not supported")
    if node.op == "GRU" and node.get("linear_before_reset", 0) != 1:
        raise node.refuse("linear_before_reset=0 (the reset gate applied before the recurrent product) is "
                          "not PyTorch's GRU; striate runs GRUs with linear_before_reset=1")
    defaults = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"]}
    acts = list(node.get("activations", []))
    if node.op in defaults:
        d = 2 if node.get("direction", "forward") == "bidirectional" else 1
        if acts and acts != defaults[node.op] * d:
            raise node.refuse(f"activations {acts} differ from {defaults[node.op]}, which striate runs")
    elif any(a not in ("Tanh", "Relu") for a in acts):
        raise node.refuse(f"activations {acts}: striate's RNN runs Tanh or Relu")


def recurrent_parameters(node: Any, constants: dict[str, np.ndarray]) -> tuple[str, list[dict[str, Any]]]:
    """The node's weights in PyTorch's layout: (module path, per direction {"weight_ih_l0": array, ...}
    in the order recurrent_layer takes them)."""
    _check_attributes(node)
    arrays = []
    for i, what in ((1, "W"), (2, "R"), (3, "B")):
        name = node.inputs[i] if i < len(node.inputs) else ""
        if name and name not in constants:
            raise node.refuse(f"the weights {what} are computed inside the graph; only stored weights load")
        arrays.append(constants.get(name) if name else None)
    if len(node.inputs) > 7 and node.inputs[7]:
        raise node.refuse("peephole weights P have no PyTorch equivalent")
    W, R, B = arrays
    D = 2 if node.get("direction", "forward") == "bidirectional" else 1
    if node.get("direction", "forward") == "reverse":
        raise node.refuse("direction='reverse' alone is not supported (PyTorch has forward or bidirectional)")
    order = _inverse(_ORDER[node.op])
    H = int(node.attrs["hidden_size"])
    if W.shape[:2] != (D, len(order) * H) or R.shape != (D, len(order) * H, H):
        raise node.refuse(f"weights of shapes {W.shape}, {R.shape} do not fit hidden_size={H} "
                          f"and {D} direction(s)")
    layer, path = 0, ""  # striate's files name the module and layer in the node's doc_string
    try:
        info = json.loads(node.doc) if node.doc else None
        if isinstance(info, dict):
            path, layer = str(info["module"]), int(info["layer"])
    except (ValueError, KeyError, TypeError):
        info = None
    if info is None:  # PyTorch's exporter names layer k of module `a.b` "/a/b/LSTM_k" ("/a/b/LSTM" for 0)
        named = _TORCH_NODE.match(node.name)
        path = (named.group(1) if named else node.name).strip("/").replace("/", ".")
        layer = int(named.group(3) or 0) if named else 0
    params = []
    for d in range(D):
        suffix, gh = f"_l{layer}{_SUFFIXES[d]}", len(order) * H
        weights = {"weight_ih" + suffix: _blocks(W[d], order), "weight_hh" + suffix: _blocks(R[d], order)}
        if B is not None:
            weights["bias_ih" + suffix] = _blocks(B[d, :gh], order)
            weights["bias_hh" + suffix] = _blocks(B[d, gh:], order)
        params.append(weights)
    return path, params


@runs("RNN", "LSTM", "GRU")
def run_recurrent(m, node, args):
    """Y [T, D, N, H], Y_h [D, N, H] (, Y_c) with striate's recurrent layers; weights are the
    Parameters `recurrent_parameters` made (looked up by the names load stored in the node)."""
    x = args[0]
    if len(args) > 4 and args[4] is not None:
        lengths = np.asarray(args[4])
        if not (lengths == x.shape[0]).all():
            raise node.refuse("sequence_lens shorter than the sequence are not supported")
    acts = list(node.get("activations", []))
    D = 2 if node.get("direction", "forward") == "bidirectional" else 1
    N, H = x.shape[1], int(node.attrs["hidden_size"])
    given = [args[i] if len(args) > i else None for i in ((5, 6) if node.op == "LSTM" else (5,))]
    outs, finals = [], []
    for d in range(D):
        mode = node.op
        if mode == "RNN":
            mode = "RNN_RELU" if acts and acts[d % len(acts)] == "Relu" else "RNN_TANH"
        states = tuple(s[d] if s is not None else zeros(N, H, dtype=x.dtype) for s in given)
        weights = tuple(m.tensor(name) for name in node.attrs["_weights"][d])
        out, last = recurrent_layer(mode, x, states, weights, reverse=d == 1)
        outs.append(out)
        finals.append(last)
    y = stack(outs, dim=1)
    return (y, *[stack([f[k] for f in finals], dim=0) for k in range(len(given))])


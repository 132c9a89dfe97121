"""nn.RNN / nn.LSTM / nn.GRU through ONNX: export checked against onnxruntime, import back
(st.onnx.load) with the same outputs, names and gradients, files written by torch.onnx.export,
an sEMG decoder from the zoo, and the errors for what cannot be exported or loaded."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from onnxhelpers import check_round_trip, onnx, session

import striate as st
import striate.nn as nn
from harness import assert_close
from striate.nn.rnn_utils import pack_padded_sequence

CASES = [  # (layer, options, initial states given)
    (nn.RNN, {}, False),
    (nn.RNN, {"nonlinearity": "relu", "num_layers": 2}, True),
    (nn.RNN, {"bidirectional": True, "batch_first": True, "bias": False}, True),
    (nn.LSTM, {}, False),
    (nn.LSTM, {}, True),
    (nn.LSTM, {"num_layers": 3, "bidirectional": True}, True),
    (nn.LSTM, {"num_layers": 2, "bidirectional": True, "batch_first": True, "bias": False}, False),
    (nn.LSTM, {"num_layers": 2, "batch_first": True, "dropout": 0.3}, True),
    (nn.GRU, {}, True),
    (nn.GRU, {"num_layers": 2, "bidirectional": True}, False),
    (nn.GRU, {"num_layers": 2, "bidirectional": True, "batch_first": True}, True),
    (nn.GRU, {"bias": False, "batch_first": True}, False),
]


def _arguments(layer, x_shape, with_state, seed=0):
    """(x,) or (x, h0) / (x, (h0, c0)) for `layer` with input of x_shape."""
    rng = np.random.default_rng(seed)
    x = st.tensor(rng.standard_normal(x_shape).astype(np.float32))
    if not with_state:
        return (x,)
    batch = x_shape[0] if layer.batch_first else x_shape[1]
    shape = (layer.num_layers * (2 if layer.bidirectional else 1), batch, layer.hidden_size)
    h0 = st.tensor(rng.standard_normal(shape).astype(np.float32))
    if isinstance(layer, nn.LSTM):
        return (x, (h0, st.tensor(rng.standard_normal(shape).astype(np.float32))))
    return (x, h0)


def _leaves(value):
    return [leaf for v in value for leaf in _leaves(v)] if isinstance(value, tuple) else [value]


def _feeds(args):
    return {"input" if i == 0 else f"input_{i}": t.numpy() for i, t in enumerate(_leaves(args))}


@pytest.mark.parametrize("cls, options, with_state", CASES,
                         ids=[f"{c.__name__}-{'-'.join(f'{k}={v}' for k, v in o.items())}-h0={s}"
                              for c, o, s in CASES])
def test_layer_round_trip(cls, options, with_state, tmp_path):
    st.manual_seed(1)
    layer = cls(3, 5, **options)
    first = (4, 2, 3)  # (T, N, I), or (N, T, I) with batch_first
    path = tmp_path / "rnn.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropout with one layer warns at construction, not here
        st.onnx.export(layer, _arguments(layer, first, with_state), path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert ops.count({"RNN": "RNN", "LSTM": "LSTM", "GRU": "GRU"}[cls.__name__]) == layer.num_layers
    sess, loaded = session(path), st.onnx.load(path)
    assert sorted(loaded.state_dict()) == sorted(layer.state_dict())
    for key, value in layer.state_dict().items():  # weights converted back exactly
        np.testing.assert_array_equal(loaded.state_dict()[key].numpy(), value.numpy())
    # the example's shape, then axis 0 (time, or batch with batch_first) longer: it is dynamic
    for shape, seed in ((first, 0), ((7,) + first[1:], 1)):
        args = _arguments(layer, shape, with_state, seed)
        with st.no_grad():
            expected = layer.eval()(*args)
            again = loaded(*args)
        got = sess.run(None, _feeds(args))
        assert len(got) == len(_leaves(expected))
        for g, e in zip(got, _leaves(expected)):
            assert_close(g, e.numpy(), 1e-5, f"onnxruntime at {shape}")
        assert type(again[1]) is type(expected[1])  # (output, (h_n, c_n)) nested as PyTorch's
        for a, e in zip(_leaves(again), _leaves(expected)):
            np.testing.assert_array_equal(a.numpy(), e.numpy())  # the same striate Functions


def test_unbatched_input(tmp_path):
    layer = nn.GRU(3, 4, num_layers=2, bidirectional=True)
    x = st.randn(6, 3)  # (T, I)
    st.onnx.export(layer, x, tmp_path / "gru.onnx")
    got = session(tmp_path / "gru.onnx").run(None, {"input": x.numpy()})
    with st.no_grad():
        out, h_n = layer(x)
    assert got[0].shape == (6, 8) and got[1].shape == (4, 4)
    assert_close(got[0], out.numpy(), 1e-5, "output")
    assert_close(got[1], h_n.numpy(), 1e-5, "h_n")


class Tagger(nn.Module):
    """A user-style sequence model: Linear, a 2-layer bidirectional LSTM given zero states by
    keyword, a GRU on top, a classifier per step."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(6, 8)
        self.lstm = nn.LSTM(8, 5, num_layers=2, bidirectional=True, batch_first=True)
        self.gru = nn.GRU(10, 4, batch_first=True)
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        h0 = st.zeros(4, x.shape[0], 5)
        out, _ = self.lstm(st.tanh(self.embed(x)), hx=(h0, h0))
        out, _ = self.gru(out)
        return self.head(out).log_softmax(dim=-1)


def test_user_model_trains_after_import(tmp_path):
    st.manual_seed(2)
    model = Tagger()
    _, loaded = check_round_trip(model, (7, 6), tmp_path)  # batch 1 and 3 (exported at 2)
    assert sorted(loaded.state_dict()) == sorted(model.state_dict())
    x, target = st.randn(3, 7, 6), st.tensor(np.random.default_rng(0).integers(0, 3, 21))
    grads = {}
    for name, net in (("original", model), ("loaded", loaded)):
        net.train()
        net.zero_grad()
        st.nn.functional.nll_loss(net(x).reshape(21, 3), target).backward()
        grads[name] = {k: p.grad.numpy() for k, p in net.named_parameters()}
    for key, g in grads["original"].items():  # BPTT through the loaded graph: the same gradients
        assert_close(grads["loaded"][key], g, 1e-5, key)
    model.load_state_dict(loaded.state_dict())  # and its weights go back by name


def test_layer_called_twice_keeps_one_set_of_parameters(tmp_path):
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.GRU(3, 3, batch_first=True)

        def forward(self, x):
            y, _ = self.rnn(x)
            z, h = self.rnn(y)
            return z + h.transpose(0, 1)

    model = Twice()
    _, loaded = check_round_trip(model, (4, 3), tmp_path)
    assert sorted(loaded.state_dict()) == sorted(model.state_dict())  # shared, as in the model


def test_float64(tmp_path):
    layer = nn.LSTM(3, 4, num_layers=2, dtype=st.float64)
    x = st.randn(5, 2, 3, dtype=st.float64)
    st.onnx.export(layer, x, tmp_path / "lstm64.onnx")
    loaded = st.onnx.load(tmp_path / "lstm64.onnx")
    with st.no_grad():
        for a, e in zip(_leaves(loaded(x)), _leaves(layer(x))):
            assert a.dtype == st.float64
            np.testing.assert_array_equal(a.numpy(), e.numpy())


EMG_DECODERS = {  # small sizes of the zoo's sEMG decoders
    "lstm_ctc": {"hidden_size": 8},
    "gru_ctc": {"hidden_size": 8, "rotation_invariant": True, "num_layers": 1},
    "cnn_gru_ctc": {"hidden_size": 8, "block_channels": (4,), "kernel_width": 3},
    "tds_conv_ctc": {"block_channels": (4, 4), "kernel_width": 3},
}


@pytest.mark.parametrize("name", sorted(EMG_DECODERS))
def test_emg_decoder_round_trip(name, tmp_path):
    """The sEMG decoders (time-major; a reshape mixes time and batch, so static shapes)."""
    from striate.models import emg

    st.manual_seed(3)
    model = getattr(emg, name)(electrodes=4, freq=5, mlp_features=(16,), **EMG_DECODERS[name]).eval()
    x = st.randn(24, 2, 2, 4, 5)
    proto = st.onnx.export(model, x, tmp_path / "emg.onnx", dynamic_batch=False)
    ops = {n.op_type for n in proto.graph.node}
    assert {"BatchNormalization", "LogSoftmax"} <= ops and ops & {"LSTM", "GRU", "LayerNormalization"}
    with st.no_grad():
        expected = model(x).numpy()
        again = st.onnx.load(tmp_path / "emg.onnx")(x).numpy()
    assert_close(session(tmp_path / "emg.onnx").run(None, {"input": x.numpy()})[0], expected, 1e-5, "ort")
    assert_close(again, expected, 1e-5, "st.onnx.load")


# ------------------------------------------------------------------ files from torch.onnx.export
def _torch_export(torch, layer, args, path, **options):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(layer, args, str(path), dynamo=False, opset_version=17, **options)
    except Exception as exc:  # e.g. a torch build whose exporter needs a missing package
        pytest.skip(f"torch.onnx.export (TorchScript exporter) failed here: {type(exc).__name__}: {exc}")


TORCH_CASES = [
    ("LSTM", {"num_layers": 2, "bidirectional": True}, False),
    ("GRU", {"batch_first": True}, True),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}, False),
    ("LSTM", {"batch_first": True}, True),
]


@pytest.mark.parametrize("kind, options, with_state", TORCH_CASES)
def test_torch_onnx_files_load(kind, options, with_state, tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch writes the reference files")
    torch.manual_seed(0)
    layer = getattr(torch.nn, kind)(3, 4, **options).eval()
    x = torch.randn(2, 5, 3)
    args = (x,)
    if with_state:
        h0 = torch.randn(1, 2, 4)
        args = (x, (h0, torch.randn(1, 2, 4)) if kind == "LSTM" else h0)
    path = tmp_path / "torch.onnx"
    _torch_export(torch, layer, args, path)
    assert kind in {n.op_type for n in onnx.load(str(path)).graph.node}
    loaded = st.onnx.load(path)
    with torch.no_grad():
        expected = [t.numpy() for t in _leaves(layer(*args))]
    st_args = tuple(tuple(st.tensor(t.numpy()) for t in a) if isinstance(a, tuple) else st.tensor(a.numpy())
                    for a in args)
    got = _leaves(loaded(*st_args))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert_close(g.numpy(), e, 1e-5, kind)
    # trainable Parameters with PyTorch's names and layout (node "/LSTM_1" is layer 1)
    theirs = {k: v.numpy() for k, v in layer.state_dict().items()}
    ours = {k: v.numpy() for k, v in loaded.state_dict().items()}
    assert sorted(ours) == sorted(theirs)
    for key, value in theirs.items():
        np.testing.assert_array_equal(ours[key], value)


class _TorchTagger:
    """A PyTorch user model: Linear, 2-layer bidirectional batch_first LSTM, the last step
    (`out[:, -1]`: Gather), a classifier; exported with dynamic batch and length."""

    @staticmethod
    def build(torch):
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = torch.nn.Linear(6, 8)
                self.lstm = torch.nn.LSTM(8, 5, num_layers=2, batch_first=True, bidirectional=True)
                self.fc = torch.nn.Linear(10, 3)

            def forward(self, x):
                out, _ = self.lstm(torch.relu(self.emb(x)))
                return self.fc(out[:, -1])

        return Net().eval()


def test_torch_user_model_with_dynamic_axes_loads_and_trains(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch writes the reference file")
    torch.manual_seed(0)
    net = _TorchTagger.build(torch)
    path = tmp_path / "tagger.onnx"
    _torch_export(torch, net, (torch.randn(2, 7, 6),), path, input_names=["input"],
                  dynamic_axes={"input": {0: "N", 1: "T"}})
    loaded = st.onnx.load(path)  # zero states via ConstantOfShape, out[:, -1] via Gather
    assert {k for k in loaded.state_dict() if k.startswith("lstm.")} == {
        f"lstm.{k}" for k in net.lstm.state_dict()}
    for shape in ((2, 7, 6), (3, 11, 6)):
        x = torch.randn(*shape)
        with torch.no_grad():
            expected = net(x).numpy()
        got = loaded(st.tensor(x.numpy()))
        assert_close(got.detach().numpy(), expected, 1e-5, f"shape {shape}")
    got.sum().backward()
    assert all(p.grad is not None for p in loaded.parameters())


def _recurrent_weights(path):
    """[(op, attributes, [W, R, B])] of every RNN/LSTM/GRU node, in file order."""
    model = onnx.load(str(path))
    values = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    values.update({n.output[0]: onnx.numpy_helper.to_array(n.attribute[0].t)
                   for n in model.graph.node if n.op_type == "Constant"})
    nodes = [n for n in model.graph.node if n.op_type in ("RNN", "LSTM", "GRU")]
    return [(n.op_type, {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute},
             [values[i] for i in n.input[1:4] if i]) for n in nodes]


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_same_nodes_as_torch_onnx_export(kind, tmp_path):
    """PyTorch's exporter and striate's write the same operators, attributes and W, R, B for the same
    weights (the gate reordering agrees), and onnxruntime gives the same outputs on both files."""
    torch = pytest.importorskip("torch", reason="PyTorch writes the reference files")
    torch.manual_seed(0)
    options = {"num_layers": 2, "bidirectional": True}
    ours = getattr(nn, kind)(3, 4, **options)
    theirs = getattr(torch.nn, kind)(3, 4, **options).eval()
    ours.load_state_dict({k: st.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = torch.randn(5, 2, 3)
    _torch_export(torch, theirs, (x,), tmp_path / "torch.onnx")
    st.onnx.export(ours, st.tensor(x.numpy()), tmp_path / "striate.onnx")
    torch_nodes = _recurrent_weights(tmp_path / "torch.onnx")
    our_nodes = _recurrent_weights(tmp_path / "striate.onnx")
    assert len(our_nodes) == len(torch_nodes) == 2
    for (op, attrs, arrays), (t_op, t_attrs, t_arrays) in zip(our_nodes, torch_nodes):
        assert op == t_op and attrs["hidden_size"] == t_attrs["hidden_size"]
        assert attrs["direction"] == t_attrs.get("direction", b"forward")
        assert attrs.get("linear_before_reset", 0) == t_attrs.get("linear_before_reset", 0)
        for a, b in zip(arrays, t_arrays):
            np.testing.assert_array_equal(a, b)
    feeds = {"input": x.numpy()}
    theirs_out = session(tmp_path / "torch.onnx").run(None, {"input": x.numpy()})
    for a, b in zip(session(tmp_path / "striate.onnx").run(None, feeds), theirs_out):
        assert_close(a, b, 1e-6, "onnxruntime on both files")


# ------------------------------------------------------------------------------------- errors
def test_packed_sequence_refused(tmp_path):
    class Packed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.GRU(3, 4)

        def forward(self, x):
            _, h = self.rnn(pack_padded_sequence(x, [4, 3]))
            return h

    with pytest.raises(st.onnx.ExportError, match=r"'rnn' \(GRU\).*PackedSequence"):
        st.onnx.export(Packed(), st.randn(4, 2, 3), tmp_path / "p.onnx")


def test_own_forward_refused(tmp_path):
    class Reversed(nn.LSTM):
        def forward(self, x, hx=None):
            return super().forward(x * 2.0, hx)[0]

    with pytest.raises(st.onnx.ExportError, match="nn.RNN/LSTM/GRU module"):
        st.onnx.export(Reversed(3, 4), st.randn(5, 2, 3), tmp_path / "r.onnx")


def test_constant_state_with_dynamic_batch_refused(tmp_path):
    class Seeded(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.RNN(3, 4, batch_first=True)

        def forward(self, x):
            return self.rnn(x, st.ones(1, x.shape[0], 4))[0]

    with pytest.raises(st.onnx.ExportError, match="dynamic_batch=False"):
        st.onnx.export(Seeded(), st.randn(2, 5, 3), tmp_path / "s.onnx")
    st.onnx.export(Seeded(), st.randn(2, 5, 3), tmp_path / "s.onnx", dynamic_batch=False)


@pytest.mark.parametrize("op, attrs, message", [
    ("GRU", {"linear_before_reset": 0}, "linear_before_reset=0"),
    ("LSTM", {"clip": 3.0}, "clip"),
    ("LSTM", {"input_forget": 1}, "input_forget"),
    ("LSTM", {"activations": ["Sigmoid", "Relu", "Tanh"]}, "activations"),
    ("RNN", {"activations": ["Sigmoid"]}, "activations"),
    ("LSTM", {"direction": "reverse"}, "reverse"),
])
def test_import_refuses_what_pytorch_lacks(op, attrs, message, tmp_path):
    helper, f32, gates = onnx.helper, onnx.TensorProto.FLOAT, {"RNN": 1, "LSTM": 4, "GRU": 3}[op]
    rng = np.random.default_rng(0)
    weights = [helper.make_tensor(n, f32, s, rng.standard_normal(s).astype(np.float32).ravel())
               for n, s in (("W", (1, gates * 2, 3)), ("R", (1, gates * 2, 2)))]
    node = helper.make_node(op, ["x", "W", "R"], ["y"], hidden_size=2, **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", f32, [4, 1, 3])],
                              [helper.make_tensor_value_info("y", f32, [4, 1, 1, 2])], weights)
    path = tmp_path / "bad.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(st.onnx.OnnxImportError, match=message):
        st.onnx.load(path)

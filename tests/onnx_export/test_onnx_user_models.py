"""User-style models built from st.nn layers and functional code, through ONNX and back; the
errors for what cannot be exported or loaded; `striate export RUN --onnx OUT`."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from onnxhelpers import check_round_trip, onnx, randomise_norm_stats, session

import striate as st
import striate.nn as nn
import striate.nn.functional as F


class Layers(nn.Module):
    """Convolutions with padding modes, groups, dilation and 'same'; the pooling variants; LRN;
    adaptive pooling with unequal windows (16x16 input: 5x5 -> 3x3); the activations; dropout."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect"),
            nn.BatchNorm2d(8),
            nn.LeakyReLU(0.1),
            nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=4, padding_mode="replicate", bias=False),
            nn.ELU(0.7),
            nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
            nn.Conv2d(8, 12, 3, padding="same"),
            nn.Tanh(),
            nn.LocalResponseNorm(3, alpha=1e-3, beta=0.75, k=2.0),
            nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
            nn.AdaptiveAvgPool2d((3, 3)),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.5),
            nn.Linear(12 * 9, 16),
            nn.Sigmoid(),
            nn.BatchNorm1d(16),
            nn.Linear(16, 5),
            nn.LogSoftmax(dim=1),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class Functional(nn.Module):
    """PyTorch-style forward(): F.* calls, a residual add, a concatenation, F.pad with a value, view,
    softmax."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 6, 5)
        self.left = nn.Conv2d(6, 6, 3, padding=1)
        self.right = nn.Conv2d(6, 4, 1)
        self.up = nn.ConvTranspose2d(10, 4, 3, stride=2, padding=1, output_padding=1, groups=2)
        self.pool = nn.AdaptiveMaxPool2d(2)
        self.fc = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x):
        out = F.max_pool2d(F.relu(self.stem(x)), 2)
        out = F.relu(self.left(out)) + out
        out = st.cat([out, self.right(out)], dim=1)
        out = F.pad(self.pool(self.up(out)), (1, 0, 0, 1), value=0.5)
        out = out.view(out.size(0), -1)
        return F.softmax(self.fc(out) * 2.0 - 1.0, dim=1)


class Signal1d(nn.Sequential):
    """1-D convolutions (dilation, groups, stride, reflect padding), 1-D pooling, BatchNorm1d."""

    def __init__(self) -> None:
        super().__init__(
            nn.Conv1d(2, 4, 3, padding=2, dilation=2), nn.BatchNorm1d(4), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(4, 4, 3, stride=2, groups=2, padding=1, padding_mode="reflect"),
            nn.AvgPool1d(2), nn.Flatten(), nn.Linear(4 * 5, 3),
        )  # fmt: skip


@pytest.mark.parametrize(
    "model,shape",
    [(Layers, (3, 16, 16)), (Functional, (1, 16, 16)), (Signal1d, (2, 40))],
    ids=["layers", "functional", "signal1d"],
)
def test_user_models_round_trip(model, shape, tmp_path):
    net = model()
    randomise_norm_stats(net)
    st.onnx.to_model_proto(net, st.randn(2, *shape))
    assert net.training and all(m.training for m in net.modules()), "export restores the training mode"
    proto, _ = check_round_trip(net, shape, tmp_path)
    ops = {n.op_type for n in proto.graph.node}
    expected = {
        "Layers": {
            "Pad",
            "Conv",
            "BatchNormalization",
            "LeakyRelu",
            "Elu",
            "MaxPool",
            "Tanh",
            "LRN",
            "AveragePool",
            "MatMul",
            "Gemm",
            "Sigmoid",
            "LogSoftmax",
        },
        "Functional": {
            "Conv",
            "Relu",
            "MaxPool",
            "Add",
            "Concat",
            "ConvTranspose",
            "Reshape",
            "Gemm",
            "Mul",
            "Sub",
            "Softmax",
            "Pad",
        },
        "Signal1d": {"Conv", "BatchNormalization", "MaxPool", "Pad", "AveragePool", "Gemm"},
    }[model.__name__]
    assert expected <= ops, expected - ops


def test_static_batch_and_float64(tmp_path):
    net = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3), nn.Softmax(dim=1)).double()
    path = tmp_path / "f64.onnx"
    st.onnx.export(net, st.randn(1, 6, dtype=st.float64), path, dynamic_batch=False)
    model = onnx.load(str(path))
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 1
    x = st.randn(1, 6, dtype=st.float64)
    with st.no_grad():
        expected = net(x).numpy()
        again = st.onnx.load(path)(x).numpy()
    assert again.dtype == np.float64
    np.testing.assert_allclose(session(path).run(None, {"input": x.numpy()})[0], expected, rtol=1e-12)
    np.testing.assert_allclose(again, expected, rtol=1e-12)


class _Std(nn.Module):
    def forward(self, x):
        return x.std(dim=1)


def test_what_cannot_be_exported_is_named(tmp_path):
    net = nn.Sequential(nn.Conv2d(1, 2, 3), _Std())
    with pytest.raises(st.onnx.ExportError, match=r"module '1' \(_Std\).*Var has no ONNX converter"):
        st.onnx.export(net, st.randn(2, 1, 8, 8), tmp_path / "x.onnx")
    circular = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"))
    with pytest.raises(st.onnx.ExportError, match=r"module '0' \(Conv2d\).*circular.*opset 19"):
        st.onnx.export(circular, st.randn(2, 1, 8, 8), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
    proto = st.onnx.export(circular, st.randn(2, 1, 8, 8), tmp_path / "c.onnx", opset=19)
    assert "Pad" in {n.op_type for n in proto.graph.node}
    x = st.randn(3, 1, 8, 8)
    with st.no_grad():
        np.testing.assert_allclose(
            session(tmp_path / "c.onnx").run(None, {"input": x.numpy()})[0],
            circular(x).numpy(),
            rtol=1e-5,
            atol=1e-6,
        )


def test_unknown_operators_are_named_on_load(tmp_path):
    helper = onnx.helper
    nodes = [
        helper.make_node("Hardmax", ["input"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Trilu", ["r"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, [2, 3])],
    )
    path = tmp_path / "unknown.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(st.onnx.OnnxImportError, match="Hardmax, Trilu"):
        st.onnx.load(path)
    (tmp_path / "junk.onnx").write_bytes(b"not a protobuf at all")
    with pytest.raises(st.onnx.OnnxImportError, match="junk.onnx"):
        st.onnx.load(tmp_path / "junk.onnx")


def test_cli_export_of_a_run_folder(tmp_path, capsys):
    from striate.cli import main
    from striate.io import save
    from striate.train.runs import RunConfig, build_model

    cfg = RunConfig(
        model="lenet5_modern",
        dataset="digits",
        input_side=32,
        in_channels=1,
        num_classes=10,
        mean=[0.3],
        std=[0.3],
        classes=[str(i) for i in range(10)],
    )
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    cfg.save(run)
    model = build_model(cfg)
    save({"model": model.state_dict()}, run / "checkpoints" / "best.safetensors")
    out = tmp_path / "lenet.onnx"
    assert main(["export", str(run), "--onnx", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "mean [0.3]" in printed
    x = st.randn(4, 1, 32, 32)
    with st.no_grad():
        expected = model.eval()(x).numpy()
    np.testing.assert_allclose(
        session(out).run(None, {"input": x.numpy()})[0], expected, rtol=1e-5, atol=1e-6
    )
    assert main(["export", str(tmp_path), "--onnx", str(out)]) == 2
    assert "not a run folder" in capsys.readouterr().err
    done = subprocess.run(
        [sys.executable, "-m", "striate.cli", "export", "--help"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "--onnx" in done.stdout


class _DoubledNorm(nn.BatchNorm2d):
    """A subclass with its own forward(): traced (F.batch_norm's node), not taken for a plain BatchNorm2d."""

    def forward(self, x):
        return super().forward(x) * 2.0


def test_subclassed_layer_with_own_forward_is_traced(tmp_path):
    net = nn.Sequential(nn.Conv2d(1, 3, 3), _DoubledNorm(3), nn.ReLU())
    randomise_norm_stats(net)
    proto, _ = check_round_trip(net, (1, 8, 8), tmp_path)
    assert "BatchNormalization" not in {n.op_type for n in proto.graph.node}
    used = {i for n in proto.graph.node for i in n.input}
    assert all(t.name in used for t in proto.graph.initializer)


def test_files_written_by_torch_onnx_export_load_and_train(tmp_path):
    """PyTorch's exporter computes x.view(x.size(0), -1) as Shape/Gather/Unsqueeze/Concat and folds
    batch norm into the convolutions; the loaded module agrees and has gradients."""
    torch = pytest.importorskip("torch")
    import importlib.util
    import warnings
    from pathlib import Path

    twins_path = Path(__file__).parents[1] / "models" / "test_torch_twins.py"
    spec = importlib.util.spec_from_file_location("torch_twins_for_onnx", twins_path)
    twins = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(twins)
    torch.manual_seed(0)
    for net, shape in ((twins.TorchConvNet(), (1, 28, 28)), (twins.TorchLeNet(), (1, 32, 32))):
        net.eval()
        path = tmp_path / "torch.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(net, (torch.randn(2, *shape),), str(path), dynamo=False, input_names=["input"],
                              output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                              opset_version=17)
        loaded = st.onnx.load(path)
        x = torch.randn(3, *shape)
        with torch.no_grad(), st.no_grad():
            expected = net(x).numpy()
            got = loaded(st.tensor(x.numpy())).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
        loaded.train()
        (loaded(st.tensor(x.numpy())) ** 2).mean().backward()
        assert all(p.grad is not None for p in loaded.parameters())

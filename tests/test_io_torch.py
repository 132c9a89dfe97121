"""st.load_torch: checkpoints written here by torch.save load with identical arrays; hostile
files are refused with a clear error and nothing from them runs (a sentinel file stays absent,
while the same payload given to Python's own unpickler in a child process does create it)."""

from __future__ import annotations

import importlib.util
import io
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import striate as st
from striate.data.datasets.safepickle import UnsafePickleError
from striate.io_torch import TorchFileError

TWINS = Path(__file__).parent / "models" / "test_torch_twins.py"


def _twins():
    spec = importlib.util.spec_from_file_location("torch_twins_for_io", TWINS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _trained_resnet():
    torch.manual_seed(0)
    net = _twins().TorchResNet18(num_classes=10)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 1.5)
            m.num_batches_tracked.fill_(7)
    return net.eval()


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_torchvision_style_state_dict_loads_identically_and_into_resnet18(tmp_path, legacy):
    net = _trained_resnet()
    path = tmp_path / "resnet18.pth"
    torch.save(net.state_dict(), path, _use_new_zipfile_serialization=not legacy)
    state = st.load_torch(path)
    expected = net.state_dict()
    assert list(state) == list(expected)  # an OrderedDict, in the file's order
    for key, value in expected.items():
        assert state[key].dtype == value.numpy().dtype and np.array_equal(state[key], value.numpy()), key
    model = st.models.resnet18(num_classes=10, weights=path).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad(), st.no_grad():
        np.testing.assert_allclose(model(st.tensor(x.numpy())).numpy(), net(x).numpy(), rtol=1e-5, atol=1e-5)


def test_checkpoint_with_optimizer_state_dtypes_and_shared_storages(tmp_path):
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 5)
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(2):
        opt.zero_grad()
        net(torch.randn(4, 3, 8, 8)).square().mean().backward()
        opt.step()
    base = torch.arange(48, dtype=torch.float32).reshape(6, 8)
    extras = {
        "transposed": base.t(),
        "strided": base[1::2, ::3],
        "view_a": base[2:4],
        "view_b": base[3],
        "expanded": torch.tensor([1.0, 2.0]).expand(3, 2),
        "empty": torch.zeros(0, 4),
        "scalar": torch.tensor(2.5, dtype=torch.float64),
        "half": torch.randn(5).half(),
        "bfloat16": torch.tensor([1.5, -2.25, 3e38], dtype=torch.bfloat16),
        "int8": torch.tensor([-3, 4], dtype=torch.int8),
        "int16": torch.tensor([300], dtype=torch.int16),
        "int32": torch.arange(3, dtype=torch.int32),
        "uint8": torch.tensor([255], dtype=torch.uint8),
        "bool": torch.tensor([True, False]),
        "complex": torch.tensor([1 + 2j], dtype=torch.complex64),
        "param": torch.nn.Parameter(torch.randn(3)),
    }
    ckpt = {
        "model": net.state_dict(),
        "optimizer": opt.state_dict(),
        "epoch": 3,
        "best": 0.91,
        "history": [{"loss": 1.5}, {"loss": None}],
        "flags": (True, "adam"),
        "extras": extras,
    }
    path = tmp_path / "ckpt.pt"
    torch.save(ckpt, path)
    got = st.load_torch(path)
    assert got["epoch"] == 3 and got["best"] == 0.91 and got["history"] == ckpt["history"]
    assert got["flags"] == (True, "adam")
    for key, value in net.state_dict().items():
        assert np.array_equal(got["model"][key], value.numpy()), key
    assert got["optimizer"]["param_groups"][0]["lr"] == 1e-3
    assert got["optimizer"]["param_groups"][0]["params"] == ckpt["optimizer"]["param_groups"][0]["params"]
    for index, state in ckpt["optimizer"]["state"].items():
        for name, value in state.items():
            assert np.array_equal(got["optimizer"]["state"][index][name], value.numpy()), (index, name)
    for key, value in extras.items():
        want = value.detach().float().numpy() if key == "bfloat16" else value.detach().numpy()
        assert got["extras"][key].dtype == want.dtype, key
        assert got["extras"][key].shape == want.shape and np.array_equal(got["extras"][key], want), key
    # views of one storage come back as independent arrays
    got["extras"]["view_a"][...] = -1
    assert got["extras"]["view_b"][0] == base[3, 0].item()


def test_safetensors_written_by_pytorch_users_load_as_weights(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    net = _trained_resnet()
    path = tmp_path / "resnet18.safetensors"
    safetensors_torch.save_file(net.state_dict(), str(path))
    model = st.models.get_model("resnet18", num_classes=10, weights=path).eval()
    for key, value in net.state_dict().items():
        assert np.array_equal(model.state_dict()[key].numpy(), value.numpy()), key


def test_weights_mapping_renames_keys_and_wrappers_are_unwrapped(tmp_path):
    torch.manual_seed(0)
    twins = _twins()
    net = twins.TorchLeNet()
    renamed = {"module." + k.replace("conv", "c"): v for k, v in net.state_dict().items()}
    path = tmp_path / "lenet.pt"
    torch.save({"state_dict": renamed, "epoch": 1}, path)
    with pytest.raises(ValueError, match="mapping"):
        st.models.lenet5(variant="modern", weights=path)
    model = st.models.lenet5(
        variant="modern",
        weights=path,
        weights_mapping=lambda k: k.replace("c", "conv", 1) if k.startswith("c") else k,
    )
    for key, value in net.state_dict().items():
        assert np.array_equal(model.state_dict()[key].numpy(), value.numpy()), key


# ---------------------------------------------------------------------------- hostile files
class _System:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


class _Import:
    def __reduce__(self):
        return __import__, ("this",)  # importing `this` prints the Zen of Python


def _torch_zip(path: Path, payload: bytes, storages: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", payload)
        zf.writestr("archive/byteorder", "little")
        zf.writestr("archive/version", "3\n")
        for key, data in (storages or {}).items():
            zf.writestr(f"archive/data/{key}", data)
    return path


def _rebuild_pickle(numel: int, size: tuple, stride: tuple, offset: int = 0) -> bytes:
    """data.pkl of a single tensor, written opcode by opcode (protocol 2, as torch.save does)."""
    out = io.BytesIO()
    out.write(b"\x80\x02")
    out.write(b"ctorch._utils\n_rebuild_tensor_v2\nq\x00(")
    out.write(
        b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpu"
        + b"\x8a"
        + bytes([8])
        + numel.to_bytes(8, "little", signed=True)
        + b"tQ"
    )
    out.write(b"J" + struct.pack("<i", offset))
    out.write(b"(" + b"".join(b"\x8a\x08" + n.to_bytes(8, "little", signed=True) for n in size) + b"t")
    out.write(b"(" + b"".join(b"\x8a\x08" + n.to_bytes(8, "little", signed=True) for n in stride) + b"t")
    out.write(b"\x89ccollections\nOrderedDict\n)Rtq\x01Rq\x02.")
    return out.getvalue()


def _hostile_files(tmp_path: Path, sentinel: Path) -> dict[str, Path]:
    system = pickle.dumps(_System(f"touch {sentinel}"), protocol=2)
    files = {
        "os.system (legacy stream)": tmp_path / "system.pt",
        "os.system (zip)": _torch_zip(tmp_path / "system.zip", system),
        "imports a module": _torch_zip(tmp_path / "import.zip", pickle.dumps(_Import(), protocol=4)),
        "os.system inside a state dict": _torch_zip(
            tmp_path / "nested.zip", pickle.dumps({"fc.weight": _System(f"touch {sentinel}")}, protocol=2)
        ),
        "tensor beyond its storage": _torch_zip(
            tmp_path / "beyond.zip", _rebuild_pickle(4, (10**12,), (1,)), {"0": b"\0" * 16}
        ),
        "absurd storage size": _torch_zip(
            tmp_path / "absurd.zip", _rebuild_pickle(10**15, (2,), (1,)), {"0": b"\0" * 16}
        ),
        "offset past the storage": _torch_zip(
            tmp_path / "offset.zip", _rebuild_pickle(4, (2,), (1,), offset=10**6), {"0": b"\0" * 16}
        ),
        "lists nested 200,000 deep": _torch_zip(
            tmp_path / "deep.zip", b"\x80\x02" + b"]" * 200_000 + b"a" * 199_999 + b"."
        ),
    }
    files["os.system (legacy stream)"].write_bytes(system)
    return files


def test_hostile_files_are_refused_and_nothing_runs(tmp_path):
    sentinel = tmp_path / "SENTINEL"
    files = _hostile_files(tmp_path, sentinel)
    had_this = "this" in sys.modules
    for what, path in files.items():
        with pytest.raises((UnsafePickleError, TorchFileError)) as info:
            st.load_torch(path)
        message = str(info.value)
        assert str(path) in message, what
        if "os.system" in what:
            assert "system" in message and "executed nothing" in message, message
        assert not sentinel.exists(), f"{what}: the payload ran"
    assert ("this" in sys.modules) == had_this
    # the payload is live: Python's own unpickler, in a child process, runs it
    code = f"import pickle; pickle.loads(open({str(files['os.system (legacy stream)'])!r}, 'rb').read())"
    subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, timeout=60)
    assert sentinel.exists()


def _patch_central_directory(path: Path, member: str, field_offset: int, value: int) -> None:
    data = bytearray(path.read_bytes())
    pos = data.rfind(b"PK\x01\x02" + b"", 0)
    while pos >= 0:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + name_len].decode() == member:
            struct.pack_into("<I", data, pos + field_offset, value)
            path.write_bytes(bytes(data))
            return
        pos = data.rfind(b"PK\x01\x02", 0, pos)
    raise AssertionError(f"{member} not in the central directory")


@pytest.mark.parametrize(
    "field,value,what",
    [(42, 0x7FFFFFF0, "local header offset outside the zip"), (24, 0x7FFFFFF0, "absurd uncompressed size")],
)
def test_zip_entries_pointing_outside_the_file_are_refused(tmp_path, field, value, what):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.arange(4.0)}, path)
    member = next(n for n in zipfile.ZipFile(path).namelist() if n.endswith("data/0"))
    _patch_central_directory(path, member, field, value)
    with pytest.raises(TorchFileError, match=r"model\.pt"):
        st.load_torch(path)


def test_not_a_checkpoint_is_a_clear_error(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(TorchFileError, match="notes.txt"):
        st.load_torch(text)
    with pytest.raises(TorchFileError, match="cannot be opened"):
        st.load_torch(tmp_path / "missing.pt")


def test_a_whole_pickled_model_is_refused_with_the_way_out(tmp_path):
    path = tmp_path / "whole.pt"
    torch.save(torch.nn.Linear(2, 3), path)
    with pytest.raises(UnsafePickleError, match=r"torch\.nn\.modules\.linear\.Linear.*state_dict\(\)"):
        st.load_torch(path)

"""st.save / st.load: safetensors + JSON metadata, never pickle; round trips are bitwise; files
are written atomically; foreign, truncated and corrupt files are refused with the file's name."""

import io
import json
import math
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy
import torch

import striate as st
import striate.nn as nn
from striate.io import StriateFileError


def small_net():
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2))


def test_model_state_dict_round_trip_is_bitwise(tmp_path):
    net = small_net()
    net(st.randn(4, 1, 4, 4))  # move the running statistics and num_batches_tracked
    path = tmp_path / "net.safetensors"
    st.save(net.state_dict(), path)
    loaded = st.load(path)
    assert isinstance(loaded, OrderedDict)
    assert list(loaded) == list(net.state_dict())
    for (k, a), b in zip(net.state_dict().items(), loaded.values()):
        assert isinstance(b, st.Tensor) and not b.requires_grad
        assert b.dtype == a.dtype and b.shape == a.shape, k
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    assert loaded["1.num_batches_tracked"].dtype == np.int64 and loaded["1.num_batches_tracked"].item() == 1
    fresh = small_net()
    fresh.load_state_dict(st.load(path))
    fresh.eval()
    net.eval()
    x = st.randn(2, 1, 4, 4)
    np.testing.assert_array_equal(fresh(x).numpy(), net(x).numpy())
    # the loaded arrays are the model's own, writable copies
    fresh[4].weight.numpy()[0, 0] = 123.0


def test_torch_state_dict_to_file_to_striate(tmp_path):
    t_net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, 3),
        torch.nn.BatchNorm2d(3),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(12, 2),
    )
    st.save({k: v.numpy() for k, v in t_net.state_dict().items()}, tmp_path / "from_torch.safetensors")
    loaded = st.load(tmp_path / "from_torch.safetensors")
    assert all(isinstance(v, np.ndarray) for v in loaded.values())  # saved as arrays, loaded as arrays
    net = small_net()
    net.load_state_dict(loaded)
    net.eval()
    t_net.eval()
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(
        net(st.tensor(x)).numpy(), t_net(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_nested_structure_and_plain_values_round_trip(tmp_path):
    p = nn.Parameter(st.randn(2, 3))
    obj = {
        "model": OrderedDict([("w", st.ones(2, 2)), ("b", st.zeros(2))]),
        "epoch": 3,
        "lr": 0.1,
        "name": "run-1",
        "done": False,
        "nothing": None,
        "specials": [math.inf, -math.inf],
        "history": [1.5, 2, "x", None, [True]],
        "pair": (1, (2.5, "z")),
        "int_keys": {0: "a", 7: {"deep": 1}},
        "tuple_key": {(1, 2): "t"},
        "mixed_keys": {1.5: 1, True: 2, None: 3, "s": 4},
        "param": p,
        "grad_tensor": st.randn(3, requires_grad=True),
        "arrays": [
            np.arange(6, dtype=np.int64).reshape(2, 3),
            np.array([True, False]),
            np.zeros((0, 4), np.float32),
            np.array(2.5),
            np.arange(3, dtype=np.uint8),
            np.ones(3, np.float16),
            np.arange(12.0).reshape(3, 4).T,
        ],  # last one not contiguous
        "scalars": [np.float32(1.25), np.int64(-4)],
        "dtypes": [st.float32, st.int64],
    }
    path = tmp_path / "nested.safetensors"
    st.save(obj, path)
    back = st.load(path)
    assert list(back) == list(obj)
    assert isinstance(back["model"], OrderedDict) and list(back["model"]) == ["w", "b"]
    for key in (
        "epoch",
        "lr",
        "name",
        "done",
        "nothing",
        "history",
        "pair",
        "int_keys",
        "tuple_key",
        "mixed_keys",
        "dtypes",
    ):
        assert back[key] == obj[key], key
    assert back["specials"] == [math.inf, -math.inf]
    assert type(back["pair"][1]) is tuple
    assert isinstance(back["param"], nn.Parameter) and back["param"].requires_grad
    np.testing.assert_array_equal(back["param"].numpy(), p.numpy())
    assert type(back["grad_tensor"]) is st.Tensor and back["grad_tensor"].requires_grad
    for a, b in zip(obj["arrays"], back["arrays"]):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    assert back["scalars"] == obj["scalars"] and back["scalars"][0].dtype == np.float32
    nan_path = tmp_path / "nan.safetensors"
    st.save({"x": math.nan}, nan_path)
    assert math.isnan(st.load(nan_path)["x"])


def test_single_tensor_and_file_objects():
    t = st.randn(3, 4, dtype=st.float64)
    buf = io.BytesIO()
    st.save(t, buf)
    buf.seek(0)
    back = st.load(buf)
    assert isinstance(back, st.Tensor) and back.dtype == np.float64
    np.testing.assert_array_equal(back.numpy(), t.numpy())


def test_shared_tensor_is_stored_once_and_comes_back_shared(tmp_path):
    lin = nn.Linear(3, 3)
    tied = nn.Sequential(lin, nn.ReLU(), lin)
    path = tmp_path / "tied.safetensors"
    st.save(tied.state_dict(), path)
    stored = safetensors.numpy.load_file(str(path))
    assert len(stored) == 2  # weight and bias once, though the state_dict lists them twice
    back = st.load(path)
    assert np.shares_memory(back["0.weight"].numpy(), back["2.weight"].numpy())
    assert sorted(stored) == ["0.bias", "0.weight"]  # entries are named by their place in the object


def test_optimizer_state_round_trip_keeps_int_keys_and_tuples(tmp_path):
    net = small_net()
    opt = st.optim.Adam(net.parameters(), lr=0.01, betas=(0.8, 0.9))
    net(st.randn(2, 1, 4, 4)).sum().backward()
    opt.step()
    st.save(opt.state_dict(), tmp_path / "opt.safetensors")
    back = st.load(tmp_path / "opt.safetensors")
    assert list(back["state"]) == list(range(len(list(net.parameters()))))
    assert back["param_groups"][0]["betas"] == (0.8, 0.9)
    assert back["state"][0]["step"].dtype == np.float32 and back["state"][0]["step"].item() == 1.0


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    st.save({"epoch": 1, "w": st.ones(2)}, path)
    original = path.read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        st.save({"epoch": 2, "w": st.zeros(2)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == original  # the old checkpoint is intact
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors"]  # and no temporary file is left
    with pytest.raises(TypeError, match=r"cannot store a object \(at w/0\)"):
        st.save({"epoch": 3, "w": [object()]}, path)
    assert path.read_bytes() == original
    st.save({"epoch": 4, "w": st.zeros(2)}, path)
    assert st.load(path)["epoch"] == 4
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors"]


def test_never_unpickles(tmp_path, monkeypatch):
    path = tmp_path / "x.safetensors"
    st.save({"a": st.ones(2), "b": [1, "two"]}, path)

    def refuse(*args, **kwargs):
        raise AssertionError("st.load must never unpickle")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    assert st.load(path)["b"] == [1, "two"]


@pytest.mark.parametrize(
    "obj,message",
    [
        (nn.Linear(2, 2), "cannot store a Linear .*model.state_dict\\(\\)"),
        ({"f": lambda x: x}, "cannot store a function \\(at f\\)"),
        ({"s": {1, 2}}, "cannot store a set"),
        ({"a": np.array(["x", "y"])}, "dtype <U1"),
        ({frozenset(): 1}, "dict key frozenset"),
    ],
)
def test_save_refuses_what_it_cannot_store(obj, message, tmp_path):
    with pytest.raises(TypeError, match=message):
        st.save(obj, tmp_path / "bad.safetensors")
    assert os.listdir(tmp_path) == []


def test_save_into_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        st.save({"a": 1}, tmp_path / "nope" / "x.safetensors")


def test_load_refuses_a_foreign_safetensors_file(tmp_path):
    path = tmp_path / "foreign.safetensors"
    safetensors.numpy.save_file({"w": np.ones(3, np.float32)}, str(path))
    with pytest.raises(StriateFileError, match=f"{path}: a safetensors file, but not written by st.save"):
        st.load(path)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"abc",
        b"hello, this is a text file, not a checkpoint\n" * 4,
        pickle.dumps({"a": 1}),
        b"\x08\x00\x00\x00\x00\x00\x00\x00not json",
    ],
)
def test_load_refuses_non_striate_files(content, tmp_path):
    path = tmp_path / "junk.bin"
    path.write_bytes(content)
    with pytest.raises(StriateFileError, match=str(path)):
        st.load(path)


def test_load_refuses_truncated_files(tmp_path):
    good = tmp_path / "good.safetensors"
    st.save({"model": small_net().state_dict(), "epoch": 1}, good)
    data = good.read_bytes()
    header_len = int.from_bytes(data[:8], "little")
    for cut in [4, 8, 8 + header_len // 2, 8 + header_len, 8 + header_len + 10, len(data) - 1]:
        path = tmp_path / f"cut{cut}.safetensors"
        path.write_bytes(data[:cut])
        with pytest.raises(StriateFileError, match=str(path)):
            st.load(path)


def _rewrite_metadata(data: bytes, change) -> bytes:
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    change(header["__metadata__"])
    new = json.dumps(header).encode()
    new += b" " * ((8 - len(new) % 8) % 8)
    return len(new).to_bytes(8, "little") + new + data[8 + n :]


def test_load_refuses_corrupt_structure_and_other_versions(tmp_path):
    good = tmp_path / "good.safetensors"
    st.save({"w": st.ones(2)}, good)
    data = good.read_bytes()
    cases = {
        "bad_json": (lambda m: m.update(structure="{not json"), "corrupt or truncated"),
        "dangling": (lambda m: m.update(structure=json.dumps({"__tensor__": "missing"})), "does not match"),
        "unknown_node": (lambda m: m.update(structure=json.dumps({"__what__": 1})), "does not match"),
        "no_structure": (lambda m: m.pop("structure"), "corrupt or truncated"),
        "future": (lambda m: m.update(striate="99"), "format '99'"),
    }
    for name, (change, message) in cases.items():
        path = tmp_path / f"{name}.safetensors"
        path.write_bytes(_rewrite_metadata(data, change))
        with pytest.raises(StriateFileError, match=message):
            st.load(path)


def test_load_arguments_for_torch_compatibility(tmp_path):
    path = tmp_path / "a.safetensors"
    st.save({"a": 1}, path)
    assert st.load(path, map_location="cpu", weights_only=True) == {"a": 1}
    assert st.load(str(path)) == {"a": 1}
    with pytest.raises(ValueError, match="CPU only"):
        st.load(path, map_location="cuda:0")


def test_load_names_a_torch_file_and_st_load_torch(tmp_path):
    torch = pytest.importorskip("torch")
    zipped, legacy = tmp_path / "mnist_cnn.pt", tmp_path / "legacy.pt"
    torch.save({"w": torch.ones(2)}, zipped)
    torch.save({"w": torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
    for path in (zipped, legacy):
        message = f"{path}: a PyTorch file .* never unpickles. Read it with st.load_torch"
        with pytest.raises(StriateFileError, match=message):
            st.load(path)


def test_save_with_a_pt_name_writes_striates_format(tmp_path):
    path = tmp_path / "mnist_cnn.pt"
    st.save(small_net().state_dict(), path)
    assert list(st.load(path)) == list(small_net().state_dict())
    assert safetensors.numpy.load_file(str(path))     # a plain safetensors file, whatever its name


def test_a_header_length_that_looks_like_a_pickle_still_loads(tmp_path):
    # The first byte of a safetensors file is the low byte of its header length: 0x80 must not
    # be taken for a pickle's first byte.
    path = tmp_path / "x.safetensors"
    for pad in range(300):
        st.save({"w": st.ones(2), "note": "x" * pad}, path)
        if path.read_bytes()[:1] == b"\x80":
            break
    assert path.read_bytes()[:1] == b"\x80"
    assert st.load(path)["note"] == "x" * pad

"""The CPU-only device model: PyTorch's device idioms run unchanged; using another device is a
clear error that names the reason and the fix."""

import pytest

import striate as st
import striate.nn as nn
from striate.device import DeviceUnavailableError


def test_the_usual_device_choice_picks_the_cpu_and_runs():
    device = st.device("cuda" if st.cuda.is_available() else "cpu")
    model = nn.Linear(3, 2).to(device)
    x = st.randn(4, 3, device=device).to(device, non_blocking=True)
    assert model(x).shape == (4, 2)
    assert x.device == device == "cpu" and str(x.device) == "cpu" and not x.is_cuda
    assert st.cuda.device_count() == 0 and not st.backends.mps.is_available()
    assert not st.backends.mps.is_built() and st.accelerator.current_accelerator() is None
    st.cuda.manual_seed_all(0)  # accepted and ignored, as PyTorch does without CUDA
    st.backends.cudnn.benchmark = True
    st.backends.cudnn.benchmark = False


@pytest.mark.parametrize("text, expected", [("cpu", "device(type='cpu')"),
                                            ("cuda:1", "device(type='cuda', index=1)")])
def test_device_values_print_and_compare_like_pytorch(text, expected):
    d = st.device(text)
    assert repr(d) == expected and str(d) == text and d == st.device(d) and hash(d) == hash(st.device(text))
    assert st.device("cuda", 1) == st.device("cuda:1") != st.device("cuda:0")


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cpu:-1"])
def test_bad_device_strings_are_refused(bad):
    with pytest.raises(ValueError):
        st.device(bad)


@pytest.mark.parametrize("use", [
    lambda: st.zeros(2).cuda(),
    lambda: st.zeros(2).cuda(0),
    lambda: st.zeros(2).to("cuda"),
    lambda: st.zeros(2).to(device=st.device("mps")),
    lambda: st.ones(2, device="cuda:0"),
    lambda: st.tensor([1.0], device="cuda"),
    lambda: st.randn(2, device="cuda"),
    lambda: st.arange(3, device="cuda"),
    lambda: nn.Linear(2, 2).cuda(),
    lambda: nn.Linear(2, 2).to("cuda"),
    lambda: st.cuda.current_device(),
])
def test_using_another_device_is_a_clear_error(use):
    with pytest.raises(DeviceUnavailableError, match="CPU only"):
        use()


def test_to_keeps_pytorch_forms():
    x = st.zeros(2)
    assert x.to("cpu") is x and x.to(st.float64).dtype == st.float64
    assert x.to("cpu", st.float64).dtype == st.float64
    assert x.to(st.zeros(1, dtype=st.float64)).dtype == st.float64
    with pytest.raises(TypeError, match="unexpected arguments"):
        x.to(st.float64, blocking=True)
    m = nn.Linear(2, 2).to(device="cpu", dtype=st.float64)
    assert m.weight.dtype == st.float64
    assert st.eye(3, requires_grad=True).requires_grad

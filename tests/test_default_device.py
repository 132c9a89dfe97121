"""st.set_default_device / st.get_default_device: the CPU accepted (as in the tutorials'
`torch.set_default_device(device)`), any other device refused with the reason."""

import pytest

import striate as st
from striate.device import DeviceUnavailableError


@pytest.mark.parametrize("dev", ["cpu", "cpu:0", st.device("cpu"), None])
def test_cpu_is_accepted_and_changes_nothing(dev):
    st.set_default_device(dev)
    assert st.get_default_device() == st.device("cpu")
    assert st.zeros(2).device == st.device("cpu")


@pytest.mark.parametrize("dev", ["cuda", "cuda:1", "mps", st.device("cuda")])
def test_other_devices_are_refused_with_the_reason(dev):
    with pytest.raises(DeviceUnavailableError, match=r"set_default_device\(\) asked for device .* CPU only"):
        st.set_default_device(dev)


def test_a_bad_name_is_a_value_error():
    with pytest.raises(ValueError, match="Expected one of cpu"):
        st.set_default_device("gpu")

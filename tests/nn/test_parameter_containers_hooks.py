"""ParameterList / ParameterDict, full backward hooks, modules(remove_duplicate=) and
load_state_dict(assign=) against PyTorch's behaviour."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import striate as st
import striate.nn as nn


def _both(build):
    """The same program on striate and on PyTorch (same seed, same layer sizes)."""
    st.manual_seed(0)
    torch.manual_seed(0)
    return build(st, nn), build(torch, torch.nn)


def test_parameter_list_state_dict_and_list_behaviour():
    def build(lib, mods):
        class Net(mods.Module):
            def __init__(self):
                super().__init__()
                self.weights = mods.ParameterList([mods.Parameter(lib.ones(2, 3)), lib.zeros(4)])
                self.weights.append(mods.Parameter(lib.ones(1)))
                self.weights += [mods.Parameter(lib.ones(5))]
                self.weights.extend([lib.ones(2)])
                self.weights[1] = lib.ones(4) * 3  # a plain tensor is wrapped in a Parameter

        return Net()

    ours, theirs = _both(build)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [f"weights.{i}" for i in range(5)]
    assert [type(p).__name__ for p in ours.weights] == ["Parameter"] * 5
    assert len(ours.weights) == len(theirs.weights) == 5
    assert len(list(ours.parameters())) == 5
    assert ours.weights[-4].tolist() == [3.0] * 4
    assert [tuple(p.shape) for p in ours.weights[1:3]] == [(4,), (1,)]
    assert repr(ours).replace("striate.", "torch.") == repr(theirs)
    with pytest.raises(IndexError, match="out of range"):
        ours.weights[5]


def test_parameter_dict_order_keys_and_methods():
    def build(lib, mods):
        class Net(mods.Module):
            def __init__(self):
                super().__init__()
                # a plain dict is sorted by key, an OrderedDict keeps its order (PyTorch's rule)
                self.a = mods.ParameterDict({"zeta": lib.ones(2), "alpha": mods.Parameter(lib.zeros(3))})
                self.b = mods.ParameterDict(OrderedDict([("zeta", lib.ones(1)), ("alpha", lib.ones(1))]))
                self.b.update([("mid", lib.ones(2))])
                self.b["new"] = mods.Parameter(lib.ones(3))

        return Net()

    ours, theirs = _both(build)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours.a.keys()) == ["alpha", "zeta"]
    assert repr(ours).replace("striate.", "torch.") == repr(theirs)
    d = ours.b
    assert "mid" in d and len(d) == 4 and d.get("nope") is None
    popped = d.pop("mid")
    assert tuple(popped.shape) == (2,) and "mid" not in d and len(list(ours.parameters())) == 5
    assert d.setdefault("extra", st.zeros(1)).tolist() == [0.0]
    del d["extra"]
    assert list(d) == ["zeta", "alpha", "new"] and d.popitem()[0] == "new"
    optimizer = st.optim.SGD(ours.parameters(), lr=0.1)
    assert len(optimizer.param_groups[0]["params"]) == 4


def _hooked(lib, mods, replace):
    log = []
    net = mods.Sequential(mods.Linear(3, 4), mods.Tanh(), mods.Linear(4, 2))

    def pre_hook(module, grad_output):
        log.append(("pre", type(module).__name__, [tuple(g.shape) for g in grad_output]))
        return (grad_output[0] * 0.5,) if replace else None

    def hook(module, grad_input, grad_output):
        log.append(
            (
                "hook",
                type(module).__name__,
                [None if g is None else np.round(g.detach().numpy(), 5).tolist() for g in grad_input],
            )
        )
        return tuple(None if g is None else g + 1 for g in grad_input) if replace else None

    net[0].register_full_backward_hook(hook)
    net[1].register_full_backward_hook(hook)
    net[2].register_full_backward_pre_hook(pre_hook)
    net[2].register_full_backward_hook(hook, prepend=True)
    x = lib.tensor(np.arange(6.0).reshape(2, 3) / 5, dtype=lib.float32, requires_grad=True)
    (net(x) ** 2).sum().backward()
    return log, x.grad.numpy(), [p.grad.numpy() for p in net.parameters()]


@pytest.mark.parametrize("replace", [False, True])
def test_full_backward_hooks_match_torch(replace):
    ours, theirs = _both(lambda lib, mods: _hooked(lib, mods, replace))
    assert ours[0] == theirs[0]  # the same calls, in the same order, with the same grad_input values
    assert np.allclose(ours[1], theirs[1], rtol=1e-5)
    for a, b in zip(ours[2], theirs[2]):
        assert np.allclose(a, b, rtol=1e-5)


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")  # PyTorch's warning for this case
def test_hook_fires_with_none_when_no_input_requires_grad_and_handles_remove():
    def build(lib, mods):
        calls = []
        layer = mods.Linear(3, 2)
        handle = layer.register_full_backward_hook(lambda m, gi, go: calls.append((gi, tuple(go[0].shape))))
        layer(lib.ones(4, 3)).sum().backward()
        handle.remove()
        layer(lib.ones(4, 3)).sum().backward()
        return calls

    ours, theirs = _both(build)
    assert ours == theirs == [((None,), (4, 2))]
    with pytest.warns(UserWarning, match="Full backward hook is firing"):
        build(st, nn)


def test_grad_fn_of_hooked_output_and_refusals():
    layer = nn.Linear(3, 2)
    layer.register_full_backward_hook(lambda *a: None)
    y = layer(st.ones(1, 3, requires_grad=True))
    assert y.grad_fn.name() == "BackwardHookFunctionBackward"

    class Two(nn.Module):
        def forward(self, x):
            return x * 2, x * 3

    two = Two()
    two.register_full_backward_hook(lambda *a: None)
    with pytest.raises(NotImplementedError, match="one output tensor"):
        two(st.ones(2, requires_grad=True))

    bil = nn.Bilinear(2, 2, 1)
    seen = []
    bil.register_full_backward_hook(lambda m, gi, go: seen.append([tuple(g.shape) for g in gi]))
    bil(st.ones(3, 2, requires_grad=True), st.ones(3, 2, requires_grad=True)).sum().backward()
    assert seen == [[(3, 2), (3, 2)]]  # several inputs: observed together
    bil._backward_hooks.clear()
    bil.register_full_backward_hook(lambda m, gi, go: gi)
    with pytest.raises(RuntimeError, match="several tensor inputs"):
        bil(st.ones(3, 2, requires_grad=True), st.ones(3, 2, requires_grad=True)).sum().backward()


def test_modules_remove_duplicate():
    def build(lib, mods):
        shared = mods.Linear(2, 2)
        return mods.Sequential(shared, mods.ReLU(), shared)

    ours, theirs = _both(build)
    for flag in (True, False):
        assert [type(m).__name__ for m in ours.modules(remove_duplicate=flag)] == [
            type(m).__name__ for m in theirs.modules(remove_duplicate=flag)
        ]


def test_load_state_dict_assign():
    def build(lib, mods):
        layer = mods.Linear(3, 2)
        layer.bias.requires_grad_(False)
        state = {"weight": lib.ones(2, 3, dtype=lib.float64), "bias": lib.zeros(2, dtype=lib.float64)}
        layer.load_state_dict(state, assign=True)
        state["weight"][0, 0] = 5.0  # assigned, not copied: the module sees the change
        return (
            str(layer.weight.dtype).split(".")[-1],
            float(layer.weight.detach()[0, 0]),
            layer.weight.requires_grad,
            layer.bias.requires_grad,
            type(layer.weight).__name__,
        )

    ours, theirs = _both(build)
    assert ours == theirs == ("float64", 5.0, True, False, "Parameter")

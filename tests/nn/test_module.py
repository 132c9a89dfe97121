"""nn.Module's API against torch.nn.Module: registration, traversal order and names, modes,
hooks, state_dict keys and strict loading, repr text."""

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import striate as st
import striate.nn as nn


def twin_nets():
    """The same small network in striate and torch (containers, a buffer-holding layer, a loss
    with a weight buffer, a parameter-free activation)."""

    def build(lib):
        class Net(lib.Module):
            def __init__(self):
                super().__init__()
                self.features = lib.Sequential(
                    lib.Conv2d(1, 4, 3, padding=1), lib.BatchNorm2d(4), lib.ReLU(), lib.MaxPool2d(2)
                )
                self.heads = lib.ModuleList([lib.Linear(4 * 4 * 4, 8), lib.Linear(8, 3, bias=False)])
                self.extra = lib.ModuleDict({"act": lib.Tanh(), "drop": lib.Dropout(0.25)})
                self.scale = lib.Parameter(torch.ones(3) if lib is torch.nn else st.ones(3))

            def forward(self, x):
                x = self.features(x).flatten(1)
                x = self.extra["act"](self.heads[0](x))
                return self.heads[1](self.extra["drop"](x)) * self.scale

        return Net()

    return build(nn), build(torch.nn)


def test_named_parameters_buffers_modules_match_torch():
    s, t = twin_nets()
    assert [n for n, _ in s.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [tuple(p.shape) for p in s.parameters()] == [tuple(p.shape) for p in t.parameters()]
    assert [n for n, _ in s.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in s.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in s.named_children()] == [n for n, _ in t.named_children()]
    assert [n for n, _ in s.named_parameters(prefix="net", recurse=True)] == [
        n for n, _ in t.named_parameters(prefix="net")
    ]
    assert [n for n, _ in s.named_parameters(recurse=False)] == ["scale"]
    assert list(s.state_dict()) == list(t.state_dict())
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in s.parameters())


def test_shared_parameter_listed_once_but_state_dict_keeps_both_keys():
    lin = nn.Linear(3, 3)
    s = nn.Sequential(lin, nn.ReLU(), lin)
    t_lin = torch.nn.Linear(3, 3)
    t = torch.nn.Sequential(t_lin, torch.nn.ReLU(), t_lin)
    assert len(list(s.parameters())) == len(list(t.parameters())) == 2
    assert list(s.state_dict()) == list(t.state_dict())
    assert len(list(s.modules())) == len(list(t.modules())) == 3
    assert len(list(s.named_modules(remove_duplicate=False))) == 4


def test_setattr_registration_and_reassignment():
    m = nn.Module()
    m.w = nn.Parameter(st.zeros(2))
    m.child = nn.Linear(2, 2)
    m.register_buffer("stat", st.zeros(2))
    m.register_buffer("tmp", st.ones(1), persistent=False)
    m.plain = 3
    assert [n for n, _ in m.named_parameters()] == ["w", "child.weight", "child.bias"]
    assert [n for n, _ in m.named_buffers()] == ["stat", "tmp"]
    assert list(m.state_dict()) == ["w", "stat", "child.weight", "child.bias"]  # non-persistent left out
    m.stat = st.full((2,), 5.0)  # reassigning a buffer keeps it a buffer
    assert m.state_dict()["stat"].numpy().tolist() == [5.0, 5.0]
    m.w = None  # a declared-but-absent parameter
    assert "w" not in m.state_dict()
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        m.w = st.zeros(2)
    with pytest.raises(TypeError, match="nn.Parameter or None required"):
        m.register_parameter("q", st.zeros(2))
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        m.register_buffer("plain", st.zeros(1))
    with pytest.raises(KeyError, match=r"contain \"\.\", got"):
        m.register_buffer("a.b", st.zeros(1))
    del m.child
    assert [n for n, _ in m.named_parameters()] == []
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nothing'"):
        _ = m.nothing


def test_assigning_before_super_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(st.zeros(1))
            super().__init__()

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Bad()


def test_train_eval_propagate_and_zero_grad_requires_grad_apply():
    s, _ = twin_nets()
    assert all(m.training for m in s.modules())
    assert s.eval() is s
    assert not any(m.training for m in s.modules())
    s.train()
    assert all(m.training for m in s.modules())
    with pytest.raises(ValueError, match="boolean"):
        s.train("yes")
    out = s(st.randn(2, 1, 8, 8)).sum()
    out.backward()
    assert all(p.grad is not None for p in s.parameters())
    s.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in s.parameters())
    s.zero_grad()
    assert all(p.grad is None for p in s.parameters())
    s.requires_grad_(False)
    assert not any(p.requires_grad for p in s.parameters())
    visited = []
    s.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "Net" and visited[0] == "Conv2d"


def test_forward_hooks_pre_hooks_and_removal():
    lin = nn.Linear(3, 2)
    calls = []
    h1 = lin.register_forward_hook(
        lambda mod, inputs, output: calls.append((mod, inputs[0].shape, output.shape))
    )
    h2 = lin.register_forward_pre_hook(lambda mod, inputs: (inputs[0] * 0,))
    out = lin(st.randn(4, 3))
    assert calls == [(lin, (4, 3), (4, 2))]
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(lin.bias.numpy(), (4, 2)), rtol=1e-6)
    h2.remove()
    replaced = lin.register_forward_hook(lambda mod, inputs, output: output * 2)
    x = st.randn(1, 3)
    np.testing.assert_allclose(
        lin(x).numpy(), 2 * (x.numpy() @ lin.weight.numpy().T + lin.bias.numpy()), rtol=1e-6
    )
    replaced.remove()
    h1.remove()
    calls.clear()
    lin(x)
    assert calls == []
    with lin.register_forward_hook(lambda *a: calls.append(1)):
        lin(x)
    lin(x)
    assert calls == [1]


def test_hooks_see_every_layer_in_call_order():
    s, _ = twin_nets()
    seen = []
    handles = [
        m.register_forward_hook(lambda mod, i, o, name=name: seen.append((name, tuple(o.shape))))
        for name, m in s.named_modules()
        if not list(m.children())
    ]
    s(st.randn(2, 1, 8, 8))
    for h in handles:
        h.remove()
    assert [n for n, _ in seen] == [
        "features.0",
        "features.1",
        "features.2",
        "features.3",
        "heads.0",
        "extra.act",
        "extra.drop",
        "heads.1",
    ]
    assert seen[0][1] == (2, 4, 8, 8) and seen[-1][1] == (2, 3)


def test_missing_forward_is_a_clear_error():
    with pytest.raises(TypeError, match='missing the required "forward"'):
        nn.Module()(st.zeros(1))


def test_state_dict_values_and_load_from_torch():
    s, t = twin_nets()
    with torch.no_grad():
        for b in t.buffers():
            if b.dtype.is_floating_point:
                b.uniform_(0.5, 1.5)
        t.features[1].num_batches_tracked += 7
    result = s.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for (k, a), b in zip(s.state_dict().items(), t.state_dict().values()):
        assert a.dtype == b.numpy().dtype, k
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    assert s.state_dict()["features.1.num_batches_tracked"].dtype == np.int64
    s.eval()
    t.eval()
    x = np.random.default_rng(1).standard_normal((2, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(
        s(st.tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_state_dict_shares_memory_and_keep_vars():
    lin = nn.Linear(2, 2)
    sd = lin.state_dict()
    assert np.shares_memory(sd["weight"].numpy(), lin.weight.numpy())
    assert not sd["weight"].requires_grad
    assert lin.state_dict(keep_vars=True)["weight"] is lin.weight
    assert list(lin.state_dict(prefix="fc.")) == ["fc.weight", "fc.bias"]


def snapshot(m):
    return {k: v.numpy().copy() for k, v in m.state_dict().items()}


def test_load_state_dict_validates_everything_first_and_changes_nothing():
    s, _ = twin_nets()
    before = snapshot(s)
    good = {k: v + 1 for k, v in before.items()}
    # a wrong shape late in the key order: nothing earlier may have been copied
    bad_shape = dict(good)
    bad_shape["heads.1.weight"] = np.zeros((3, 9), np.float32)
    with pytest.raises(RuntimeError) as err:
        s.load_state_dict(bad_shape)
    msg = str(err.value)
    assert "size mismatch for heads.1.weight" in msg and "(3, 9)" in msg and "(3, 8)" in msg
    assert "nothing was changed" in msg
    for k, v in snapshot(s).items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    # missing and unexpected keys under strict=True
    missing = {k: v for k, v in good.items() if k != "features.1.running_var"}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "features.1.running_var"'):
        s.load_state_dict(missing)
    unexpected = dict(good, **{"heads.2.weight": np.zeros(1)})
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "heads.2.weight"'):
        s.load_state_dict(unexpected)
    for k, v in snapshot(s).items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    # strict=False reports them like PyTorch, and loads the rest
    result = s.load_state_dict({**missing, "heads.2.weight": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["features.1.running_var"]
    assert result.unexpected_keys == ["heads.2.weight"]
    np.testing.assert_array_equal(s.state_dict()["scale"].numpy(), before["scale"] + 1)
    # a shape mismatch is an error even with strict=False (as in PyTorch)
    with pytest.raises(RuntimeError, match="size mismatch for heads.1.weight"):
        s.load_state_dict(bad_shape, strict=False)


def test_load_state_dict_accepts_tensors_and_casts_dtype_and_rejects_junk():
    lin = nn.Linear(2, 3)
    lin.load_state_dict({"weight": st.ones(3, 2, dtype=st.float64), "bias": np.arange(3)})
    assert lin.weight.dtype == np.float32 and lin.bias.numpy().tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(TypeError, match="the value for 'bias' is a str"):
        lin.load_state_dict({"weight": np.ones((3, 2)), "bias": "zeros"})
    with pytest.raises(TypeError, match="mapping"):
        lin.load_state_dict([("weight", np.ones((3, 2)))])


def test_double_and_float_keep_parameter_identity():
    lin = nn.Linear(2, 2)
    bn = nn.BatchNorm1d(2)
    seq = nn.Sequential(lin, bn)
    w = lin.weight
    seq.double()
    assert lin.weight is w and w.dtype == np.float64 and bn.running_mean.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64
    seq.to(st.float32)
    assert w.dtype == np.float32
    with pytest.raises(ValueError, match="CPU only"):
        seq.to("cuda")


def test_deepcopy_gives_independent_module():
    s, _ = twin_nets()
    c = copy.deepcopy(s)
    assert list(c.state_dict()) == list(s.state_dict())
    c.heads[0].weight.data = c.heads[0].weight.numpy() + 1
    assert not np.allclose(c.heads[0].weight.numpy(), s.heads[0].weight.numpy())
    assert isinstance(c.heads[0].weight, nn.Parameter)


def test_sequential_indexing_slicing_len_append_iteration():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2]
    assert list(seq) == layers
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:]
    t_seq = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    assert list(sub.state_dict()) == list(t_seq[1:].state_dict()) == ["2.weight", "2.bias"]  # names kept
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and list(dict(seq.named_children())) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(dict(seq.named_children())) == ["0", "1", "2"] and seq[1] is layers[2]
    seq.insert(1, nn.Tanh())
    assert isinstance(seq[1], nn.Tanh) and len(seq) == 4
    assert isinstance(seq.pop(), nn.Sigmoid) and len(seq) == 3
    with pytest.raises(IndexError, match="out of range"):
        seq[7]
    named = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["conv.weight", "conv.bias"]
    x = st.randn(4, 2)
    ref = layers[2](nn.Tanh()(layers[0](x)))
    np.testing.assert_allclose(seq(x).numpy(), ref.numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="is not a Module subclass"):
        nn.Sequential(nn.ReLU(), "relu")


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and isinstance(ml[1:], nn.ModuleList) and len(ml[1:]) == 2
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    ml.insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in ml] == ["Sigmoid", "Linear", "Linear", "Linear", "ReLU", "Tanh"]
    assert len(list(ml.parameters())) == 6
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    md["b"] = nn.ReLU()
    md.update([("c", nn.Tanh())])
    assert list(md.keys()) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert isinstance(md.pop("b"), nn.ReLU) and list(md) == ["a", "c"]
    with pytest.raises(TypeError, match='missing the required "forward"'):
        ml(st.zeros(1))


@pytest.mark.parametrize(
    "make",
    [
        lambda L: L.Conv2d(1, 16, kernel_size=5, stride=1, padding=2),
        lambda L: L.Conv2d(3, 6, 5),
        lambda L: L.Conv2d(
            4, 8, (3, 5), stride=2, padding=1, dilation=2, groups=2, bias=False, padding_mode="reflect"
        ),
        lambda L: L.Conv2d(2, 2, 3, padding="same"),
        lambda L: L.Conv1d(2, 4, 3, stride=2),
        lambda L: L.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
        lambda L: L.Linear(3, 4, bias=False),
        lambda L: L.MaxPool2d(kernel_size=2, stride=2),
        lambda L: L.MaxPool2d(3, 1, 1, ceil_mode=True),
        lambda L: L.AvgPool2d(2),
        lambda L: L.LPPool2d(2, 3),
        lambda L: L.AdaptiveAvgPool2d((1, 1)),
        lambda L: L.AdaptiveMaxPool2d(2),
        lambda L: L.BatchNorm2d(16),
        lambda L: L.BatchNorm1d(8, momentum=None, affine=False),
        lambda L: L.BatchNorm2d(4, bias=False),
        lambda L: L.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
        lambda L: L.ReLU(),
        lambda L: L.ReLU(inplace=True),
        lambda L: L.LeakyReLU(0.2),
        lambda L: L.ELU(alpha=0.5, inplace=True),
        lambda L: L.Softmax(dim=1),
        lambda L: L.LogSoftmax(dim=-1),
        lambda L: L.Dropout(0.3),
        lambda L: L.Dropout2d(),
        lambda L: L.Flatten(),
        lambda L: L.Unflatten(1, (2, 3)),
        lambda L: L.CrossEntropyLoss(),
        lambda L: L.Identity(),
        lambda L: L.Sequential(
            L.Conv2d(1, 16, kernel_size=5, stride=1, padding=2),
            L.BatchNorm2d(16),
            L.ReLU(),
            L.MaxPool2d(kernel_size=2, stride=2),
        ),
        lambda L: L.ModuleList([L.Linear(2, 2), L.Linear(2, 2), L.Linear(2, 2), L.ReLU(), L.Linear(2, 2)]),
        lambda L: L.ModuleDict({"conv": L.Conv2d(1, 2, 3), "pool": L.MaxPool2d(2)}),
        lambda L: L.ModuleList(),
    ],
    ids=lambda f: "repr",
)
def test_repr_matches_torch(make):
    assert repr(make(nn)) == repr(make(torch.nn))


def test_repr_of_nested_network_matches_torch():
    s, t = twin_nets()
    assert repr(s) == repr(t)


def test_parameter_shares_memory_and_repr():
    arr = np.zeros(3, np.float32)
    p = nn.Parameter(arr)
    assert p.requires_grad and np.shares_memory(p.numpy(), arr)
    t = st.ones(2)
    assert np.shares_memory(nn.Parameter(t).numpy(), t.numpy())
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert repr(nn.Parameter(st.zeros(2))) == "Parameter containing:\ntensor([0., 0.], requires_grad=True)"
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(np.arange(3))


def test_get_submodule_and_parameter():
    s, _ = twin_nets()
    assert s.get_submodule("features.1") is s.features[1]
    assert s.get_parameter("heads.0.weight") is s.heads[0].weight
    assert s.get_buffer("features.1.running_mean") is s.features[1].running_mean
    with pytest.raises(AttributeError, match="no submodule `nope`"):
        s.get_submodule("features.nope")


def test_hook_order_prepend_and_with_kwargs():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    order = []
    m.register_forward_hook(lambda mod, args, out: order.append("second"))
    m.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)

    def double_factor(mod, args, kwargs):
        return args, {"factor": kwargs.get("factor", 1.0) * 2}

    m.register_forward_pre_hook(double_factor, with_kwargs=True)
    seen = {}
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.update(kwargs), with_kwargs=True)
    out = m(st.ones(2), factor=3.0)
    np.testing.assert_array_equal(out.numpy(), [6.0, 6.0])
    assert order == ["first", "second"] and seen == {"factor": 6.0}

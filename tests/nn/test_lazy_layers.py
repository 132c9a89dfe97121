"""Lazy layers against torch.nn.Lazy*: same seed -> same weights after the first forward, same
outputs and gradients, the class switch, state dicts, optimizers and summaries."""

import numpy as np
import pytest
import torch

import striate as st
import striate.nn as nn

CASES = [
    # (name, constructor args, input shape)
    ("LazyLinear", (5,), (3, 7)),
    ("LazyLinear", (4,), (2, 3, 6)),
    ("LazyLinear", (1,), (6,)),
    ("LazyConv1d", (4, 3), (2, 3, 9)),
    ("LazyConv1d", (6, 2), (4, 8)),
    ("LazyConv2d", (6, 3), (2, 3, 7, 7)),
    ("LazyConv2d", (4, (2, 3)), (3, 5, 6)),
    ("LazyConvTranspose2d", (3, 3), (2, 4, 5, 5)),
    ("LazyBatchNorm1d", (), (5, 3)),
    ("LazyBatchNorm1d", (), (4, 3, 6)),
    ("LazyBatchNorm2d", (), (3, 4, 5, 5)),
]
KWARGS = {
    "LazyConv2d": [{}, {"stride": 2, "padding": 1, "bias": False}, {"groups": 2}, {"padding": "same",
                                                                                 "padding_mode": "reflect"}],
    "LazyConvTranspose2d": [{}, {"stride": 2, "output_padding": 1}],
    "LazyLinear": [{}, {"bias": False}],
    "LazyBatchNorm2d": [{}, {"affine": False}, {"momentum": None}],
}


def _cases():
    for name, args, shape in CASES:
        for kwargs in KWARGS.get(name, [{}]):
            if kwargs.get("groups", 1) > 1 and shape[-3] % kwargs["groups"]:
                continue
            yield pytest.param(name, args, kwargs, shape, id=f"{name}{args}{kwargs}{shape}")


@pytest.mark.parametrize("name,args,kwargs,shape", list(_cases()))
def test_lazy_layer_matches_torch(name, args, kwargs, shape):
    seed = 11
    torch.manual_seed(seed)
    st.manual_seed(seed)
    tm = getattr(torch.nn, name)(*args, **kwargs)
    sm = getattr(nn, name)(*args, **kwargs)
    assert repr(sm) == repr(tm)
    torch.rand(2)  # draws between construction and the first forward must count (PyTorch's timing)
    st.rand(2)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    tx, sx = torch.tensor(x, requires_grad=True), st.tensor(x, requires_grad=True)
    ty, sy = tm(tx), sm(sx)
    assert type(sm).__name__ == type(tm).__name__ == name.removeprefix("Lazy")
    assert repr(sm) == repr(tm)
    tparams = dict(tm.named_parameters())
    assert [k for k, _ in sm.named_parameters()] == list(tparams)
    for key, p in sm.named_parameters():
        np.testing.assert_array_equal(p.numpy(), tparams[key].detach().numpy(), err_msg=key)
    assert list(sm.state_dict()) == list(tm.state_dict())
    np.testing.assert_allclose(sy.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    w = np.random.default_rng(2).standard_normal(ty.shape).astype(np.float32)
    (ty * torch.tensor(w)).sum().backward()
    (sy * st.tensor(w)).sum().backward()
    np.testing.assert_allclose(sx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    for key, p in sm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[key].grad.numpy(), rtol=1e-5, atol=1e-4,
                                   err_msg=key)
    np.testing.assert_array_equal(st.rand(5).numpy(), torch.rand(5).numpy())  # the streams stayed in step


def test_lazy_network_trains_like_torch():
    def build(mod):
        return mod.Sequential(mod.LazyConv2d(4, 3), mod.LazyBatchNorm2d(), mod.ReLU(), mod.Flatten(),
                              mod.LazyLinear(8), mod.ReLU(), mod.LazyLinear(3))

    torch.manual_seed(5)
    st.manual_seed(5)
    tm, sm = build(torch.nn), build(nn)
    x = np.random.default_rng(0).standard_normal((6, 2, 6, 6))
    y = np.array([0, 1, 2, 0, 1, 2])
    tm.double()(torch.tensor(x[:1]))
    sm.double()(st.tensor(x[:1], dtype=st.float64))   # the dry run (dtype first, as PyTorch's docs say)
    topt = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9)
    sopt = st.optim.SGD(sm.parameters(), lr=0.1, momentum=0.9)
    for _ in range(5):
        tl = torch.nn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(y))
        sl = nn.functional.cross_entropy(sm(st.tensor(x, dtype=st.float64)), st.tensor(y))
        topt.zero_grad()
        sopt.zero_grad()
        tl.backward()
        sl.backward()
        topt.step()
        sopt.step()
        assert abs(tl.item() - sl.item()) < 1e-10
    sd = tm.state_dict()
    for key, value in sm.state_dict().items():
        np.testing.assert_allclose(value.numpy(), sd[key].numpy(), rtol=1e-9, atol=1e-12)


def test_uninitialized_parameters_give_clear_errors():
    model = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(2))
    params = list(model.parameters())
    assert all(isinstance(p, nn.UninitializedParameter) for p in params)
    with pytest.raises(ValueError, match="dummy batch"):
        st.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="uninitialized parameter"):
        sum(p.numel() for p in params)
    with pytest.raises(ValueError, match="uninitialized parameter"):
        params[0].shape
    assert repr(params[0]) == "<UninitializedParameter>"
    model(st.randn(3, 5))
    assert [p.shape for p in params] == [(4, 5), (4,), (2, 4), (2,)]  # the same objects, now Parameters
    assert all(type(p) is nn.Parameter for p in params)
    st.optim.Adam(model.parameters())


def test_lazy_state_dict_round_trip(tmp_path):
    st.manual_seed(0)
    trained = nn.Sequential(nn.LazyConv2d(3, 3), nn.LazyBatchNorm2d(), nn.Flatten(), nn.LazyLinear(2))
    x = st.randn(2, 1, 5, 5)
    trained(x)
    path = tmp_path / "lazy.safetensors"
    st.save(trained.state_dict(), path)
    fresh = nn.Sequential(nn.LazyConv2d(3, 3), nn.LazyBatchNorm2d(), nn.Flatten(), nn.LazyLinear(2))
    assert isinstance(fresh.state_dict()["0.weight"], nn.UninitializedParameter)  # PyTorch's rule
    fresh.load_state_dict(st.load(path))
    trained.eval()
    fresh.eval()
    np.testing.assert_array_equal(fresh(x).numpy(), trained(x).numpy())
    assert [type(m).__name__ for m in fresh] == ["Conv2d", "BatchNorm2d", "Flatten", "Linear"]
    assert fresh[0].in_channels == 1 and fresh[3].in_features == 27
    with pytest.raises(RuntimeError, match="size mismatch"):
        trained.load_state_dict({**trained.state_dict(), "3.weight": np.zeros((2, 5), np.float32)})


def test_deepcopy_of_a_lazy_model_initializes_on_its_own():
    import copy

    model = nn.Sequential(nn.LazyLinear(3), nn.LazyBatchNorm1d())
    twin = copy.deepcopy(model)
    twin(st.randn(4, 5))
    assert type(twin[0]) is nn.Linear and twin[0].weight.shape == (3, 5)
    assert type(model[0]) is nn.LazyLinear and nn.parameter.is_lazy(model[0].weight)
    model(st.randn(2, 7))
    assert model[0].weight.shape == (3, 7)


def test_summary_of_a_lazy_model_runs_the_dry_forward():
    model = nn.Sequential(nn.LazyConv2d(4, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
    report = st.summary(model, (1, 8, 8))
    assert report.total_params == 4 * 9 + 4 + 144 * 10 + 10
    assert type(model[3]) is nn.Linear


def test_lazy_conv_rejects_wrong_input():
    with pytest.raises(ValueError, match="Expected 3D \\(unbatched\\) or 4D"):
        nn.LazyConv2d(4, 3)(st.randn(5, 5))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.LazyConv2d(4, 3, groups=2)(st.randn(1, 3, 5, 5))

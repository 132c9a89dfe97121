"""Optimizers against torch.optim: the same network, weights and batches, 50 steps, parameters
equal at every step (float32 within 1e-5 relative, float64 within 1e-10); state_dict format and
round trips (through torch and through st.save/st.load); argument errors; gradient clipping."""

import numpy as np
import pytest
import torch
from optimhelpers import RTOL, assert_same_params, train_step, twin_models

import striate as st
import striate.nn as nn
from harness import assert_close
from striate.optim.optimizer import SCALAR_STATE

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.005, "centered": True}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.7}),
    (
        "RMSprop",
        {"lr": 0.003, "alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.05, "eps": 1e-6},
    ),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.9), "maximize": True}),  # beta1 < 0.5: lerp's other branch
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.05, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "weight_decay": 0.02, "eps": 1e-4}),
    # issue 21 (i21-misc): the rest of torch.optim
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "betas": (0.3, 0.9), "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "betas": (0.8, 0.9)}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 10, "weight_decay": 0.01}),
]


def _config_id(config):
    name, kwargs = config
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items()) if kwargs else name


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("config", CONFIGS, ids=_config_id)
def test_trajectory_matches_torch(config, dtype):
    name, kwargs = config
    s_model, t_model = twin_models(dtype)
    s_opt = getattr(st.optim, name)(s_model.parameters(), **kwargs)
    t_opt = getattr(torch.optim, name)(t_model.parameters(), **kwargs)
    for step in range(50):
        s_loss = train_step(s_model, s_opt, step)
        t_loss = train_step(t_model, t_opt, step)
        assert s_loss == pytest.approx(t_loss, rel=10 * RTOL[dtype])
        assert_same_params(s_model, t_model, RTOL[dtype], f"{name} step {step}")
    # the optimizer state agrees too, and stays in the parameters' dtype
    for (i, s_state), t_state in zip(
        s_opt.state_dict()["state"].items(), t_opt.state_dict()["state"].values()
    ):
        assert list(s_state) == list(t_state)
        for key, value in s_state.items():
            scalar = key in SCALAR_STATE  # step (NAdam's mu_product, ASGD's eta, mu): 0-d float32
            assert value.dtype == (np.float32 if scalar else dtype), f"state[{i}][{key}] dtype"
            assert_close(value.numpy(), t_state[key].numpy(), RTOL[dtype], f"state[{i}][{key}]")


@pytest.mark.parametrize(
    "name,kwargs", [("SGD", {"momentum": 0.9}), ("Adam", {"amsgrad": True}), ("RMSprop", {"centered": True})]
)
def test_param_groups_with_their_own_settings_match_torch(name, kwargs):
    s_model, t_model = twin_models()

    def groups(model):
        return [
            {"params": model[0].parameters(), "lr": 0.05},
            {"params": [model[2].weight], "weight_decay": 0.1},
            {"params": [model[2].bias]},
        ]

    s_opt = getattr(st.optim, name)(groups(s_model), lr=0.01, **kwargs)
    t_opt = getattr(torch.optim, name)(groups(t_model), lr=0.01, **kwargs)
    assert [g["lr"] for g in s_opt.param_groups] == [0.05, 0.01, 0.01]
    for step in range(50):
        train_step(s_model, s_opt, step)
        train_step(t_model, t_opt, step)
        assert_same_params(s_model, t_model, RTOL[np.float32], f"{name} groups step {step}")
    s_sd, t_sd = s_opt.state_dict(), t_opt.state_dict()
    assert [g["params"] for g in s_sd["param_groups"]] == [g["params"] for g in t_sd["param_groups"]]
    for s_group, t_group in zip(s_sd["param_groups"], t_sd["param_groups"]):
        assert set(s_group) <= set(t_group)
        for key in s_group:
            assert s_group[key] == t_group[key], key


def test_add_param_group_later():
    s_model, t_model = twin_models()
    s_opt = st.optim.SGD(s_model[0].parameters(), lr=0.1, momentum=0.9)
    t_opt = torch.optim.SGD(t_model[0].parameters(), lr=0.1, momentum=0.9)
    for step in range(50):
        if step == 10:  # unfreeze the last layer with its own lr
            s_opt.add_param_group({"params": s_model[2].parameters(), "lr": 0.02})
            t_opt.add_param_group({"params": t_model[2].parameters(), "lr": 0.02})
        train_step(s_model, s_opt, step)
        train_step(t_model, t_opt, step)
        assert_same_params(s_model, t_model, RTOL[np.float32], f"step {step}")


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
        ("Adam", {"lr": 0.01, "amsgrad": True}),
        ("AdamW", {"lr": 0.01}),
        ("RMSprop", {"momentum": 0.5, "centered": True}),
        ("Adagrad", {"lr_decay": 0.01}),
        ("Adadelta", {}),
    ],
)
def test_torch_state_dict_loads_and_training_continues_identically(name, kwargs):
    s_model, t_model = twin_models()
    t_opt = getattr(torch.optim, name)(t_model.parameters(), **kwargs)
    for step in range(7):
        train_step(t_model, t_opt, step)
    s_model.load_state_dict({k: v.numpy() for k, v in t_model.state_dict().items()})
    t_sd = t_opt.state_dict()
    as_numpy = {
        "state": {
            i: {k: v.numpy() if torch.is_tensor(v) else v for k, v in entries.items()}
            for i, entries in t_sd["state"].items()
        },
        "param_groups": t_sd["param_groups"],
    }
    s_opt = getattr(st.optim, name)(s_model.parameters(), **kwargs)
    s_opt.load_state_dict(as_numpy)
    for step in range(7, 30):
        train_step(s_model, s_opt, step)
        train_step(t_model, t_opt, step)
        assert_same_params(s_model, t_model, RTOL[np.float32], f"{name} resumed step {step}")


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9}),
        ("Adam", {"lr": 0.01, "amsgrad": True}),
        ("RMSprop", {"momentum": 0.5, "centered": True}),
        ("Adagrad", {}),
        ("Adadelta", {}),
    ],
)
def test_checkpoint_through_file_resumes_bitwise(name, kwargs, tmp_path):
    """Train 20 steps straight; or 10, st.save, fresh objects, st.load, 10 more: same bits."""
    straight, _ = twin_models()
    opt = getattr(st.optim, name)(straight.parameters(), **kwargs)
    for step in range(20):
        train_step(straight, opt, step)

    first, _ = twin_models()
    opt1 = getattr(st.optim, name)(first.parameters(), **kwargs)
    for step in range(10):
        train_step(first, opt1, step)
    path = tmp_path / "ckpt.safetensors"
    st.save({"model": first.state_dict(), "optimizer": opt1.state_dict(), "epoch": 10}, path)

    resumed, _ = twin_models()
    opt2 = getattr(st.optim, name)(resumed.parameters(), **kwargs)
    ckpt = st.load(path)
    assert ckpt["epoch"] == 10
    resumed.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    assert opt2.param_groups[0].keys() == opt1.param_groups[0].keys()
    assert opt2.param_groups[0].get("betas") == opt1.param_groups[0].get("betas")
    for step in range(10, 20):
        train_step(resumed, opt2, step)
    for (k, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


def test_load_state_dict_is_independent_and_checked():
    model, _ = twin_models()
    opt = st.optim.Adam(model.parameters(), lr=0.01)
    train_step(model, opt, 0)
    sd = opt.state_dict()
    other = st.optim.Adam(model.parameters(), lr=0.01)
    other.load_state_dict(sd)
    p0 = next(iter(model.parameters()))
    assert not np.shares_memory(other.state[p0]["exp_avg"].numpy(), opt.state[p0]["exp_avg"].numpy())
    bad = {
        "state": {0: dict(sd["state"][0], exp_avg=np.zeros((2, 2), np.float32))},
        "param_groups": sd["param_groups"],
    }
    with pytest.raises(
        ValueError,
        match=r"state\[0\]\['exp_avg'\] has shape \(2, 2\), but parameter 0 has "
        r"shape \(5, 6\)",
    ):
        other.load_state_dict(bad)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        other.load_state_dict({"state": {}, "param_groups": sd["param_groups"] * 2})
    with pytest.raises(ValueError, match="doesn't match the size"):
        other.load_state_dict({"state": {}, "param_groups": [dict(sd["param_groups"][0], params=[0, 1])]})
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        other.load_state_dict({"param_groups": []})


@pytest.mark.parametrize(
    "make,error,message",
    [
        (lambda p: st.optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
        (lambda p: st.optim.Adam(iter([])), ValueError, "optimizer got an empty parameter list"),
        (lambda p: st.optim.SGD(p, lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
        (lambda p: st.optim.Adam(p, lr=-1e-3), ValueError, "Invalid learning rate: -0.001"),
        (
            lambda p: st.optim.SGD([{"params": p, "lr": -1.0}], lr=0.1),
            ValueError,
            "Invalid learning rate: -1.0",
        ),
        (lambda p: st.optim.SGD(p, lr=0.1, momentum=-0.5), ValueError, "Invalid momentum value: -0.5"),
        (
            lambda p: st.optim.SGD(p, lr=0.1, nesterov=True),
            ValueError,
            "Nesterov momentum requires a momentum",
        ),
        (
            lambda p: st.optim.Adam(p, betas=(1.0, 0.999)),
            ValueError,
            "Invalid beta parameter at index 0: 1.0",
        ),
        (
            lambda p: st.optim.Adam(p, betas=(0.9, -0.1)),
            ValueError,
            "Invalid beta parameter at index 1: -0.1",
        ),
        (lambda p: st.optim.Adam(p, betas=0.9), ValueError, "Invalid betas"),
        (lambda p: st.optim.Adam(p, eps=-1e-8), ValueError, "Invalid epsilon value"),
        (lambda p: st.optim.AdamW(p, weight_decay=-0.01), ValueError, "Invalid weight_decay value: -0.01"),
        (lambda p: st.optim.RMSprop(p, alpha=-0.9), ValueError, "Invalid alpha value: -0.9"),
        (lambda p: st.optim.Adadelta(p, rho=1.5), ValueError, "Invalid rho value: 1.5"),
        (lambda p: st.optim.Adagrad(p, lr_decay=-1), ValueError, "Invalid lr_decay value"),
        (lambda p: st.optim.SGD(p[0], lr=0.1), TypeError, "iterable of Tensors or dicts"),
        (lambda p: st.optim.SGD([{"params": set(p)}], lr=0.1), TypeError, "ordered collections"),
        (lambda p: st.optim.SGD([p[0] * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
        (lambda p: st.optim.SGD([p[0], 3.0], lr=0.1), TypeError, "can only optimize Tensors"),
        (
            lambda p: st.optim.SGD([{"params": p}, {"params": p[:1]}], lr=0.1),
            ValueError,
            "more than one parameter group",
        ),
    ],
)
def test_bad_arguments(make, error, message):
    params = list(nn.Linear(2, 2).parameters())
    with pytest.raises(error, match=message):
        make(params)


def test_zero_grad_closure_and_parameters_without_grad():
    model, _ = twin_models()
    opt = st.optim.SGD(model.parameters(), lr=0.1)
    frozen = model[2].bias
    before = frozen.numpy().copy()

    def closure():
        opt.zero_grad()
        loss = model(st.randn(4, 6)).sum()
        loss.backward()
        frozen.grad = None  # a parameter without a gradient is skipped
        return loss

    loss = opt.step(closure)
    assert isinstance(loss, st.Tensor)
    np.testing.assert_array_equal(frozen.numpy(), before)
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is None or not p.grad.numpy().any() for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_step_updates_in_place_and_bumps_version():
    lin = nn.Linear(3, 2)
    opt = st.optim.Adam(lin.parameters(), lr=0.1)
    data, version = lin.weight.numpy(), lin.weight._version
    lin(st.randn(4, 3)).sum().backward()
    opt.step()
    assert lin.weight.numpy() is data and lin.weight._version == version + 1


def test_repr_lists_groups_like_torch():
    p = list(nn.Linear(2, 2).parameters())
    text = repr(st.optim.SGD(p, lr=0.1, momentum=0.9))
    assert (
        text.startswith("SGD (\nParameter Group 0\n")
        and "    lr: 0.1\n" in text
        and "    momentum: 0.9\n" in text
    )


def test_adagrad_state_exists_before_the_first_step_as_in_torch():
    s_model, t_model = twin_models()
    s_sd = st.optim.Adagrad(s_model.parameters(), initial_accumulator_value=0.5).state_dict()
    t_sd = torch.optim.Adagrad(t_model.parameters(), initial_accumulator_value=0.5).state_dict()
    assert list(s_sd["state"]) == list(t_sd["state"]) == [0, 1, 2, 3]
    for i in s_sd["state"]:
        np.testing.assert_array_equal(s_sd["state"][i]["sum"].numpy(), t_sd["state"][i]["sum"].numpy())


# ---------------------------------------------------------------------------- gradient clipping
def _grads_pair(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (3,), (2, 2, 2)]
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    s_params = [nn.Parameter(st.zeros(*s)) for s in shapes]
    t_params = [torch.nn.Parameter(torch.zeros(*s)) for s in shapes]
    for sp, tp, g in zip(s_params, t_params, arrays):
        sp.grad = st.tensor(g)
        tp.grad = torch.tensor(g)
    return s_params, t_params


@pytest.mark.parametrize("max_norm", [0.5, 1000.0])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    s_params, t_params = _grads_pair()
    s_total = nn.utils.clip_grad_norm_(s_params, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(t_params, max_norm, norm_type=norm_type)
    assert isinstance(s_total, st.Tensor) and s_total.dtype == np.float32
    assert_close(s_total.numpy(), t_total.numpy(), 1e-5, "total norm")
    for sp, tp in zip(s_params, t_params):
        assert sp.grad.dtype == np.float32
        assert_close(sp.grad.numpy(), tp.grad.numpy(), 1e-5, "clipped grad")


def test_clip_grad_norm_single_tensor_no_grads_and_nonfinite():
    p = nn.Parameter(st.zeros(3))
    p.grad = st.tensor([3.0, 4.0, 0.0])
    total = nn.utils.clip_grad_norm_(p, 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8, 0.0], rtol=1e-5)
    assert nn.utils.clip_grad_norm_([nn.Parameter(st.zeros(2))], 1.0).item() == 0.0
    p.grad = st.tensor([np.inf, 1.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_and_vector_round_trip():
    s_params, t_params = _grads_pair(1)
    nn.utils.clip_grad_value_(s_params, 0.3)
    torch.nn.utils.clip_grad_value_(t_params, 0.3)
    for sp, tp in zip(s_params, t_params):
        np.testing.assert_array_equal(sp.grad.numpy(), tp.grad.numpy())
    lin = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(vec * 2, lin.parameters())
    np.testing.assert_allclose(nn.utils.parameters_to_vector(lin.parameters()).numpy(), 2 * vec.numpy())

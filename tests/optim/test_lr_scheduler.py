"""Learning-rate schedulers against torch.optim.lr_scheduler: the same optimizer on the same
twin network, 50 steps, learning rates (and cycled momentum) equal at every step, parameters
within 1e-5; state_dict round trips through st.save/st.load; argument errors."""

import warnings

import numpy as np
import pytest
import torch
from optimhelpers import RTOL, assert_same_params, train_step, twin_models

import striate as st

METRICS = [1.0 / (1 + k) for k in range(12)] + list(0.08 + 0.01 * np.sin(np.arange(38)))


def _groups(model):
    return [{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 0.02}]


SCHEDULERS = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}, "SGD"),
    ("MultiStepLR", {"milestones": [5, 12, 12, 30], "gamma": 0.5}, "SGD"),
    ("ExponentialLR", {"gamma": 0.93}, "Adam"),
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}, "SGD"),  # 50 steps: up and down again
    ("CosineAnnealingLR", {"T_max": 50}, "Adam"),
    ("ReduceLROnPlateau", {"factor": 0.5, "patience": 2}, "SGD"),
    (
        "ReduceLROnPlateau",
        {
            "mode": "max",
            "threshold_mode": "abs",
            "threshold": 0.01,
            "patience": 1,
            "cooldown": 2,
            "min_lr": [0.004, 0.001],
        },
        "Adam",
    ),
    ("ReduceLROnPlateau", {"factor": 0.3, "threshold": 0.05, "eps": 1e-3, "min_lr": 0.002}, "SGD"),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 50}, "SGD"),
    (
        "OneCycleLR",
        {
            "max_lr": [0.05, 0.2],
            "total_steps": 50,
            "anneal_strategy": "linear",
            "div_factor": 10.0,
            "final_div_factor": 100.0,
        },
        "Adam",
    ),
    (
        "OneCycleLR",
        {
            "max_lr": 0.1,
            "epochs": 5,
            "steps_per_epoch": 10,
            "three_phase": True,
            "pct_start": 0.25,
            "base_momentum": 0.8,
            "max_momentum": 0.9,
        },
        "SGD",
    ),
    ("OneCycleLR", {"max_lr": 0.02, "total_steps": 60, "cycle_momentum": False}, "Adam"),
]


def _make(lib, model, scheduler, kwargs, optimizer):
    opt_kwargs = {"lr": 0.05, "momentum": 0.9} if optimizer == "SGD" else {"lr": 0.01}
    opt = getattr(lib, optimizer)(_groups(model), **opt_kwargs)
    sched_module = lib.lr_scheduler
    return opt, getattr(sched_module, scheduler)(opt, **kwargs)


def _scheduler_id(case):
    name, kwargs, optimizer = case
    return f"{name}-{optimizer}-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


def _assert_same_groups(s_opt, t_opt, what):
    for s_group, t_group in zip(s_opt.param_groups, t_opt.param_groups):
        for key in ("lr", "momentum", "betas", "initial_lr", "max_lr", "min_lr"):
            if key in t_group:
                assert s_group[key] == pytest.approx(t_group[key], rel=1e-13, abs=0), f"{what}: {key}"


@pytest.mark.parametrize("case", SCHEDULERS, ids=_scheduler_id)
def test_schedule_matches_torch(case):
    name, kwargs, optimizer = case
    s_model, t_model = twin_models()
    s_opt, s_sched = _make(st.optim, s_model, name, kwargs, optimizer)
    t_opt, t_sched = _make(torch.optim, t_model, name, kwargs, optimizer)
    _assert_same_groups(s_opt, t_opt, "after construction")
    lr_at_start = [g["lr"] for g in s_opt.param_groups]
    for step in range(50):
        train_step(s_model, s_opt, step)
        train_step(t_model, t_opt, step)
        if name == "ReduceLROnPlateau":
            s_sched.step(METRICS[step])
            t_sched.step(METRICS[step])
        else:
            s_sched.step()
            t_sched.step()
        assert s_sched.get_last_lr() == pytest.approx(t_sched.get_last_lr(), rel=1e-13, abs=0), f"step {step}"
        _assert_same_groups(s_opt, t_opt, f"step {step}")
        assert s_sched.last_epoch == t_sched.last_epoch
        assert_same_params(s_model, t_model, RTOL[np.float32], f"{name} step {step}")
    if name == "ReduceLROnPlateau":
        lr_now = [g["lr"] for g in s_opt.param_groups]
        assert all(a < b for a, b in zip(lr_now, lr_at_start)), (
            "the metric sequence should trigger reductions"
        )


@pytest.mark.parametrize("case", SCHEDULERS, ids=_scheduler_id)
def test_scheduler_and_optimizer_resume_from_file(case, tmp_path):
    """20 steps, st.save(optimizer + scheduler state), fresh objects, st.load, 30 more steps:
    the learning rates and weights equal those of an uninterrupted run."""
    name, kwargs, optimizer = case

    def run(model, opt, sched, steps):
        lrs = []
        for step in steps:
            train_step(model, opt, step)
            sched.step(METRICS[step]) if name == "ReduceLROnPlateau" else sched.step()
            lrs.append(list(sched.get_last_lr()))
        return lrs

    straight_model, _ = twin_models()
    opt, sched = _make(st.optim, straight_model, name, kwargs, optimizer)
    straight = run(straight_model, opt, sched, range(50))

    model, _ = twin_models()
    opt, sched = _make(st.optim, model, name, kwargs, optimizer)
    first = run(model, opt, sched, range(20))
    path = tmp_path / "resume.safetensors"
    st.save(
        {"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, path
    )

    model2, _ = twin_models()
    opt2, sched2 = _make(st.optim, model2, name, kwargs, optimizer)  # the scheduler first, as PyTorch advises
    ckpt = st.load(path)
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    rest = run(model2, opt2, sched2, range(20, 50))
    assert first + rest == straight
    for (k, a), b in zip(straight_model.state_dict().items(), model2.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("StepLR", {"step_size": 3, "gamma": 0.5}),
        ("MultiStepLR", {"milestones": [2, 5, 5]}),
        ("ExponentialLR", {"gamma": 0.9}),
        ("CosineAnnealingLR", {"T_max": 6, "eta_min": 0.01}),
    ],
)
def test_closed_form_with_explicit_epoch_matches_torch(name, kwargs):
    s_model, t_model = twin_models()
    s_opt, s_sched = _make(st.optim, s_model, name, kwargs, "SGD")
    t_opt, t_sched = _make(torch.optim, t_model, name, kwargs, "SGD")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in [4, 7, 1, 9]:
            s_opt.step()
            t_opt.step()
            s_sched.step(epoch)
            t_sched.step(epoch)
            assert s_sched.get_last_lr() == pytest.approx(t_sched.get_last_lr(), rel=1e-13)


def test_resuming_with_last_epoch_needs_initial_lr():
    model, _ = twin_models()
    opt = st.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        st.optim.lr_scheduler.StepLR(opt, 3, last_epoch=5)


def test_warns_when_scheduler_steps_before_optimizer():
    model, _ = twin_models()
    opt = st.optim.SGD(model.parameters(), lr=0.1)
    sched = st.optim.lr_scheduler.StepLR(opt, 3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


@pytest.mark.parametrize(
    "make,error,message",
    [
        (lambda o: st.optim.lr_scheduler.StepLR("sgd", 3), TypeError, "str is not an Optimizer"),
        (lambda o: st.optim.lr_scheduler.StepLR(o, 0), ValueError, "step_size must be a positive integer"),
        (lambda o: st.optim.lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError, "T_max"),
        (
            lambda o: st.optim.lr_scheduler.ReduceLROnPlateau(o, factor=1.0),
            ValueError,
            "factor should be < 1.0",
        ),
        (
            lambda o: st.optim.lr_scheduler.ReduceLROnPlateau(o, mode="lowest"),
            ValueError,
            "mode 'lowest' is unknown",
        ),
        (
            lambda o: st.optim.lr_scheduler.ReduceLROnPlateau(o, threshold_mode="pct"),
            ValueError,
            "threshold mode",
        ),
        (
            lambda o: st.optim.lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]),
            ValueError,
            "expected 1 min_lrs",
        ),
        (lambda o: st.optim.lr_scheduler.OneCycleLR(o, 0.1), ValueError, "total_steps OR"),
        (
            lambda o: st.optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=10, pct_start=1),
            ValueError,
            "pct_start",
        ),
        (
            lambda o: st.optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="cosine"),
            ValueError,
            "anneal_strategy",
        ),
        (
            lambda o: st.optim.lr_scheduler.OneCycleLR(o, [0.1, 0.2], total_steps=10),
            ValueError,
            "same length",
        ),
        (
            lambda o: st.optim.lr_scheduler.OneCycleLR(
                st.optim.Adagrad(o.param_groups[0]["params"]), 0.1, total_steps=10
            ),
            ValueError,
            "momentum or beta1",
        ),
    ],
)
def test_scheduler_argument_errors(make, error, message):
    model, _ = twin_models()
    opt = st.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(error, match=message):
        make(opt)


def test_one_cycle_refuses_to_step_past_total_steps():
    model, _ = twin_models()
    opt = st.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = st.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()

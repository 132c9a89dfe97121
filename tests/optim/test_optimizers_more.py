"""Adamax, NAdam, RAdam, ASGD and LBFGS against torch.optim (issue 21; their 50-step trajectories
are rows of test_optimizers.py's table): param_group keys, state_dict round trips through
st.save/st.load, PyTorch's constructor signatures and implementation switches (foreach, fused,
capturable, differentiable) on every optimizer, LBFGS with and without the strong-Wolfe line
search on a least-squares problem and a small network (float64, within 1e-10)."""

import inspect

import numpy as np
import pytest
import torch
from optimhelpers import RTOL, assert_same_params, loss_striate, loss_torch, train_step, twin_models

import striate as st
from harness import assert_close


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam", "ASGD"])
def test_param_groups_have_torchs_keys_and_values(name):
    s_model, t_model = twin_models(np.float64)
    s_opt = getattr(st.optim, name)(s_model.parameters())
    t_opt = getattr(torch.optim, name)(t_model.parameters())
    for step in range(3):
        train_step(s_model, s_opt, step)
        train_step(t_model, t_opt, step)
    for s_group, t_group in zip(s_opt.state_dict()["param_groups"], t_opt.state_dict()["param_groups"]):
        assert s_group == {k: tuple(v) if k == "betas" else v for k, v in t_group.items()}


@pytest.mark.parametrize("name,kwargs", [("NAdam", {"lr": 0.01}), ("ASGD", {"t0": 3}), ("RAdam", {}),
                                         ("Adamax", {})])
def test_resume_from_file_continues_exactly(name, kwargs, tmp_path):
    straight, _ = twin_models(np.float64)
    opt = getattr(st.optim, name)(straight.parameters(), **kwargs)
    for step in range(20):
        train_step(straight, opt, step)
    first, _ = twin_models(np.float64)
    opt1 = getattr(st.optim, name)(first.parameters(), **kwargs)
    for step in range(10):
        train_step(first, opt1, step)
    st.save({"model": first.state_dict(), "optimizer": opt1.state_dict()}, tmp_path / "ckpt.safetensors")
    resumed, _ = twin_models(np.float64)
    opt2 = getattr(st.optim, name)(resumed.parameters(), **kwargs)
    ckpt = st.load(tmp_path / "ckpt.safetensors")
    resumed.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    for step in range(10, 20):
        train_step(resumed, opt2, step)
    for a, b in zip(straight.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


ALL = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD"]


@pytest.mark.parametrize("name", ALL)
def test_constructor_takes_torchs_parameters_in_torchs_order(name):
    ours = list(inspect.signature(getattr(st.optim, name)).parameters.items())
    theirs = list(inspect.signature(getattr(torch.optim, name)).parameters.items())
    assert [(k, p.kind, p.default) for k, p in ours] == [(k, p.kind, p.default) for k, p in theirs]


@pytest.mark.parametrize("name", ALL)
def test_kernel_switches_are_accepted_and_change_nothing(name):
    params = set(inspect.signature(getattr(torch.optim, name)).parameters)
    switches = {k: v for k, v in {"foreach": True, "fused": False, "capturable": True}.items() if k in params}
    s_model, t_model = twin_models(np.float64)
    s_opt = getattr(st.optim, name)(s_model.parameters(), **switches)
    t_opt = getattr(torch.optim, name)(t_model.parameters())
    for step in range(5):
        train_step(s_model, s_opt, step)
        train_step(t_model, t_opt, step)
    assert_same_params(s_model, t_model, RTOL[np.float64], f"{name} with {switches}")
    for key, value in switches.items():
        assert s_opt.param_groups[0][key] == value


@pytest.mark.parametrize("name", ALL)
def test_differentiable_step_is_refused_clearly(name):
    s_model, _ = twin_models()
    message = r"differentiable=True\) is not supported.*outside the autograd graph"
    with pytest.raises(ValueError, match=message):
        getattr(st.optim, name)(s_model.parameters(), differentiable=True)


def test_argument_errors():
    w = st.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        st.optim.NAdam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid momentum_decay value"):
        st.optim.NAdam([w], momentum_decay=-1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        st.optim.RAdam([w], lr=-1)
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe'"):
        st.optim.LBFGS([w], line_search_fn="armijo")
    with pytest.raises(ValueError, match="parameter groups"):
        st.optim.LBFGS([{"params": [w]}, {"params": [st.zeros(2, requires_grad=True)]}])
    with pytest.raises(TypeError, match="needs a closure"):
        st.optim.LBFGS([w]).step()


# ---------------------------------------------------------------------------- LBFGS
_rng = np.random.default_rng(7)
A, B = _rng.standard_normal((30, 8)), _rng.standard_normal(30)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("history_size", [100, 3])
def test_lbfgs_least_squares_matches_torch(line_search_fn, history_size):
    xs = st.zeros(8, dtype=st.float64, requires_grad=True)
    xt = torch.zeros(8, dtype=torch.float64, requires_grad=True)
    kwargs = {"lr": 0.8, "max_iter": 15, "history_size": history_size, "line_search_fn": line_search_fn}
    s_opt, t_opt = st.optim.LBFGS([xs], **kwargs), torch.optim.LBFGS([xt], **kwargs)
    a_s, b_s, a_t, b_t = st.tensor(A), st.tensor(B), torch.tensor(A), torch.tensor(B)

    def s_closure():
        s_opt.zero_grad()
        loss = ((a_s @ xs - b_s) ** 2).sum()
        loss.backward()
        return loss

    def t_closure():
        t_opt.zero_grad()
        loss = ((a_t @ xt - b_t) ** 2).sum()
        loss.backward()
        return loss

    for step in range(4):
        s_loss, t_loss = s_opt.step(s_closure), t_opt.step(t_closure)
        assert float(s_loss) == pytest.approx(float(t_loss.detach()), rel=1e-12)
        assert_close(xs.numpy(), xt.detach().numpy(), 1e-10, f"x after step {step}")
        assert s_opt.state[xs]["func_evals"] == t_opt.state[xt]["func_evals"]
        assert s_opt.state[xs]["n_iter"] == t_opt.state[xt]["n_iter"]
    # it converges to the least-squares minimum
    best = float(((A @ np.linalg.lstsq(A, B, rcond=None)[0] - B) ** 2).sum())
    assert float(s_closure()) == pytest.approx(best, rel=1e-3)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_small_network_matches_torch(line_search_fn):
    s_model, t_model = twin_models(np.float64)
    kwargs = {"lr": 0.5, "max_iter": 5, "history_size": 5, "line_search_fn": line_search_fn}
    s_opt = st.optim.LBFGS(s_model.parameters(), **kwargs)
    t_opt = torch.optim.LBFGS(t_model.parameters(), **kwargs)

    def s_closure():
        s_opt.zero_grad()
        loss = loss_striate(s_model, 0)
        loss.backward()
        return loss

    def t_closure():
        t_opt.zero_grad()
        loss = loss_torch(t_model, 0)
        loss.backward()
        return loss

    for step in range(10):
        s_loss, t_loss = s_opt.step(s_closure), t_opt.step(t_closure)
        assert float(s_loss) == pytest.approx(float(t_loss.detach()), rel=1e-9)
        assert_same_params(s_model, t_model, 1e-10, f"LBFGS {line_search_fn} step {step}")
    first_s, first_t = next(iter(s_model.parameters())), next(iter(t_model.parameters()))
    assert s_opt.state[first_s]["func_evals"] == t_opt.state[first_t]["func_evals"]
    assert float(s_loss) < 1e-5  # it trained: one batch memorised


def test_lbfgs_resumes_exactly_from_a_file(tmp_path):
    def run(model, opt, steps):
        def closure():
            opt.zero_grad()
            loss = loss_striate(model, 0)
            loss.backward()
            return loss

        for _ in range(steps):
            opt.step(closure)

    straight, _ = twin_models(np.float64)
    run(straight, st.optim.LBFGS(straight.parameters(), max_iter=4, history_size=3), 4)
    first, _ = twin_models(np.float64)
    opt = st.optim.LBFGS(first.parameters(), max_iter=4, history_size=3)
    run(first, opt, 2)
    st.save({"model": first.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "lbfgs.safetensors")
    ckpt = st.load(tmp_path / "lbfgs.safetensors")
    resumed, _ = twin_models(np.float64)
    resumed.load_state_dict(ckpt["model"])
    opt2 = st.optim.LBFGS(resumed.parameters(), max_iter=4, history_size=3)
    opt2.load_state_dict(ckpt["optimizer"])
    run(resumed, opt2, 2)
    for a, b in zip(straight.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())

"""The schedules issue 21 added, against torch.optim.lr_scheduler: LambdaLR, MultiplicativeLR,
LinearLR, ConstantLR, PolynomialLR, CosineAnnealingWarmRestarts (incl. fractional epochs),
CyclicLR, SequentialLR and ChainedScheduler. Learning rates (and cycled momentum / beta1) equal
to torch's exactly at each of 120 steps, `get_last_lr()` too; a state_dict saved halfway
(through st.save/st.load) resumes the same sequence; argument errors."""

import warnings

import pytest
import torch

import striate as st


def _optimizer(lib, name):
    params = [lib.zeros(2, requires_grad=True) for _ in range(2)]
    kwargs = {"momentum": 0.9} if name == "SGD" else {}
    return getattr(lib.optim, name)([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.02}], lr=0.1,
                                    **kwargs)


def _quarter(epoch):  # a module-level function: LambdaLR's state_dict stores None for it
    return 0.95**epoch


CASES = {
    "LambdaLR": lambda L, o: L.LambdaLR(o, _quarter),
    "LambdaLR-per-group": lambda L, o: L.LambdaLR(o, [lambda e: 1 / (1 + e), lambda e: 0.9 ** (e // 3)]),
    "MultiplicativeLR": lambda L, o: L.MultiplicativeLR(o, lambda e: 0.97),
    "LinearLR-warmup": lambda L, o: L.LinearLR(o, start_factor=0.1, total_iters=30),
    "LinearLR-decay": lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=70),
    "LinearLR-default": lambda L, o: L.LinearLR(o),
    "ConstantLR": lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=10),
    "PolynomialLR": lambda L, o: L.PolynomialLR(o, total_iters=80, power=2.0),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=0.001),
    "CosineAnnealingWarmRestarts-T_mult": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2),
    "CyclicLR": lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=10),
    "CyclicLR-triangular2": lambda L, o: L.CyclicLR(o, base_lr=[0.01, 0.001], max_lr=[0.1, 0.05],
                                                    step_size_up=7, step_size_down=13, mode="triangular2"),
    "CyclicLR-exp_range": lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=6,
                                                  mode="exp_range", gamma=0.98),
    "CyclicLR-scale_fn": lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5,
                                                 scale_fn=lambda x: 0.99**x, scale_mode="iterations"),
    "SequentialLR-warmup-cosine": lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=10), L.CosineAnnealingLR(o, T_max=90)],
        milestones=[10]),
    "SequentialLR-three": lambda L, o: L.SequentialLR(
        o, [L.ConstantLR(o, factor=0.5, total_iters=5), L.ExponentialLR(o, gamma=0.9), L.StepLR(o, 10, 0.5)],
        milestones=[8, 40]),
    "ChainedScheduler": lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.1, total_iters=4),
                                                         L.ExponentialLR(o, gamma=0.95)]),
    "ChainedScheduler-restarts": lambda L, o: L.ChainedScheduler(
        [L.LinearLR(o, start_factor=0.5, total_iters=20), L.CosineAnnealingWarmRestarts(o, T_0=9)]),
}


def _settings(optimizer):
    return [(g["lr"], g.get("momentum"), tuple(g["betas"]) if "betas" in g else None)
            for g in optimizer.param_groups]


@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam"])
@pytest.mark.parametrize("case", list(CASES))
def test_sequence_matches_torch(case, optimizer_name):
    s_opt, t_opt = _optimizer(st, optimizer_name), _optimizer(torch, optimizer_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when lr_scheduler.step() precedes optimizer.step()
        s_sched = CASES[case](st.optim.lr_scheduler, s_opt)
        t_sched = CASES[case](torch.optim.lr_scheduler, t_opt)
    for step in range(120):
        assert _settings(s_opt) == _settings(t_opt), f"{case} step {step}"
        assert s_sched.get_last_lr() == t_sched.get_last_lr(), f"{case} get_last_lr at step {step}"
        s_opt.step()
        t_opt.step()
        s_sched.step()
        t_sched.step()


@pytest.mark.parametrize("case", [c for c in CASES if c not in ("LambdaLR-per-group", "MultiplicativeLR",
                                                                  "CyclicLR-scale_fn")])
def test_state_dict_resumes_the_sequence(case, tmp_path):
    straight_opt = _optimizer(st, "SGD")
    straight = CASES[case](st.optim.lr_scheduler, straight_opt)
    expected = []
    for _ in range(60):
        straight_opt.step()
        straight.step()
        expected.append(straight.get_last_lr())
    first_opt = _optimizer(st, "SGD")
    first = CASES[case](st.optim.lr_scheduler, first_opt)
    for _ in range(25):
        first_opt.step()
        first.step()
    st.save({"scheduler": first.state_dict(), "optimizer": first_opt.state_dict()},
            tmp_path / "s.safetensors")
    saved = st.load(tmp_path / "s.safetensors")
    opt = _optimizer(st, "SGD")
    sched = CASES[case](st.optim.lr_scheduler, opt)
    opt.load_state_dict(saved["optimizer"])
    sched.load_state_dict(saved["scheduler"])
    for k in range(25, 60):
        opt.step()
        sched.step()
        assert sched.get_last_lr() == pytest.approx(expected[k], rel=1e-15), f"{case} step {k}"


def test_warm_restarts_with_fractional_epochs_match_torch():
    s_opt, t_opt = _optimizer(st, "SGD"), _optimizer(torch, "SGD")
    s = st.optim.lr_scheduler.CosineAnnealingWarmRestarts(s_opt, T_0=3, T_mult=2, eta_min=0.01)
    t = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(t_opt, T_0=3, T_mult=2, eta_min=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(30):
            for i in range(4):  # scheduler.step(epoch + i / iters), per batch
                s.step(epoch + i / 4)
                t.step(epoch + i / 4)
                assert s.get_last_lr() == t.get_last_lr()
                assert (s.T_cur, s.T_i, s.last_epoch) == (t.T_cur, t.T_i, t.last_epoch)


@pytest.mark.parametrize("name", ["ConstantLR", "LinearLR", "PolynomialLR"])
def test_closed_form_with_explicit_epoch_matches_torch(name):
    s_opt, t_opt = _optimizer(st, "SGD"), _optimizer(torch, "SGD")
    s = getattr(st.optim.lr_scheduler, name)(s_opt, total_iters=12)
    t = getattr(torch.optim.lr_scheduler, name)(t_opt, total_iters=12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in (3, 0, 11, 12, 30, 5):
            s.step(epoch)
            t.step(epoch)
            assert s.get_last_lr() == t.get_last_lr()


L = st.optim.lr_scheduler


@pytest.mark.parametrize("make,error,message", [
    (lambda o: L.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas"),
    (lambda o: L.MultiplicativeLR(o, 0.9), TypeError, "lr_lambda should be a function"),
    (lambda o: L.ConstantLR(o, factor=2.0), ValueError, "factor must be in"),
    (lambda o: L.LinearLR(o, start_factor=0), ValueError, "start_factor must be in"),
    (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "positive integer T_0"),
    (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError, "T_mult >= 1"),
    (lambda o: L.CyclicLR(o, 0.01, 0.1, mode="sine"), ValueError, "mode 'sine' is unknown"),
    (lambda o: L.CyclicLR(o, [0.01], 0.1), ValueError, "base_lr must have the same length"),
    (lambda o: L.SequentialLR(o, [L.StepLR(o, 3)], milestones=[2]), ValueError, "one milestone fewer"),
    (lambda o: L.SequentialLR(o, [L.StepLR(o, 3), L.ReduceLROnPlateau(o)], milestones=[2]), ValueError,
     "does not support `ReduceLROnPlateau`"),
    (lambda o: L.ChainedScheduler([L.StepLR(o, 3), L.StepLR(_optimizer(st, "SGD"), 3)]), ValueError,
     "same optimizer"),
    (lambda o: L.ChainedScheduler([]), ValueError, "at least one scheduler"),
])
def test_argument_errors(make, error, message):
    with pytest.raises(error, match=message):
        make(_optimizer(st, "SGD"))


def test_cyclic_lr_needs_momentum_to_cycle():
    opt = st.optim.Adagrad([st.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        st.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1)
    st.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, cycle_momentum=False)

"""L1, smooth L1, Huber, weighted MSE, BCE, KL divergence and soft margin losses against
PyTorch, forward and backward (harness table, float32 1e-5, float64 + gradcheck), their modules,
and the error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import striate as st
import striate.nn as nn
import striate.nn.functional as F
from harness import OpCase, check_case

ROWS: list[OpCase] = []
REDUCTIONS = ("mean", "sum", "none")


def row(name: str, inputs, s, t, **kw) -> None:
    ROWS.append(OpCase(name=name, inputs=inputs, striate=s, torch=t, **kw))


def pair(shape, scale=1.0, apart=0.0):
    """Input and target; with `apart`, |x - t| stays `apart` away from the kinks at 0 and +-1."""
    def make(rng):
        x, t = scale * rng.standard_normal(shape), scale * rng.standard_normal(shape)
        if apart:
            d = x - t
            for k in (-1.0, 0.0, 1.0):
                x = np.where(np.abs(d - k) < apart, t + k + 2 * apart, x)
        return [x, t]
    return make


SHAPES = [(4, 5), (), (0, 3), (2, 3, 4)]
for _shape in SHAPES:
    for _r in REDUCTIONS:
        k = {"reduction": _r}
        row(f"l1 {_shape} {_r}", pair(_shape, apart=0.02), lambda x, t, k=k: F.l1_loss(x, t, **k),
            lambda x, t, k=k: TF.l1_loss(x, t, **k))
        row(f"smooth_l1 {_shape} {_r}", pair(_shape, 2, 0.02), lambda x, t, k=k: F.smooth_l1_loss(x, t, **k),
            lambda x, t, k=k: TF.smooth_l1_loss(x, t, **k))
        row(f"huber {_shape} {_r}", pair(_shape, 2, 0.02), lambda x, t, k=k: F.huber_loss(x, t, **k),
            lambda x, t, k=k: TF.huber_loss(x, t, **k))
row("smooth_l1 beta 0.5", pair((3, 7), 1, 0.02), lambda x, t: F.smooth_l1_loss(x, t, beta=0.5),
    lambda x, t: TF.smooth_l1_loss(x, t, beta=0.5))
row("smooth_l1 beta 0 (L1)", pair((3, 7), 1, 0.02), lambda x, t: F.smooth_l1_loss(x, t, beta=0.0),
    lambda x, t: TF.smooth_l1_loss(x, t, beta=0.0))
row("huber delta 2.5", pair((3, 7), 3, 0.02), lambda x, t: F.huber_loss(x, t, delta=2.5),
    lambda x, t: TF.huber_loss(x, t, delta=2.5))
row("smooth_l1 legacy size_average=False", pair((3, 4), 2, 0.02),
    lambda x, t: F.smooth_l1_loss(x, t, size_average=False),
    lambda x, t: TF.smooth_l1_loss(x, t, reduction="sum"))


def weighted(shape, scale=1.0):
    return lambda rng: pair(shape, scale, 0.02)(rng) + [rng.uniform(0.1, 2.0, shape)]


for _r in REDUCTIONS:
    k = {"reduction": _r}
    for _f, _tf in ((F.mse_loss, TF.mse_loss), (F.l1_loss, TF.l1_loss), (F.huber_loss, TF.huber_loss)):
        row(f"{_f.__name__} weighted {_r}", weighted((3, 5), 2),
            lambda x, t, w, f=_f, k=k: f(x, t, weight=w, **k),
            lambda x, t, w, f=_tf, k=k: f(x, t, weight=w, **k))


def probabilities(shape, with_weight=False):
    def make(rng):
        x = 1 / (1 + np.exp(-2 * rng.standard_normal(shape)))
        out = [x, rng.uniform(0, 1, shape)]
        if with_weight:
            out.append(rng.uniform(0.5, 2, shape[-1:]))
        return out
    return make


for _shape in SHAPES:
    for _r in REDUCTIONS:
        k = {"reduction": _r}
        row(f"bce {_shape} {_r}", probabilities(_shape), lambda x, t, k=k: F.binary_cross_entropy(x, t, **k),
            lambda x, t, k=k: TF.binary_cross_entropy(x, t, **k))
row("bce weight broadcast", probabilities((4, 3), True),
    lambda x, t, w: F.binary_cross_entropy(x, t, weight=w),
    lambda x, t, w: TF.binary_cross_entropy(x, t, weight=w),
    grad=(0, 1))
row("bce hard 0/1 targets", lambda rng: [probabilities((6, 2))(rng)[0], rng.integers(0, 2, (6, 2)) * 1.0],
    F.binary_cross_entropy, TF.binary_cross_entropy)
row("bce log clamp at -100 (x = 0 and 1)",
    lambda rng: [np.array([0.0, 1.0, 0.3, 1.0]), np.array([0.2, 0.7, 0.5, 1.0])],
    lambda x, t: F.binary_cross_entropy(x, t, reduction="none"),
    lambda x, t: TF.binary_cross_entropy(x, t, reduction="none"), grad=(0,), gradcheck=False)


def log_probs(shape, log_target=False, zeros=False):
    def make(rng):
        x = TF.log_softmax(torch.tensor(rng.standard_normal(shape)), -1).numpy()
        t = TF.softmax(torch.tensor(rng.standard_normal(shape)), -1).numpy()
        if zeros:
            t = np.where(rng.uniform(size=shape) < 0.3, 0.0, t)
        return [x, np.log(t) if log_target else t]
    return make


for _shape in [(4, 5), (2, 3, 4), (0, 3)]:
    for _r in ("batchmean", "sum", "none", "mean"):
        for _lt in (False, True):
            k = {"reduction": _r, "log_target": _lt}
            row(f"kl_div {_shape} {_r} log_target={_lt}", log_probs(_shape, _lt),
                lambda x, t, k=k: F.kl_div(x, t, **k), lambda x, t, k=k: TF.kl_div(x, t, **k))
row("kl_div zero targets (input grad)", log_probs((4, 6), zeros=True),
    lambda x, t: F.kl_div(x, t, reduction="batchmean"), lambda x, t: TF.kl_div(x, t, reduction="batchmean"),
    grad=(0,))


def margins(shape):
    return lambda rng: [3 * rng.standard_normal(shape), rng.choice([-1.0, 1.0], shape)]


for _shape in SHAPES:
    for _r in REDUCTIONS:
        k = {"reduction": _r}
        row(f"soft_margin {_shape} {_r}", margins(_shape), lambda x, t, k=k: F.soft_margin_loss(x, t, **k),
            lambda x, t, k=k: TF.soft_margin_loss(x, t, **k), grad=(0,))


def ranked(shape):
    return lambda rng: [rng.standard_normal(shape), rng.standard_normal(shape),
                        rng.choice([-1.0, 1.0], shape)]


def embedded(n, d):
    return lambda rng: [rng.standard_normal((n, d)), rng.standard_normal((n, d)), rng.choice([-1.0, 1.0], n)]


for _r in REDUCTIONS:
    for _m in (0.0, 0.3):
        k = {"reduction": _r, "margin": _m}
        row(f"margin_ranking {_r} margin={_m}", ranked((7,)),
            lambda a, b, y, k=k: F.margin_ranking_loss(a, b, y, **k),
            lambda a, b, y, k=k: TF.margin_ranking_loss(a, b, y, **k), grad=(0, 1))
        row(f"cosine_embedding {_r} margin={_m}", embedded(6, 4),
            lambda a, b, y, k=k: F.cosine_embedding_loss(a, b, y, **k),
            lambda a, b, y, k=k: TF.cosine_embedding_loss(a, b, y, **k), grad=(0, 1))
row("cosine_embedding 1-D", lambda rng: [rng.standard_normal(5), rng.standard_normal(5), np.array(1.0)],
    F.cosine_embedding_loss, TF.cosine_embedding_loss, grad=(0, 1))


@pytest.mark.parametrize("case", ROWS, ids=str)
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
def test_parity(case: OpCase) -> None:
    check_case(case)


def test_kl_div_target_gradient_is_nan_at_zero_as_torch() -> None:
    x, t = log_probs((3, 4), zeros=True)(np.random.default_rng(2))
    xs, ts = st.tensor(x, requires_grad=True), st.tensor(t, requires_grad=True)
    xt, tt = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    F.kl_div(xs, ts, reduction="sum").backward()
    TF.kl_div(xt, tt, reduction="sum").backward()
    np.testing.assert_array_equal(np.isnan(ts.grad.numpy()), np.isnan(tt.grad.numpy()))
    np.testing.assert_allclose(ts.grad.numpy(), tt.grad.numpy(), rtol=1e-12)


def test_kl_div_mean_warns_like_torch_and_batchmean_does_not() -> None:
    x, t = st.zeros(2, 3), st.full((2, 3), 1 / 3)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(x, t, reduction="batchmean")
        nn.KLDivLoss(reduction="batchmean")(x, t)


def test_modules_match_torch_modules() -> None:
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((4, 5)).astype(np.float32), rng.standard_normal((4, 5)).astype(np.float32)
    p, y = 1 / (1 + np.exp(-x)), rng.uniform(0, 1, (4, 5)).astype(np.float32)
    w = rng.uniform(0.5, 2, (5,)).astype(np.float32)
    cases = [
        (nn.L1Loss(), tnn.L1Loss(), x, t), (nn.L1Loss(reduction="sum"), tnn.L1Loss(reduction="sum"), x, t),
        (nn.SmoothL1Loss(beta=0.3), tnn.SmoothL1Loss(beta=0.3), x, t),
        (nn.HuberLoss(delta=0.7), tnn.HuberLoss(delta=0.7), x, t),
        (nn.BCELoss(), tnn.BCELoss(), p, y),
        (nn.BCELoss(weight=st.tensor(w)), tnn.BCELoss(torch.tensor(w)), p, y),
        (nn.KLDivLoss(reduction="batchmean", log_target=True),
         tnn.KLDivLoss(reduction="batchmean", log_target=True), x, t),
        (nn.SoftMarginLoss(), tnn.SoftMarginLoss(), x, np.sign(t)),
        (nn.L1Loss(size_average=False), tnn.L1Loss(reduction="sum"), x, t),
    ]
    y = np.sign(t[:, 0])
    for ours, theirs in [(nn.MarginRankingLoss(0.2), tnn.MarginRankingLoss(0.2)),
                         (nn.CosineEmbeddingLoss(0.1, reduction="sum"),
                          tnn.CosineEmbeddingLoss(0.1, reduction="sum"))]:
        a, b = (x[:, 0], t[:, 1]) if type(ours) is nn.MarginRankingLoss else (x, t)
        expect = theirs(torch.tensor(a), torch.tensor(b), torch.tensor(y)).numpy()
        np.testing.assert_allclose(ours(st.tensor(a), st.tensor(b), st.tensor(y)).numpy(), expect, rtol=1e-5)
    for ours, theirs, a, b in cases:
        xs, xt = st.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        ls, lt = ours(xs, st.tensor(b)), theirs(xt, torch.tensor(b))
        np.testing.assert_allclose(ls.numpy(), lt.detach().numpy(), rtol=1e-5, err_msg=repr(ours))
        ls.sum().backward()
        lt.sum().backward()
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-7, err_msg=repr(ours))
        assert ours.reduction == theirs.reduction
    assert "weight" in dict(nn.BCELoss(weight=st.tensor(w)).named_buffers())
    assert F.l1_loss(st.zeros(2, requires_grad=True), st.ones(2)).grad_fn.name() == "L1LossBackward0"


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.l1_loss(st.zeros(2, 3), st.zeros(3)), ValueError, "target shape"),
    (lambda: F.huber_loss(st.zeros(2), st.zeros(2), delta=0), ValueError, "delta must be positive"),
    (lambda: F.smooth_l1_loss(st.zeros(2), st.zeros(2), beta=-1), ValueError, "beta"),
    (lambda: F.l1_loss(st.zeros(2), st.zeros(2), reduction="avg"), ValueError, "reduction"),
    (lambda: F.mse_loss(st.zeros(2), st.zeros(2), weight=st.ones(3)), ValueError, "weight shape"),
    (lambda: F.binary_cross_entropy(st.tensor([0.5, 1.5]), st.zeros(2)), ValueError, "between 0 and 1"),
    (lambda: F.binary_cross_entropy(st.zeros(2), st.zeros(2), weight=st.ones(3)), ValueError, "broadcast"),
    (lambda: F.kl_div(st.zeros(2), st.zeros(2), reduction="avg"), ValueError, "batchmean"),
    (lambda: F.soft_margin_loss(st.zeros(2), st.zeros(2, requires_grad=True)), RuntimeError, "detach"),
    (lambda: F.l1_loss(st.tensor([1, 2]), st.tensor([1, 2])), TypeError, "floating point"),
])
def test_bad_arguments_name_the_problem(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()

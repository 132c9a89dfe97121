"""F.ctc_loss / nn.CTCLoss against torch.nn.functional.ctc_loss: losses and gradients with
respect to log_probs (PyTorch's exp(y) - gamma convention) and to the logits under log_softmax,
float32 1e-5 and float64 1e-10, plus finite differences through log_softmax in float64."""

from dataclasses import dataclass

import numpy as np
import pytest
import torch

import striate as st
import striate.nn as nn
import striate.nn.functional as F
from harness import assert_close


@dataclass
class CTCCase:
    name: str
    T: int
    C: int
    input_lengths: list
    targets: list  # one label list per sample
    blank: int = 0
    concatenated: bool = False
    unbatched: bool = False

    def __str__(self):
        return self.name


CASES = [
    CTCCase("equal_lengths", 12, 5, [12, 12, 12], [[1, 2, 3], [4, 4, 1], [2, 1, 2]]),
    CTCCase("unequal_padded", 15, 6, [15, 9, 4, 11], [[1, 2, 3, 4], [5], [2, 2], [3, 1, 3, 1, 3]]),
    CTCCase("concatenated_1d", 10, 4, [10, 7, 8], [[1, 2], [3, 3, 3], [1]], concatenated=True),
    CTCCase("empty_target", 6, 3, [6, 4], [[], [1, 2]]),
    CTCCase("blank_last", 9, 5, [9, 6], [[0, 1, 2], [3, 0]], blank=4),
    CTCCase("impossible_repeats", 5, 4, [5, 4], [[1, 1, 1], [2, 2, 3]]),  # needs 5 and 3 frames
    CTCCase("impossible_too_long", 4, 6, [4, 3, 2], [[1, 2, 3, 4, 5], [1, 2], [3]]),
    CTCCase("exact_fit", 5, 4, [5], [[1, 1, 2]]),
    CTCCase("unbatched", 8, 5, [8], [[1, 3, 3]], unbatched=True),
    CTCCase("long", 60, 10, [60, 50, 33], [list(range(1, 10)) * 2, [3] * 12, [5, 6, 7, 8]]),
]


def _inputs(case, rng):
    N = len(case.targets)
    logits = rng.standard_normal((case.T, N, case.C)) * 2
    lengths = [len(t) for t in case.targets]
    if case.concatenated:
        targets = np.array([c for t in case.targets for c in t], np.int64)
    else:
        targets = np.zeros((N, max(max(lengths), 1)), np.int64)
        for n, t in enumerate(case.targets):
            targets[n, :len(t)] = t
            targets[n, len(t):] = (case.blank + 1) % case.C  # padding is ignored
    return logits, targets, np.array(case.input_lengths), np.array(lengths)


def _both(case, dtype, reduction, zero_infinity, through_softmax):
    rng = np.random.default_rng(0)
    logits, targets, il, tl = _inputs(case, rng)
    logits = logits.astype(dtype)
    if case.unbatched:
        logits, targets, il, tl = logits[:, 0], targets[0], il[0], tl[0]
    if not through_softmax:  # both get the same normalized log-probabilities as leaves
        logits = torch.tensor(logits).log_softmax(-1).numpy()
    results = []
    for lib in ("striate", "torch"):
        if lib == "striate":
            leaf = st.from_numpy(logits.copy()).requires_grad_(True)
            lp = F.log_softmax(leaf, dim=-1) if through_softmax else leaf
            loss = F.ctc_loss(lp, st.tensor(targets), st.tensor(il), st.tensor(tl), case.blank, reduction,
                              zero_infinity)
        else:
            leaf = torch.tensor(logits).requires_grad_(True)
            lp = leaf.log_softmax(-1) if through_softmax else leaf
            loss = torch.nn.functional.ctc_loss(lp, torch.tensor(targets), torch.tensor(il), torch.tensor(tl),
                                                case.blank, reduction, zero_infinity)
        w = np.linspace(0.5, 1.5, loss.numel()).reshape(tuple(loss.shape)).astype(dtype)
        (loss * (st.from_numpy(w) if lib == "striate" else torch.from_numpy(w))).sum().backward()
        results.append((loss.detach().numpy() if lib == "torch" else loss.numpy(), leaf.grad.numpy()))
    return results


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_ctc_matches_torch(case, reduction, dtype):
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    if case.name == "long" and dtype == np.float32:
        rtol = 1e-4  # torch's float32 recursion drifts 1.4e-5 from the exact value; see the next test
    impossible = case.name.startswith("impossible")
    for zero_infinity in ([False, True] if impossible else [False]):
        for through_softmax in (False, True):
            (ls, gs), (lt, gt) = _both(case, dtype, reduction, zero_infinity, through_softmax)
            what = f"{case.name} {reduction} zero_inf={zero_infinity} softmax={through_softmax}"
            assert ls.dtype == lt.dtype
            assert_close(ls, lt, rtol, f"{what} loss")
            assert_close(gs, gt, rtol, f"{what} grad")


def test_float32_long_sequence_is_closer_to_exact_than_torch():
    """striate runs the recursions in float64: on T=60 its float32 gradient is within 1e-6 of
    the float64 result on the same inputs, where torch's float32 recursion is 1.4e-5 off."""
    case = CASES[-1]
    (_, gs), (_, gt) = _both(case, np.float32, "sum", False, False)
    logits, targets, il, tl = _inputs(case, np.random.default_rng(0))
    lp = torch.tensor(logits.astype(np.float32)).log_softmax(-1).double().requires_grad_(True)
    loss = torch.nn.functional.ctc_loss(lp, torch.tensor(targets), torch.tensor(il), torch.tensor(tl),
                                        reduction="sum")
    (0.5 * loss).backward()  # _both weights a single loss by linspace(0.5, 1.5, 1) = 0.5
    exact = lp.grad.numpy()
    assert np.abs(gs - exact).max() < 1e-6 < np.abs(gt - exact).max()


def test_impossible_alignment_is_inf_or_zero():
    lp = st.from_numpy(np.log(np.full((3, 1, 4), 0.25)))
    assert np.isinf(F.ctc_loss(lp, [[1, 1, 1]], [3], [3], reduction="sum").item())
    assert F.ctc_loss(lp, [[1, 1, 1]], [3], [3], reduction="sum", zero_infinity=True).item() == 0


@pytest.mark.parametrize("case", [CASES[1], CASES[2], CASES[4]], ids=str)
def test_gradcheck_through_log_softmax_float64(case):
    rng = np.random.default_rng(5)
    logits, targets, il, tl = _inputs(case, rng)
    x = st.from_numpy(logits[:8, :, :]).requires_grad_(True)
    il = np.minimum(il, 8)

    def f(z):
        return F.ctc_loss(F.log_softmax(z, dim=-1), targets, il, tl, case.blank, "none", zero_infinity=True)

    assert st.autograd.gradcheck(f, [x], eps=1e-6, atol=1e-6, rtol=1e-4)


def test_module_and_errors():
    m = nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    lp = F.log_softmax(st.randn(6, 2, 4), dim=-1)
    assert m(lp, [[1, 2], [3, 0]], [6, 6], [2, 1]).shape == ()
    with pytest.raises(ValueError, match="other than blank"):
        F.ctc_loss(lp, [[1, 0], [3, 0]], [6, 6], [2, 1])
    with pytest.raises(ValueError, match="input_lengths"):
        F.ctc_loss(lp, [[1, 2], [3, 1]], [7, 6], [2, 1])
    with pytest.raises(ValueError, match="concatenated"):
        F.ctc_loss(lp, [1, 2, 3], [6, 6], [2, 2])
    with pytest.raises(TypeError, match="integers"):
        F.ctc_loss(lp, [[1.0, 2.0], [3.0, 1.0]], [6, 6], [2, 1])


@pytest.mark.parametrize("case", [c for c in CASES if not c.unbatched], ids=str)
def test_numba_recursions_equal_numpy_twin(case):
    from striate.kernels.ctc_compiled import ctc_recursions
    from striate.ops.ctc import _extended_labels, recursions_numpy

    logits, targets, il, tl = _inputs(case, np.random.default_rng(7))
    lp = torch.tensor(logits).log_softmax(-1).numpy()
    if targets.ndim == 1:
        padded = np.zeros((len(tl), max(tl)), np.int64)
        offsets = np.concatenate([[0], np.cumsum(tl)])
        for n in range(len(tl)):
            padded[n, :tl[n]] = targets[offsets[n]:offsets[n + 1]]
        targets = padded
    ext, skip = _extended_labels(targets, tl, case.blank)
    index = np.broadcast_to(ext[None], lp.shape[:2] + ext.shape[1:])
    y = np.ascontiguousarray(np.take_along_axis(lp, index, 2))
    end = 2 * tl + 1
    for a, b in zip(recursions_numpy(y, skip, il, end), ctc_recursions(y, skip, il, end)):
        assert np.array_equal(np.isinf(a), np.isinf(b))
        np.testing.assert_allclose(a[np.isfinite(a)], b[np.isfinite(b)], rtol=1e-12)


def test_numpy_kernels_give_the_same_loss_and_gradient():
    case = CASES[1]
    with st.config.use_kernels("numpy"):
        (ls_np, gs_np), _ = _both(case, np.float64, "mean", False, True)
    (ls, gs), _ = _both(case, np.float64, "mean", False, True)
    np.testing.assert_allclose(ls_np, ls, rtol=1e-12)
    np.testing.assert_allclose(gs_np, gs, rtol=1e-10, atol=1e-14)

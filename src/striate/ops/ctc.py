"""Connectionist temporal classification (Graves et al. 2006): the loss of a label sequence l
given per-frame class log-probabilities, summed over every alignment (path) that collapses to l.

The extended label sequence l' puts a blank around and between the labels (length S = 2L + 1).
In log space, with y_t(k) = log_probs[t, k] and lse = log-sum-exp:

    alpha_0(0) = y_0(blank),  alpha_0(1) = y_0(l'_1)
    alpha_t(s) = y_t(l'_s) + lse(alpha_{t-1}(s), alpha_{t-1}(s-1), [alpha_{t-1}(s-2)])
    beta_{T-1}(S-1) = y_{T-1}(blank),  beta_{T-1}(S-2) = y_{T-1}(l'_{S-2})
    beta_t(s)  = y_t(l'_s) + lse(beta_{t+1}(s), beta_{t+1}(s+1), [beta_{t+1}(s+2)])
    loss = -log p(l|x) = -lse(alpha_{T-1}(S-1), alpha_{T-1}(S-2))

where the bracketed skip is allowed when l'_s is a label different from l'_{s-2}. The occupancy
gamma_t(k) = sum_{s: l'_s = k} exp(alpha_t(s) + beta_t(s) - y_t(k) + loss) (the posterior that
frame t emits k) gives the gradient. striate returns PyTorch's gradient exactly:

    dL/dy_t(k) = exp(y_t(k)) - gamma_t(k)       (frames t < input_length; 0 after)

which is the derivative with respect to the logits z when y = log_softmax(z) (PyTorch folds the
softmax term in; through log_softmax's backward it equals the true -gamma, since sum_k of it is
0). So feed `ctc_loss` log_softmax outputs, as PyTorch documents. Recursions run over time with
the batch and all S positions vectorized, in float64 whatever the input dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate import config
from striate.autograd.function import Function
from striate.autograd.tensor import Tensor

_NEG_INF = -np.inf


def _lse(*terms: np.ndarray) -> np.ndarray:
    """Elementwise log(sum(exp(terms))) that is -inf (not nan) where every term is -inf."""
    m = np.maximum.reduce(terms)
    shift = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return shift + np.log(sum(np.exp(t - shift) for t in terms))


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """a moved k places along the last axis (towards higher s for k > 0), -inf filled."""
    out = np.full_like(a, _NEG_INF)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


def _extended_labels(targets: np.ndarray, target_lengths: np.ndarray, blank: int) -> tuple[np.ndarray, ...]:
    """l' (N, S) padded with blanks, and where the skip from s-2 is allowed."""
    N, L = targets.shape
    ext = np.full((N, 2 * L + 1), blank, np.int64)
    ext[:, 1::2] = targets
    ext[:, 1::2][np.arange(L)[None, :] >= target_lengths[:, None]] = blank
    skip = np.zeros(ext.shape, bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return ext, skip


def ctc_alpha_beta(lp: np.ndarray, ext: np.ndarray, skip: np.ndarray, input_lengths: np.ndarray,
                   target_lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """log alpha, log beta (T, N, S), y_t(l'_s) (T, N, S) and the negative log-likelihoods (N,).

    The recursions run in the Numba kernel `kernels/ctc_compiled.py` (per sample, per frame, per
    position: measured 1.4 s -> ~0.1 s at T 500, N 32, S 81), or in their NumPy twin
    `recursions_numpy` (vectorized over the batch and S, a Python loop over frames) under
    `st.config.set_kernels("numpy")`; tests compare the two.
    """
    T, N, _ = lp.shape
    S = ext.shape[1]
    rows = np.arange(N)
    y = np.ascontiguousarray(np.take_along_axis(lp, np.broadcast_to(ext[None], (T, N, S)), axis=2))
    end = 2 * target_lengths + 1  # S_n
    if config._state["kernels"] == "numpy":
        alpha, beta = recursions_numpy(y, skip, input_lengths, end)
    else:
        from striate.kernels.ctc_compiled import ctc_recursions

        alpha, beta = ctc_recursions(y, skip, input_lengths, end)
    last_t = np.maximum(input_lengths - 1, 0)
    final = alpha[last_t, rows]
    nll = -_lse(final[rows, end - 1], np.where(end > 1, final[rows, np.maximum(end - 2, 0)], _NEG_INF))
    nll[input_lengths == 0] = np.where(target_lengths[input_lengths == 0] == 0, 0.0, np.inf)
    return alpha, beta, y, nll


def recursions_numpy(y: np.ndarray, skip: np.ndarray, input_lengths: np.ndarray,
                     end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log alpha and log beta (T, N, S) from y_t(l'_s); the NumPy twin of the Numba kernel."""
    T, N, S = y.shape
    rows = np.arange(N)
    skip_ok = np.where(skip, 0.0, _NEG_INF)
    alpha = np.full((T, N, S), _NEG_INF)
    if T:
        alpha[0, :, 0] = y[0, :, 0]
        alpha[0, :, 1:2] = np.where(end[:, None] > 1, y[0, :, 1:2], _NEG_INF)
    for t in range(1, T):
        a = alpha[t - 1]
        alpha[t] = y[t] + _lse(a, _shift(a, 1), _shift(a, 2) + skip_ok)
    beta = np.full((T, N, S), _NEG_INF)
    skip_next = _shift(skip_ok, -2)  # allowed to jump from s to s + 2
    start = np.full((N, S), _NEG_INF)
    start[rows, end - 1] = 0.0
    start[rows, np.maximum(end - 2, 0)] = 0.0
    for t in range(T - 1, -1, -1):
        if t + 1 < T:
            b = beta[t + 1]
            step = _lse(b, _shift(b, -1), _shift(b, -2) + skip_next)
        else:
            step = np.full((N, S), _NEG_INF)
        here = (t == input_lengths - 1)[:, None]
        inside = (t < input_lengths - 1)[:, None]
        beta[t] = np.where(here, start + y[t], np.where(inside, step + y[t], _NEG_INF))
    return alpha, beta


class CTCLoss(Function):
    """The per-sample losses -log p(l_n | x_n), reduced; backward: exp(y) - gamma (see module)."""

    def forward(self, log_probs, *, targets, input_lengths, target_lengths, blank, reduction, zero_infinity):
        lp = log_probs.astype(np.float64)
        ext, skip = _extended_labels(targets, target_lengths, blank)
        alpha, beta, y, nll = ctc_alpha_beta(lp, ext, skip, input_lengths, target_lengths)
        infinite = np.isinf(nll)
        losses = np.where(infinite, 0.0, nll) if zero_infinity else nll
        if self.needs_input_grad is not None:
            self.saved = (lp, ext, alpha, beta, y, nll, infinite, input_lengths)
            self.options = (reduction, zero_infinity, target_lengths, log_probs.dtype)
        if reduction == "none":
            return losses.astype(log_probs.dtype)
        if reduction == "sum":
            return np.asarray(losses.sum(), log_probs.dtype)
        return np.asarray((losses / np.maximum(target_lengths, 1)).mean(), log_probs.dtype)

    def backward(self, g):
        lp, ext, alpha, beta, y, nll, infinite, input_lengths = self.saved
        reduction, zero_infinity, target_lengths, dtype = self.options
        T, N, C = lp.shape
        with np.errstate(invalid="ignore", over="ignore"):
            occupancy = np.exp(alpha + beta - y + nll[None, :, None])  # gamma per (t, n, s)
        # blanks sit at the even positions; the labels' occupancies go to their classes through
        # one (T, L) x (L, C) product per sample with the one-hot rows of the labels
        onehot = np.zeros((N, ext.shape[1] // 2, C))
        np.put_along_axis(onehot, ext[:, 1::2, None], 1.0, axis=2)
        labels_occ = np.ascontiguousarray(occupancy[:, :, 1::2].transpose(1, 0, 2))  # BLAS needs it
        gamma = np.matmul(labels_occ, onehot).transpose(1, 0, 2)
        gamma[:, :, ext[0, 0] if ext.size else 0] += occupancy[:, :, 0::2].sum(axis=2)
        with np.errstate(invalid="ignore"):
            grad = np.exp(lp) - gamma
        grad[np.arange(T)[:, None] >= input_lengths[None, :]] = 0.0
        if zero_infinity:
            grad[:, infinite] = 0.0
        g = np.asarray(g, np.float64)
        if reduction == "none":
            scale = g
        elif reduction == "sum":
            scale = np.full(N, float(g))
        else:
            scale = float(g) / (N * np.maximum(target_lengths, 1))
        return ((grad * scale[None, :, None]).astype(dtype),)


def _int_array(value: Any, name: str) -> np.ndarray:
    a = value._data if isinstance(value, Tensor) else np.asarray(value)
    if a.dtype.kind not in "iu":
        raise TypeError(f"ctc_loss: {name} must hold integers, got dtype {a.dtype}")
    return a.astype(np.int64)


def _padded_targets(targets: np.ndarray, target_lengths: np.ndarray, N: int) -> np.ndarray:
    """(N, L) targets from the padded 2-D or the concatenated 1-D form."""
    if targets.ndim == 2:
        if targets.shape[0] != N or (N and target_lengths.max(initial=0) > targets.shape[1]):
            raise ValueError(f"ctc_loss: padded targets of shape {targets.shape} do not fit batch {N} with "
                             f"target_lengths up to {target_lengths.max(initial=0)}")
        return targets
    if targets.ndim != 1 or targets.shape[0] != target_lengths.sum():
        raise ValueError(f"ctc_loss: targets must be (N, S) padded or 1-D concatenated of length "
                         f"sum(target_lengths) = {target_lengths.sum()}; got shape {targets.shape}")
    out = np.zeros((N, int(target_lengths.max(initial=0))), np.int64)
    offsets = np.concatenate([[0], np.cumsum(target_lengths)])
    for n in range(N):
        out[n, :target_lengths[n]] = targets[offsets[n]:offsets[n + 1]]
    return out


def ctc_loss(log_probs: Tensor, targets: Any, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """CTC loss of log_probs (T, N, C) (log_softmax outputs; (T, C) unbatched) against targets
    ((N, S) padded, or 1-D concatenated), like `torch.nn.functional.ctc_loss`.

    reduction 'mean' divides each sample's loss by its target length (at least 1), then averages
    over the batch; 'sum' adds; 'none' returns (N,). zero_infinity=True turns the infinite loss of
    an impossible alignment (input too short for the target) and its gradient into 0.
    """
    if not isinstance(log_probs, Tensor) or log_probs.ndim not in (2, 3) or log_probs.dtype.kind != "f":
        raise ValueError("ctc_loss: log_probs must be a float Tensor of shape (T, N, C) or (T, C)")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"ctc_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    unbatched = log_probs.ndim == 2
    x = log_probs.unsqueeze(1) if unbatched else log_probs
    T, N, C = x.shape
    tgt = _int_array(targets, "targets")
    il = _int_array(input_lengths, "input_lengths").reshape(-1)
    tl = _int_array(target_lengths, "target_lengths").reshape(-1)
    if unbatched and tgt.ndim == 1:
        tgt = tgt[None, :]
    if il.shape != (N,) or tl.shape != (N,):
        raise ValueError(f"ctc_loss: input_lengths and target_lengths need one entry per sample ({N}), "
                         f"got {il.shape[0]} and {tl.shape[0]}")
    if (il < 0).any() or (il > T).any() or (tl < 0).any():
        raise ValueError(f"ctc_loss: input_lengths must lie in [0, T={T}] and target_lengths be non-negative;"
                         f" got input_lengths {il.tolist()}, target_lengths {tl.tolist()}")
    if not 0 <= blank < C:
        raise ValueError(f"ctc_loss: blank={blank} is not a class index (C={C})")
    tgt = _padded_targets(tgt, tl, N)
    used = tgt[np.arange(tgt.shape[1])[None, :] < tl[:, None]]
    if used.size and (used.min() < 0 or used.max() >= C or (used == blank).any()):
        raise ValueError(f"ctc_loss: target labels must be classes in [0, {C}) other than blank={blank}")
    loss = CTCLoss.apply(x, targets=tgt, input_lengths=il, target_lengths=tl, blank=int(blank),
                         reduction=reduction, zero_infinity=bool(zero_infinity))
    return loss.squeeze(0) if unbatched and reduction == "none" else loss

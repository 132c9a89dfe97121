"""Losses, fused so that each is one node with a closed-form gradient.

Softmax + cross-entropy: with p = softmax(z) and a one-hot target t, L = -log p_y and
dL/dz = p - t, the most famous local gradient of the course.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.activation import log_softmax_array, stable_sigmoid

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss: np.ndarray, reduction: str, denom: Any) -> np.ndarray:
    """The per-sample losses, their sum, or their sum / denom (nan when denom is 0, as PyTorch:
    e.g. every target ignored)."""
    if reduction == "none":
        return loss
    total = loss.sum(dtype=loss.dtype)
    if reduction == "sum":
        return np.asarray(total, dtype=loss.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / denom, dtype=loss.dtype)


def _reduced_grad(g: np.ndarray, reduction: str, denom: Any, shape) -> np.ndarray:
    """dL/dloss_i for each sample: g itself (none), g (sum) or g / denom (mean).

    A mean over nothing (denom 0: every target ignored) passes no gradient, as in PyTorch.
    """
    if reduction == "none":
        return g.reshape(shape)
    if reduction == "mean":
        g = g / denom if denom else np.zeros_like(g)
    return np.broadcast_to(g, shape)


def _pick(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
    """rows[i, y[i]] for each row; zeros when there are no classes (every row then is ignored:
    any other target fails the class check first)."""
    if rows.shape[1] == 0:
        return np.zeros(rows.shape[0], rows.dtype)
    return rows[np.arange(rows.shape[0]), y]


def _classes_last(x: np.ndarray) -> np.ndarray:
    """(N, C, d1, ...) -> (N*d1*..., C): the class axis last, one row per prediction."""
    if x.ndim == 1:
        return x[None, :]
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _classes_back(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if len(shape) <= 2:
        return rows.reshape(shape)
    moved = (shape[0],) + shape[2:] + (shape[1],)
    return np.moveaxis(rows.reshape(moved), -1, 1)


class CrossEntropy(Function):
    """Cross-entropy of logits z against class indices y, with optional class weights w,
    label smoothing e and an ignored class:

        loss_i = (1 - e) w_y (-log p_iy) + (e / C) sum_c w_c (-log p_ic)
        dloss_i/dz_i = (1 - e) w_y (p_i - onehot(y)) + (e / C) (p_i sum_c w_c - w)
    """

    def forward(self, z, target, weight, ignore_index, reduction, smoothing):
        shape = z.shape
        rows = _classes_last(z)
        y = target.reshape(-1)
        n, c = rows.shape
        if weight is None:
            weight = np.ones(c, rows.dtype)
        keep = y != ignore_index
        y_safe = np.where(keep, y, 0)
        logp = log_softmax_array(rows, 1)
        w_y = _pick(np.broadcast_to(weight, (n, c)), y_safe) * keep
        picked = _pick(logp, y_safe)
        loss = (1 - smoothing) * w_y * -picked
        if smoothing and c:
            loss = loss + (smoothing / c) * -(logp * weight).sum(axis=1)
        loss = np.where(keep, loss, 0)  # an ignored row counts 0, even when its logits are NaN
        loss = loss.astype(rows.dtype, copy=False)
        denom = w_y.sum()
        self.saved = (logp, y_safe, keep, weight, w_y, shape, reduction, smoothing, denom)
        out_shape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
        return _reduce(loss.reshape(out_shape), reduction, denom)

    def backward(self, g):
        logp, y, keep, weight, w_y, shape, reduction, smoothing, denom = self.saved
        n, c = logp.shape
        with np.errstate(under="ignore"):
            p = np.exp(logp)
        grad = p * w_y[:, None]
        if c:
            grad[np.arange(n), y] -= w_y
        grad *= 1 - smoothing
        if smoothing and c:
            grad += (smoothing / c) * (p * weight.sum() - weight) * keep[:, None]
        gi = _reduced_grad(g, reduction, denom, (n,))
        grad *= gi.reshape(n, 1)
        return (_classes_back(grad.astype(logp.dtype, copy=False), shape), None)


class SoftTargetCrossEntropy(Function):
    """Cross-entropy against class probabilities t (smoothed: t' = (1 - e) t + e / C):

        loss_i = -sum_c w_c t'_ic log p_ic
        dloss_i/dz_i = p_i sum_c w_c t'_ic - w t'_i,   dloss_i/dt_ic = -(1 - e) w_c log p_ic

    The mean divides by the number of predictions N * d1 * ... (not by the weights), as PyTorch.
    """

    def forward(self, z, t, weight, reduction, smoothing):
        shape = z.shape
        rows, trow = _classes_last(z), _classes_last(t)
        c = rows.shape[1]
        if smoothing and c:
            trow = trow * (1 - smoothing) + smoothing / c
        wt = trow if weight is None else trow * weight
        logp = log_softmax_array(rows, 1)
        loss = -(wt * logp).sum(axis=1)
        denom = rows.shape[0]
        self.saved = (logp, wt, weight, shape, reduction, smoothing, denom)
        out_shape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
        return _reduce(loss.reshape(out_shape), reduction, denom)

    def backward(self, g):
        logp, wt, weight, shape, reduction, smoothing, denom = self.saved
        n = logp.shape[0]
        gi = _reduced_grad(g, reduction, denom, (n,)).reshape(n, 1)
        nz, nt = self.needs_input_grad
        gz = gt = None
        if nz:
            grad = (np.exp(logp) * wt.sum(axis=1, keepdims=True) - wt) * gi
            gz = _classes_back(grad.astype(logp.dtype, copy=False), shape)
        if nt:
            dt = -logp * gi if weight is None else -(logp * weight) * gi
            if smoothing:
                dt = dt * (1 - smoothing)
            gt = _classes_back(dt.astype(logp.dtype, copy=False), shape)
        return gz, gt


def _class_target(input: Tensor, target: Any, op: str) -> np.ndarray:  # noqa: A002
    y = target.array if isinstance(target, Tensor) else np.asarray(target)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{op}: class-index targets must be integers, got {y.dtype}")
    expect = (input.shape[0],) + input.shape[2:] if input.ndim > 1 else ()
    if y.shape != expect:
        raise ValueError(
            f"{op}: target shape {y.shape} does not fit input {input.shape}: expected "
            f"{expect} (one class index per sample)"
        )
    return y


class ClassIndexError(ValueError, IndexError):
    """A target class outside 0..C-1: a ValueError (bad argument value); also an IndexError,
    which is what PyTorch raises."""


def _check_classes(y: np.ndarray, c: int, ignore_index: int, op: str) -> None:
    valid = y[y != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= c):
        bad = valid[(valid < 0) | (valid >= c)][0]
        raise ClassIndexError(f"{op}: target class {bad} is out of range for {c} classes (0..{c - 1})")


def _weight_array(weight: Any, c: int, dtype, op: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = np.asarray(weight.array if isinstance(weight, Tensor) else weight, dtype=dtype)
    if w.shape != (c,):
        raise ValueError(f"{op}: weight must have one entry per class ({c},), got {w.shape}")
    return w


def cross_entropy(input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100,  # noqa: A002
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits `input` (N, C[, d...]) against class indices or
    class probabilities, exactly as `torch.nn.functional.cross_entropy`."""
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    if label_smoothing and input.ndim > 1 and input.shape[1] == 0:
        raise ValueError("cross_entropy: label_smoothing needs at least one class; the input has 0")
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    w = _weight_array(weight, c, input.dtype, "cross_entropy")
    if isinstance(target, Tensor) and target.dtype.kind == "f":
        if target.shape != input.shape:
            raise ValueError(
                f"cross_entropy: probability targets must have the input's shape {input.shape}, "
                f"got {target.shape}"
            )
        return SoftTargetCrossEntropy.apply(input, target, weight=w, reduction=reduction,
                                            smoothing=label_smoothing)
    y = _class_target(input, target, "cross_entropy")
    _check_classes(y, c, ignore_index, "cross_entropy")
    return CrossEntropy.apply(input, Tensor(y, dtype=None), weight=w, ignore_index=ignore_index,
                              reduction=reduction, smoothing=label_smoothing)


class NLL(Function):
    """Negative log-likelihood of log-probabilities: loss_i = -w_y logp_iy;
    the gradient is -w_y at the target class, 0 elsewhere."""

    def forward(self, logp, target, weight, ignore_index, reduction):
        shape = logp.shape
        rows = _classes_last(logp)
        n, c = rows.shape
        y = target.reshape(-1)
        keep = y != ignore_index
        y_safe = np.where(keep, y, 0)
        weights = np.ones(c, rows.dtype) if weight is None else weight
        w_y = _pick(np.broadcast_to(weights, (n, c)), y_safe) * keep
        loss = np.where(keep, -_pick(rows, y_safe) * w_y, 0).astype(rows.dtype, copy=False)
        self.saved = (y_safe, w_y, shape, reduction, w_y.sum(), rows.shape)
        out_shape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
        return _reduce(loss.reshape(out_shape), reduction, w_y.sum())

    def backward(self, g):
        y, w_y, shape, reduction, denom, (n, c) = self.saved
        grad = np.zeros((n, c), g.dtype)
        if c:
            grad[np.arange(n), y] = -w_y * _reduced_grad(g, reduction, denom, (n,)).reshape(n)
        return (_classes_back(grad, shape), None)


def nll_loss(input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100,  # noqa: A002
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood loss on log-probabilities (pair it with log_softmax)."""
    _check_reduction(reduction)
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    y = _class_target(input, target, "nll_loss")
    _check_classes(y, c, ignore_index, "nll_loss")
    w = _weight_array(weight, c, input.dtype, "nll_loss")
    return NLL.apply(input, Tensor(y, dtype=None), weight=w, ignore_index=ignore_index, reduction=reduction)


class MSE(Function):
    """loss = (x - t)^2 averaged or summed;  dloss/dx = 2 (x - t), dloss/dt = -2 (x - t)."""

    def forward(self, x, t, reduction):
        self.diff = x - t
        self.reduction, self.shapes = reduction, (x.shape, t.shape)
        sq = self.diff * self.diff
        return _reduce(sq, reduction, sq.size)

    def backward(self, g):
        d = self.diff
        gd = 2 * d * _reduced_grad(g, self.reduction, d.size, d.shape)
        nx, nt = self.needs_input_grad
        return (gd if nx else None, -gd if nt else None)


def check_pair(input: Tensor, target: Any, op: str) -> Tensor:  # noqa: A002
    """The target as a tensor of the input's shape (an element-wise loss's two operands)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a striate Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got {input.dtype}; use .float() first")
    if not isinstance(target, Tensor):
        target = Tensor(target, dtype=input.dtype)
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} differ; "
            "they must be equal (striate does not broadcast a loss silently)"
        )
    return target


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean squared error, `torch.nn.functional.mse_loss`."""
    _check_reduction(reduction)
    return MSE.apply(input, check_pair(input, target, "mse_loss"), reduction=reduction)


class BCEWithLogits(Function):
    """Binary cross-entropy on logits x with targets t, positive weight q and weight w:

        loss = w [ (1 - t) x + (1 + (q - 1) t) log(1 + e^-x) ]        (stable form)
        dloss/dx = w [ s(x) (q t + 1 - t) - q t ],   dloss/dt = w [ -q log s(x) + log(1 - s(x)) ]
    """

    saves_inputs = (0, 1)

    def forward(self, x, t, weight, pos_weight, reduction):
        with np.errstate(under="ignore"):
            log1p_exp_neg = np.logaddexp(0, -x)  # log(1 + e^-x) = -log s(x)
        q = 1 if pos_weight is None else pos_weight
        loss = (1 - t) * x + (1 + (q - 1) * t) * log1p_exp_neg
        if weight is not None:
            loss = loss * weight
        self.saved = (x, t, weight, q, log1p_exp_neg, reduction)
        loss = loss.astype(x.dtype, copy=False)
        return _reduce(loss, reduction, loss.size)

    def backward(self, g):
        x, t, weight, q, lpe, reduction = self.saved
        gl = _reduced_grad(g, reduction, x.size, x.shape)
        if weight is not None:
            gl = gl * weight
        nx, nt = self.needs_input_grad
        gx = gt = None
        if nx:
            gx = (gl * (stable_sigmoid(x) * (q * t + 1 - t) - q * t)).astype(x.dtype, copy=False)
        if nt:
            # log s(x) = -lpe;  log(1 - s(x)) = -x - lpe
            gt = (gl * (q * lpe - x - lpe)).astype(x.dtype, copy=False)
        return gx, gt


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Any = None,  # noqa: A002
                                     reduction: str = "mean", pos_weight: Any = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one numerically stable step."""
    _check_reduction(reduction)
    if not isinstance(target, Tensor):
        target = Tensor(target, dtype=input.dtype)
    if input.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: target shape {target.shape} must equal input "
            f"shape {input.shape}"
        )

    def arr(v):
        return None if v is None else np.asarray(v.array if isinstance(v, Tensor) else v,
                                                 dtype=input.dtype)

    return BCEWithLogits.apply(input, target, weight=arr(weight), pos_weight=arr(pos_weight),
                               reduction=reduction)

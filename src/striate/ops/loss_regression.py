"""Element-wise losses: L1, smooth L1, Huber, binary cross-entropy on probabilities, KL
divergence and the soft margin loss, with PyTorch's formulas (and its edge cases).

Each is one node with its closed-form local gradient; with d = x - t:

    l1(d)            = |d|                                       dl/dd = sign(d)
    smooth_l1(d; b)  = 0.5 d^2 / b  if |d| < b  else |d| - b/2   dl/dd = d / b  or sign(d)
    huber(d; delta)  = 0.5 d^2  if |d| < delta  else delta (|d| - delta/2)
                                                                 dl/dd = d  or delta sign(d)
    bce(x, t)        = -w [t log x + (1 - t) log(1 - x)]  (each log clamped at -100, as PyTorch)
                       dl/dx = w (x - t) / max(x (1 - x), 1e-12),   dl/dt = -w logit(x)
    kl_div(x, t)     = t (log t - x)  (0 where t = 0);   log_target: e^t (t - x)
                       dl/dx = -t  (-e^t),   dl/dt = log t + 1 - x  (e^t (t - x + 1))
    soft_margin(x, y) = log(1 + e^(-y x))                        dl/dx = -y s(-y x)

mse with a weight: PyTorch's weighted path (w (x - t)^2, then the sum or sum / sum(w)).

reduction: 'none' (per element), 'sum', 'mean' (sum / number of elements); kl_div also
'batchmean' (sum / batch size), the one that matches the mathematical definition.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.activation import stable_sigmoid
from striate.ops.loss import _check_reduction, _reduce, _reduced_grad, check_pair
from striate.ops.loss import mse_loss as _mse_unweighted
from striate.ops.reduce import sum as _sum


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """PyTorch's deprecated size_average/reduce flags mapped onto `reduction`."""
    if size_average is None and reduce is None:
        return reduction
    if not (True if reduce is None else reduce):
        return "none"
    return "mean" if (True if size_average is None else size_average) else "sum"


class _Pointwise(Function):
    """loss_i = f(d_i) with d = x - t;  dloss/dx = f'(d) g,  dloss/dt = -f'(d) g."""

    def forward(self, x, t, reduction, param=None):
        d = x - t
        self.d, self.reduction, self.param = d, reduction, param
        loss = self.value(d, param).astype(x.dtype, copy=False)
        return _reduce(loss, reduction, loss.size)

    def backward(self, g):
        d = self.d
        gd = (self.slope(d, self.param) * _reduced_grad(g, self.reduction, d.size, d.shape)).astype(d.dtype)
        nx, nt = self.needs_input_grad
        return (gd if nx else None, -gd if nt else None)


class L1(_Pointwise):
    """|x - t|;  sign(x - t) (0 at d = 0, as PyTorch's abs)."""

    @staticmethod
    def value(d, param):
        return np.abs(d)

    @staticmethod
    def slope(d, param):
        return np.sign(d)


class SmoothL1(_Pointwise):
    """0.5 d^2 / beta where |d| < beta, else |d| - beta / 2 (beta = 0: plain L1)."""

    @staticmethod
    def value(d, beta):
        z = np.abs(d)
        if beta == 0:
            return z
        b = d.dtype.type(beta)
        return np.where(z < b, d.dtype.type(0.5) * z * z / b, z - d.dtype.type(0.5) * b)

    @staticmethod
    def slope(d, beta):
        if beta == 0:
            return np.sign(d)
        b = d.dtype.type(beta)
        return np.where(d < -b, -1, np.where(d > b, 1, d / b)).astype(d.dtype)


class Huber(_Pointwise):
    """0.5 d^2 where |d| < delta, else delta (|d| - delta / 2);  d or delta sign(d)."""

    @staticmethod
    def value(d, delta):
        z = np.abs(d)
        c = d.dtype.type(delta)
        return np.where(z < c, d.dtype.type(0.5) * z * z, c * (z - d.dtype.type(0.5) * c))

    @staticmethod
    def slope(d, delta):
        c = d.dtype.type(delta)
        return np.where(d < -c, -c, np.where(d > c, c, d))


def _weighted(loss_none: Tensor, weight: Any, reduction: str, op: str, mean_by_weight: bool) -> Tensor:
    """PyTorch's weighted path: loss * w, then the sum, or the sum divided by sum(w) (mse, l1)
    or by the number of elements (huber)."""
    if not isinstance(weight, Tensor):
        weight = Tensor(weight, dtype=loss_none.dtype)
    if weight.shape != loss_none.shape:
        raise ValueError(f"{op}: weight shape {tuple(weight.shape)} must equal the input's "
                         f"{tuple(loss_none.shape)} (one weight per element)")
    weighted = loss_none * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return _sum(weighted)
    return _sum(weighted) / _sum(weight) if mean_by_weight else weighted.mean()


def pointwise_loss(fn: type[_Pointwise], input: Tensor, target: Any, reduction: str, op: str,  # noqa: A002
                   param: float | None = None, weight: Any = None, mean_by_weight: bool = True) -> Tensor:
    """Check the arguments and apply one of the d = x - t losses (weighted as PyTorch does)."""
    _check_reduction(reduction)
    target = check_pair(input, target, op)
    if weight is None:
        return fn.apply(input, target, reduction=reduction, param=param)
    return _weighted(fn.apply(input, target, reduction="none", param=param), weight, reduction, op,
                     mean_by_weight)


def mse_loss(input: Tensor, target: Any, size_average: bool | None = None, reduce: bool | None = None,  # noqa: A002
             reduction: str = "mean", weight: Any = None) -> Tensor:
    """Mean squared error (x - t)^2, `torch.nn.functional.mse_loss` (weighted mean: sum(w l) / sum(w));
    the unweighted node is `striate.ops.loss.MSE`."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if weight is None:
        return _mse_unweighted(input, target, reduction)
    _check_reduction(reduction)
    return _weighted(_mse_unweighted(input, target, "none"), weight, reduction, "mse_loss", True)


def l1_loss(input: Tensor, target: Any, size_average: bool | None = None, reduce: bool | None = None,  # noqa: A002
            reduction: str = "mean", weight: Any = None) -> Tensor:
    """Mean absolute error |x - t|, `torch.nn.functional.l1_loss` (weighted mean: sum(w l) / sum(w))."""
    return pointwise_loss(L1, input, target, legacy_reduction(size_average, reduce, reduction), "l1_loss",
                          weight=weight)


def smooth_l1_loss(input: Tensor, target: Any, size_average: bool | None = None,  # noqa: A002
                   reduce: bool | None = None, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Quadratic below `beta`, linear above (Fast R-CNN's loss); `torch.nn.functional.smooth_l1_loss`."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    return pointwise_loss(SmoothL1, input, target, legacy_reduction(size_average, reduce, reduction),
                          "smooth_l1_loss", param=float(beta))


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0,  # noqa: A002
               weight: Any = None) -> Tensor:
    """Quadratic below `delta`, delta-scaled linear above; `torch.nn.functional.huber_loss`
    (= delta * smooth_l1_loss with beta = delta)."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return pointwise_loss(Huber, input, target, reduction, "huber_loss", param=float(delta), weight=weight,
                          mean_by_weight=False)


class BinaryCrossEntropy(Function):
    """loss = w [(t - 1) max(log(1 - x), -100) - t max(log x, -100)];
    dloss/dx = w (x - t) / max(x (1 - x), 1e-12),   dloss/dt = -w log(x / (1 - x))."""

    def forward(self, x, t, weight, reduction):
        with np.errstate(divide="ignore"):  # log 0 = -inf, then clamped at -100 as PyTorch
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        loss = (t - 1) * log_1mx - t * log_x
        if weight is not None:
            loss = loss * weight
        loss = loss.astype(x.dtype, copy=False)
        if self.needs_input_grad is not None:
            self.x, self.t, self.weight, self.reduction = x.copy(), t.copy(), weight, reduction
        return _reduce(loss, reduction, loss.size)

    def backward(self, g):
        x, t, w = self.x, self.t, self.weight
        gl = _reduced_grad(g, self.reduction, x.size, x.shape)
        if w is not None:
            gl = gl * w
        nx, nt = self.needs_input_grad
        gx = gt = None
        if nx:
            eps = x.dtype.type(np.float32(1e-12))  # PyTorch's EPSILON is a float, in float64 too
            gx = (gl * (x - t) / np.maximum((1 - x) * x, eps)).astype(x.dtype, copy=False)
        if nt:
            with np.errstate(divide="ignore"):
                gt = (-gl * np.log(x / (1 - x))).astype(x.dtype, copy=False)
        return gx, gt


def _as_array(v: Any, dtype) -> np.ndarray | None:
    return None if v is None else np.asarray(v.array if isinstance(v, Tensor) else v, dtype=dtype)


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None, size_average: bool | None = None,  # noqa: A002
                         reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities `input` in [0, 1] (after a sigmoid) against targets;
    `torch.nn.functional.binary_cross_entropy`. On logits prefer `binary_cross_entropy_with_logits`."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = check_pair(input, target, "binary_cross_entropy")
    x = input.array
    if x.size and not ((x >= 0) & (x <= 1)).all():
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1 "
                         "(probabilities); for raw scores use binary_cross_entropy_with_logits")
    w = _as_array(weight, input.dtype)
    if w is not None:
        try:
            w = np.broadcast_to(w, x.shape)
        except ValueError:
            raise ValueError(f"binary_cross_entropy: weight shape {w.shape} does not broadcast to the "
                             f"input shape {tuple(input.shape)}") from None
    return BinaryCrossEntropy.apply(input, target, weight=w, reduction=reduction)


class KLDiv(Function):
    """loss = t (log t - x) (0 where t = 0);  log_target: e^t (t - x).
    dloss/dx = -t (-e^t);  dloss/dt = log t + 1 - x (nan at t = 0, as PyTorch), e^t (t - x + 1)."""

    def forward(self, x, t, reduction, denom, log_target):
        if log_target:
            et = np.exp(t)
            loss = et * (t - x)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                loss = np.where(t == 0, 0, t * np.log(np.where(t == 0, 1, t))) - t * x
        loss = loss.astype(x.dtype, copy=False)
        if self.needs_input_grad is not None:
            self.x, self.t, self.saved = x.copy(), t.copy(), (reduction, denom, log_target)
        if reduction == "batchmean":  # PyTorch: the sum, then divided by the batch size
            with np.errstate(invalid="ignore", divide="ignore"):  # an empty batch: 0 / 0 = nan, as PyTorch
                return _reduce(loss, "sum", denom) / x.dtype.type(denom)
        return _reduce(loss, reduction, denom)

    def backward(self, g):
        x, t = self.x, self.t
        reduction, denom, log_target = self.saved
        if reduction == "batchmean":
            g = g / x.dtype.type(denom) if denom else np.zeros_like(g)
        gl = _reduced_grad(g, "sum" if reduction == "batchmean" else reduction, denom, x.shape)
        nx, nt = self.needs_input_grad
        gx = gt = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if log_target:
                et = np.exp(t)
                gx = -et * gl if nx else None
                gt = et * (t - x + 1) * gl if nt else None
            else:
                gx = -t * gl if nx else None
                gt = (np.where(t == 0, 0, np.log(np.where(t == 0, 1, t))) + t / t - x) * gl if nt else None
        return (None if gx is None else gx.astype(x.dtype, copy=False),
                None if gt is None else gt.astype(x.dtype, copy=False))


_KL_MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size."
    "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
    "'mean' will be changed to behave the same as 'batchmean' in the next major release."
)


def kl_div(input: Tensor, target: Any, size_average: bool | None = None, reduce: bool | None = None,  # noqa: A002
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence of `target` from the log-probabilities `input`;
    `torch.nn.functional.kl_div`. 'mean' warns as PyTorch does; prefer 'batchmean'."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn(_KL_MEAN_WARNING, UserWarning, stacklevel=2)
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"kl_div: reduction must be 'none', 'batchmean', 'sum' or 'mean', got {reduction!r}")
    target = check_pair(input, target, "kl_div")
    if reduction == "batchmean":
        denom = input.shape[0] if input.ndim else 1
    else:
        denom = input.numel()
    return KLDiv.apply(input, target, reduction=reduction, denom=denom, log_target=bool(log_target))


class SoftMargin(Function):
    """loss = log(1 + e^(-y x));  dloss/dx = -y s(-y x) (the target gets no gradient, as PyTorch)."""

    def forward(self, x, y, reduction):
        z = -y * x
        with np.errstate(under="ignore"):
            loss = np.logaddexp(0, z).astype(x.dtype, copy=False)
        if self.needs_input_grad is not None:
            self.z, self.y, self.reduction = z, y.copy(), reduction
        return _reduce(loss, reduction, loss.size)

    def backward(self, g):
        z = self.z
        gl = _reduced_grad(g, self.reduction, z.size, z.shape)
        return ((-self.y * stable_sigmoid(z) * gl).astype(z.dtype, copy=False), None)


def soft_margin_loss(input: Tensor, target: Any, size_average: bool | None = None,  # noqa: A002
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Two-class logistic loss log(1 + e^(-y x)) for targets y in {-1, 1};
    `torch.nn.functional.soft_margin_loss`."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = check_pair(input, target, "soft_margin_loss")
    if target.requires_grad:
        raise RuntimeError("soft_margin_loss: the target gets no gradient (as in PyTorch); pass "
                           "target.detach()")
    return SoftMargin.apply(input, target, reduction=reduction)

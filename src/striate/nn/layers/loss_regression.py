"""Loss modules for regression, probabilities and distributions: `L1Loss`, `SmoothL1Loss`,
`HuberLoss`, `BCELoss`, `KLDivLoss`, `SoftMarginLoss`, `MarginRankingLoss`, `CosineEmbeddingLoss`.

Each wraps the function of the same name in `F` (formulas and gradients in
`striate.ops.loss_regression`), with PyTorch's constructor arguments.
"""

from __future__ import annotations

import striate.nn.functional as F
from striate.autograd.tensor import Tensor
from striate.nn.layers.loss import _Loss, _WeightedLoss
from striate.ops.loss_regression import legacy_reduction


class L1Loss(_Loss):
    """loss = mean(|x - t|) (or the sum, or per element)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """0.5 (x - t)^2 / beta where |x - t| < beta, else |x - t| - beta / 2."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """0.5 (x - t)^2 where |x - t| < delta, else delta (|x - t| - delta / 2)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """-w [t log x + (1 - t) log(1 - x)] on probabilities x (logs clamped at -100)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class KLDivLoss(_Loss):
    """t (log t - x) summed and divided as `reduction` says ('batchmean': by the batch size, the
    KL divergence's definition); `log_target=True` when the target holds log-probabilities."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        reduction = legacy_reduction(size_average, reduce, reduction)
        batchmean = reduction == "batchmean"
        super().__init__(reduction="mean" if batchmean else reduction)
        self.reduction = reduction
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class SoftMarginLoss(_Loss):
    """log(1 + e^(-y x)) for targets y in {-1, 1}."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.soft_margin_loss(input, target, reduction=self.reduction)




class MarginRankingLoss(_Loss):
    """max(0, -y (x1 - x2) + margin)."""

    def __init__(self, margin: float = 0.0, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(MarginRankingLoss):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1."""

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)

"""`striate.nn.functional`: the stateless operations, named as in `torch.nn.functional`.

Each name is re-exported from the module in `striate.ops` where its forward and backward live.
"""

from striate.ops.activation import log_softmax, relu, sigmoid, softmax, tanh
from striate.ops.activation_smooth import (
    gelu,
    hardsigmoid,
    hardswish,
    mish,
    normalize,
    prelu,
    silu,
    softplus,
)
from striate.ops.bilinear import bilinear
from striate.ops.conv import conv1d, conv2d, conv_transpose2d
from striate.ops.ctc import ctc_loss
from striate.ops.distance import cosine_similarity, pairwise_distance
from striate.ops.dropout import alpha_dropout, dropout, dropout2d
from striate.ops.embedding import embedding, one_hot
from striate.ops.fold import fold, unfold
from striate.ops.grid_sample import affine_grid, grid_sample
from striate.ops.interpolate import interpolate
from striate.ops.layer_norm import layer_norm
from striate.ops.linalg import linear
from striate.ops.loss import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    nll_loss,
)
from striate.ops.norm import batch_norm, local_response_norm
from striate.ops.pad import pad
from striate.ops.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from striate.ops.pool import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    lp_pool2d,
    max_pool1d,
    max_pool2d,
)
from striate.ops.unpool import max_unpool1d, max_unpool2d

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "elu",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
    # convolution, pooling, normalization (striate.ops.conv/pool/pad/dropout/norm)
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "dropout",
    "dropout2d",
    "local_response_norm",
    "lp_pool2d",
    "max_pool1d",
    "max_pool2d",
    "pad",
    # sequence models (issue 17: striate.ops.layer_norm/embedding)
    "ctc_loss",
    "embedding",
    "layer_norm",
    "one_hot",
    # issue 21 (i21-ops): modern activations and interpolation
    "gelu",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "interpolate",
    "mish",
    "normalize",
    "prelu",
    "relu6",
    "silu",
    "softplus",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
    # spatial ops and distances (issue 21, i21-nn-b)
    "affine_grid",
    "bilinear",
    "cosine_similarity",
    "fold",
    "grid_sample",
    "max_unpool1d",
    "max_unpool2d",
    "pairwise_distance",
    "pixel_shuffle",
    "pixel_unshuffle",
    "unfold",
]


# issue 21 (i21-nn-a): losses, normalisation, activations
from striate.ops.activation_extra import (  # noqa: E402  (elu, leaky_relu, hardtanh, relu6: with inplace=)
    celu,
    celu_,
    elu,
    elu_,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    relu6,
    relu_,
    selu,
    selu_,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)
from striate.ops.loss_margin import cosine_embedding_loss, margin_ranking_loss  # noqa: E402
from striate.ops.loss_regression import (  # noqa: E402
    binary_cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    smooth_l1_loss,
    soft_margin_loss,
)
from striate.ops.norm_group import group_norm, instance_norm  # noqa: E402

__all__ += [
    "binary_cross_entropy",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
    "group_norm",
    "instance_norm",
    "celu",
    "celu_",
    "elu_",
    "hardtanh_",
    "leaky_relu_",
    "relu_",
    "selu",
    "selu_",
    "softsign",
    "tanhshrink",
    "threshold",
    "threshold_",
    "alpha_dropout",
    "cosine_embedding_loss",
    "margin_ranking_loss",
]


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):  # noqa: A002
    """The deprecated name of `interpolate` (kept by PyTorch)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):  # noqa: A002
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):  # noqa: A002
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)

"""`striate.nn.functional`: the stateless operations, named as in `torch.nn.functional`.

Each name is re-exported from the module in `striate.ops` where its forward and backward live.
"""

from striate.ops.activation import elu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from striate.ops.activation_smooth import (
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    mish,
    normalize,
    prelu,
    relu6,
    silu,
    softplus,
)
from striate.ops.bilinear import bilinear
from striate.ops.conv import conv1d, conv2d, conv_transpose2d
from striate.ops.ctc import ctc_loss
from striate.ops.distance import cosine_similarity, pairwise_distance
from striate.ops.dropout import dropout, dropout2d
from striate.ops.embedding import embedding, one_hot
from striate.ops.fold import fold, unfold
from striate.ops.grid_sample import affine_grid, grid_sample
from striate.ops.interpolate import interpolate
from striate.ops.layer_norm import layer_norm
from striate.ops.linalg import linear
from striate.ops.loss import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
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


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):  # noqa: A002
    """The deprecated name of `interpolate` (kept by PyTorch)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):  # noqa: A002
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):  # noqa: A002
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)

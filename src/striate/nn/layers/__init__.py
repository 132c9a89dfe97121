"""The layer modules, one file per family, re-exported by name (and again from `striate.nn`)."""

from striate.nn.layers.activation import ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from striate.nn.layers.activation_modern import (
    GELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Mish,
    PReLU,
    ReLU6,
    SiLU,
    Softplus,
)
from striate.nn.layers.container import ModuleDict, ModuleList, Sequential
from striate.nn.layers.conv import Conv1d, Conv2d, ConvTranspose2d
from striate.nn.layers.distance import Bilinear, CosineSimilarity, PairwiseDistance
from striate.nn.layers.dropout import Dropout, Dropout2d
from striate.nn.layers.flatten import Flatten, Unflatten

# lazy layers (issue 21, i21-vision)
from striate.nn.layers.lazy import (  # noqa: E402
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyConv1d,
    LazyConv2d,
    LazyConvTranspose2d,
    LazyLinear,
    LazyModuleMixin,
)
from striate.nn.layers.linear import Identity, Linear
from striate.nn.layers.loss import BCEWithLogitsLoss, CrossEntropyLoss, CTCLoss, MSELoss, NLLLoss
from striate.nn.layers.maxout import Maxout
from striate.nn.layers.normalization import BatchNorm1d, BatchNorm2d, LayerNorm, LocalResponseNorm
from striate.nn.layers.padding import (
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)
from striate.nn.layers.parameter_containers import ParameterDict, ParameterList
from striate.nn.layers.pooling import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    LPPool2d,
    MaxPool1d,
    MaxPool2d,
)
from striate.nn.layers.recurrent import GRU, LSTM, RNN, RNNBase
from striate.nn.layers.rnn_cell import GRUCell, LSTMCell, RNNCell
from striate.nn.layers.sparse import Embedding
from striate.nn.layers.spatial import (
    Fold,
    MaxUnpool1d,
    MaxUnpool2d,
    PixelShuffle,
    PixelUnshuffle,
    Unfold,
)
from striate.nn.layers.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "ELU",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout2d",
    "Flatten",
    "Identity",
    "LPPool2d",
    "LeakyReLU",
    "Linear",
    "LocalResponseNorm",
    "LogSoftmax",
    "MSELoss",
    "MaxPool1d",
    "MaxPool2d",
    "Maxout",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "Unflatten",
    # sequence models (issue 17)
    "CTCLoss",
    "Embedding",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "LayerNorm",
    "RNN",
    "RNNBase",
    "RNNCell",
    # lazy layers (issue 21, i21-vision)
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConvTranspose2d",
    "LazyLinear",
    "LazyModuleMixin",
    # issue 21 (i21-ops): modern activations and upsampling
    "GELU",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "Mish",
    "PReLU",
    "ReLU6",
    "SiLU",
    "Softplus",
    "Upsample",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
    # spatial ops, padding, distances and parameter containers (issue 21, i21-nn-b)
    "Bilinear",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "CosineSimilarity",
    "Fold",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "PairwiseDistance",
    "ParameterDict",
    "ParameterList",
    "PixelShuffle",
    "PixelUnshuffle",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "Unfold",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
]

# issue 21 (i21-nn-a): losses, normalisation, activations
from striate.nn.layers.activation_extra import CELU, SELU, Softsign, Tanhshrink, Threshold  # noqa: E402
from striate.nn.layers.dropout import AlphaDropout  # noqa: E402
from striate.nn.layers.loss_regression import (  # noqa: E402
    BCELoss,
    CosineEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    SmoothL1Loss,
    SoftMarginLoss,
)
from striate.nn.layers.normalization_group import GroupNorm, InstanceNorm1d, InstanceNorm2d  # noqa: E402

__all__ += ["BCELoss", "HuberLoss", "KLDivLoss", "L1Loss", "SmoothL1Loss", "SoftMarginLoss"]
__all__ += ["GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "CosineEmbeddingLoss", "MarginRankingLoss"]
__all__ += ["CELU", "SELU", "AlphaDropout", "Softsign", "Tanhshrink", "Threshold"]

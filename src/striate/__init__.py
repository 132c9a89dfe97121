"""striate: a convolutional neural network library written from the math up on NumPy.

    import striate as st
    import striate.nn as nn
    import striate.nn.functional as F

Subpackages (`st.nn`, `st.optim`, `st.data`, `st.models`, `st.train`) and the heavier helpers
(`st.save`, `st.load`, `st.summary`) load on first use, so `import striate` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from striate.autograd import Function, Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from striate.autograd.tensor import (
    bool_,
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    uint8,
)
from striate.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from striate.device import device
from striate.ops.activation import log_softmax, relu, sigmoid, softmax, tanh
from striate.ops.elementwise import abs, clamp, exp, log, maximum, minimum, sqrt, where
from striate.ops.index import gather
from striate.ops.linalg import matmul
from striate.ops.reduce import amax, amin, argmax, argmin, max, mean, min, std, sum, var
from striate.ops.shape import (
    cat,
    chunk,
    flatten,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from striate.random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from striate.random import generator as _global_generator

float = float32  # noqa: A001 - torch.float
bool = bool_  # noqa: A001 - torch.bool
clip = clamp
concat = cat
default_generator = _global_generator()  # torch.default_generator

__version__ = "0.1.0"

_LAZY_MODULES = {"nn", "optim", "data", "models", "train", "autograd", "config", "kernels", "io",
                 "viz", "cli", "bench", "tuning", "cuda", "backends", "accelerator",
                 "onnx", "text", "distributed",
                 # issue 21: torch.utils.data; st.linalg.norm / vector_norm / matrix_norm
                 "utils", "linalg"}  # text: CTC decoding, language models, CER/WER
_LAZY_ATTRS = {
    "save": ("striate.io", "save"),
    "load": ("striate.io", "load"),
    "summary": ("striate.summary", "summary"),
    # issue 18: PyTorch checkpoints without pickle
    "load_torch": ("striate.io_torch", "load_torch"),
    # issue 21 (i21-example): torch.set_default_device / get_default_device, CPU only
    "set_default_device": ("striate.device", "set_default_device"),
    "get_default_device": ("striate.device", "get_default_device"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        return importlib.import_module(f"striate.{name}")
    if name in _LAZY_ATTRS:
        module, attr = _LAZY_ATTRS[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'striate' has no attribute {name!r}")


# ---------------------------------------------------------------- issue 21: PyTorch's tensor functions
# (branch i21-ops) trigonometric and rounding functions, named products, norms, sorting,
# scatter/masked_fill, cumulative ops, predicates, rearrangements, the legacy tensor types, and
# axis=/keepdims= accepted wherever dim=/keepdim= are (PyTorch's NumPy-compatible aliases).
from striate.legacy_tensor_types import (  # noqa: E402
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    IntTensor,
    LongTensor,
)
from striate.ops import predicates as _pred  # noqa: E402
from striate.ops.cumulative import cumprod, cumsum, prod  # noqa: E402
from striate.ops.dim_alias import AXIS_METHODS as _AXIS_METHODS  # noqa: E402
from striate.ops.dim_alias import with_axis_alias as _axis_alias  # noqa: E402
from striate.ops.elementwise import pow  # noqa: E402, A004
from striate.ops.predicates import (  # noqa: E402
    allclose,
    count_nonzero,
    eq,
    equal,
    ge,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    logical_and,
    logical_not,
    logical_or,
    lt,
    ne,
    nonzero,
)
from striate.ops.products import bmm, dot, einsum, ger, mm, mv, outer  # noqa: E402
from striate.ops.rearrange import diag, flip, fliplr, flipud, meshgrid, roll, tile, tril, triu  # noqa: E402
from striate.ops.scatter import index_select, masked_fill, scatter, scatter_add  # noqa: E402
from striate.ops.shape import clone  # noqa: E402
from striate.ops.sorting import argsort, msort, sort, topk  # noqa: E402
from striate.ops.unary import (  # noqa: E402
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atanh,
    ceil,
    cos,
    cosh,
    erf,
    expm1,
    floor,
    log1p,
    log2,
    log10,
    reciprocal,
    round,
    rsqrt,
    sign,
    sin,
    sinh,
    square,
    tan,
    trunc,
)
from striate.ops.vector_norm import norm  # noqa: E402
from striate.ops.views import broadcast_to, logsumexp, masked_select, movedim, narrow, swapaxes, unbind  # noqa: E402

all = _pred.all  # noqa: A001 - torch.all
any = _pred.any  # noqa: A001 - torch.any
arccos, arcsin, arctan = acos, asin, atan
for _name in (*_AXIS_METHODS, "cat", "concat", "stack"):  # torch.sum(x, axis=0), torch.cat(ts, axis=1)
    if _name in globals():
        globals()[_name] = _axis_alias(globals()[_name], _name)
del _name
# --- issue 21 (autograd and tensor semantics): st.Size, inference mode, printing, threads, dtype
from striate.autograd.grad_mode import inference_mode, is_inference_mode_enabled  # noqa: E402
from striate.autograd.printing import get_printoptions, set_printoptions  # noqa: E402
from striate.autograd.size import Size  # noqa: E402
from striate.autograd.tensor import get_default_dtype, set_default_dtype  # noqa: E402


def set_num_threads(n: int) -> None:
    """Threads for striate's operations (`torch.set_num_threads`); see `st.config.set_num_threads`."""
    from striate import config

    config.set_num_threads(n)


def get_num_threads() -> int:
    """Threads striate's operations use (`torch.get_num_threads`); see `st.config`."""
    from striate import config

    return config.get_num_threads()
# --- end issue 21


# --- issue 21 (i21-dtype): PyTorch's dtype objects (`print(t.dtype)` -> striate.float32)
from striate.dtypes import bfloat16, dtype, short, uint16, uint32, uint64  # noqa: E402
from striate.dtypes import int as int  # noqa: E402, A004, PLC0414 - torch.int is int32


def is_floating_point(input: Tensor) -> bool:  # noqa: A002 - torch's parameter name
    """True for a floating point tensor (`torch.is_floating_point`)."""
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:  # noqa: A002 - torch's parameter name
    """True for a complex tensor (`torch.is_complex`); striate has no complex dtypes."""
    return input.is_complex()

# --- end i21-dtype


def numel(t: Tensor) -> int:
    return t.numel()


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


# --- issue 21 (i21-misc): torch.add/sub/mul/div with alpha=/rounding_mode=/out=, torch.t, unique,
# bernoulli, multinomial (sum/mean/softmax/log_softmax take dtype= in their own modules)
from striate.ops import shape as _shape_ops  # noqa: E402
from striate.ops.arithmetic import (  # noqa: E402
    add,
    div,
    divide,
    floor_divide,
    mul,
    multiply,
    sub,
    subtract,
    true_divide,
)
from striate.ops.random_draws import bernoulli, multinomial  # noqa: E402
from striate.ops.unique import unique  # noqa: E402

t = _shape_ops.t  # torch.t
# --- end issue 21 (i21-misc)

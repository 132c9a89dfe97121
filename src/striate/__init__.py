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
                 "onnx", "text", "distributed"}  # text: CTC decoding, language models, CER/WER
_LAZY_ATTRS = {
    "save": ("striate.io", "save"),
    "load": ("striate.io", "load"),
    "summary": ("striate.summary", "summary"),
    # issue 18: PyTorch checkpoints without pickle
    "load_torch": ("striate.io_torch", "load_torch"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        return importlib.import_module(f"striate.{name}")
    if name in _LAZY_ATTRS:
        module, attr = _LAZY_ATTRS[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'striate' has no attribute {name!r}")


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


def numel(t: Tensor) -> int:
    return t.numel()


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)

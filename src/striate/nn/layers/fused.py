"""`nn.Sequential`'s peephole: a layer and the ReLU after it as one node, and batch norm folded
into the convolution before it at inference.

A Sequential knows what follows each module, which a layer's own forward cannot. Two patterns:

- `Conv2d | Linear | BatchNorm1d/2d` then `ReLU`: the layer's op takes ReLU as its epilogue
  (`striate.ops.fusion`): max(0, .) in place on the layer's fresh result, one node
  (`ReluBackward0`), the mask applied once in the backward. Same values as the two modules
  (the same operations in the same order), in training and in evaluation.
- `Conv2d` then `BatchNorm2d` in eval mode (then optionally `ReLU`), when no gradient is
  recorded (`no_grad`, `inference_mode`, or nothing requires grad): the normalization is
  affine per output channel, so it folds into the convolution (seed 004's eval-mode BN):

      s = gamma / sqrt(running_var + eps)
      W' = W * s[o]        b' = (b - running_mean) * s + beta        conv(x, W') + b' = bn(conv(x, W) + b)

  one convolution instead of a convolution and a pass of batch norm. The folded weights are
  computed on every call (O*C*kh*kw products, under 1% of the convolution's N*OH*OW times more):
  nothing is cached, so nothing can go stale when the weights or running statistics change.
  Rounding differs from the two-step result by float32's last bits (W*s rounded once).

When the pattern does not apply exactly, the modules run one by one as written: a subclass, a
module with any hook (forward, pre-forward, backward: a hook must see the layer's own output),
a patched `forward`, a padding mode other than zeros for folding, or `tuning.FUSE_SEQUENTIAL`
set False (then the graph is PyTorch's node for node, e.g. for drawing it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import striate.nn.functional as F
from striate import tuning
from striate.autograd.grad_mode import is_grad_enabled
from striate.autograd.tensor import Tensor, wrap
from striate.nn.layers.activation import ReLU
from striate.nn.layers.conv import Conv2d
from striate.nn.layers.linear import Linear
from striate.nn.layers.normalization import BatchNorm1d, BatchNorm2d
from striate.nn.module import Module
from striate.ops import fusion

_RELU_HEADS = (Conv2d, Linear, BatchNorm1d, BatchNorm2d)


def _plain(m: Module) -> bool:
    """True when the module runs exactly its class's forward: no hooks of any kind, no patched
    forward (an instance attribute)."""
    d = m.__dict__
    return "forward" not in d and not any(v for k, v in d.items() if k.endswith("hooks"))


def run(modules: list[Module], x: Any) -> Any:
    """Sequential's forward: the modules in order, fused where a pattern applies."""
    if not tuning.FUSE_SEQUENTIAL:
        for m in modules:
            x = m(x)
        return x
    i, n = 0, len(modules)
    while i < n:
        m = modules[i]
        kind = type(m)
        nxt = modules[i + 1] if i + 1 < n else None
        if nxt is not None and kind in _RELU_HEADS and _plain(m):
            if kind is Conv2d and type(nxt) is BatchNorm2d and _foldable(m, nxt, x):
                relu = i + 2 < n and type(modules[i + 2]) is ReLU and _plain(modules[i + 2])
                x = _folded(m, nxt, x, relu)
                i += 3 if relu else 2
                continue
            if type(nxt) is ReLU and _plain(nxt):
                with fusion.relu_after() as taken:
                    x = m(x)
                if not taken[0]:  # the layer's op did not take the epilogue: ReLU on its own
                    x = nxt(x)
                i += 2
                continue
        x = m(x)
        i += 1
    return x


def _foldable(conv: Conv2d, bn: BatchNorm2d, x: Any) -> bool:
    """Eval-mode BN with running statistics after a zero-padded convolution, no gradient recorded."""
    if bn.training or bn.running_mean is None or not _plain(bn) or conv.padding_mode != "zeros":
        return False
    # anything unusual (unbatched input, mismatched sizes or dtypes) runs unfused, where each
    # module's own check names the problem
    if not isinstance(x, Tensor) or x.ndim != 4 or bn.num_features != conv.out_channels:
        return False
    if x.dtype != conv.weight.dtype or bn.running_mean.dtype != x.dtype:
        return False
    if not is_grad_enabled():
        return True
    return not any(t is not None and t.requires_grad
                   for t in (x, conv.weight, conv.bias, bn.weight, bn.bias))


def folded_parameters(conv: Conv2d, bn: BatchNorm2d) -> tuple[np.ndarray, np.ndarray]:
    """W' = W * s and b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps) (x's dtype)."""
    w = conv.weight.array
    dtype = w.dtype
    invstd = (1 / np.sqrt(bn.running_var.array + dtype.type(bn.eps))).astype(dtype)
    scale = invstd if bn.weight is None else invstd * bn.weight.array
    bias = -bn.running_mean.array if conv.bias is None else conv.bias.array - bn.running_mean.array
    shift = bias * scale
    if bn.bias is not None:
        shift = shift + bn.bias.array
    return w * scale.reshape(-1, 1, 1, 1), shift.astype(dtype)


def _folded(conv: Conv2d, bn: BatchNorm2d, x: Tensor, relu: bool) -> Tensor:
    """bn(conv(x)) (then ReLU) as one convolution with the folded weights."""
    conv._check_input(x)
    w, b = folded_parameters(conv, bn)
    args = (wrap(w), wrap(b), conv.stride, conv.padding, conv.dilation, conv.groups)
    if not relu:
        return F.conv2d(x, *args)
    with fusion.relu_after() as taken:
        y = F.conv2d(x, *args)
    return y if taken[0] else F.relu(y)

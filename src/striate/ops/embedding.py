"""Lookup tables: `embedding` (a row of a weight matrix per index) and `one_hot`.

An embedding is a linear layer applied to a one-hot vector, computed without the product:

    y[..., :] = W[idx[...], :];      dL/dW[j] = sum over positions with idx == j of dL/dy

and the row `padding_idx` (if given) receives no gradient, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor, _make


def _index_array(input: Any, op: str) -> np.ndarray:  # noqa: A002
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer tensor (st.long), got {idx.dtype}; "
                        "convert with .long()")
    return idx


class Embedding(Function):
    """y = W[idx]; the gradient is scattered (added) back into the picked rows."""

    def forward(self, weight, *, idx, padding_idx):
        self.idx, self.rows, self.padding_idx = idx, weight.shape[0], padding_idx
        return weight[idx]

    def backward(self, g):
        grad = np.zeros((self.rows, g.shape[-1]), g.dtype)
        np.add.at(grad, self.idx.reshape(-1), g.reshape(-1, g.shape[-1]))
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        return (grad,)


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:  # noqa: A002
    """Rows of `weight` (num_embeddings, embedding_dim) picked by the integer `input` (any shape)."""
    idx = _index_array(input, "embedding")
    rows = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= rows):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"embedding: index {int(bad)} is out of range for a table of {rows} rows "
                         f"(valid: 0..{rows - 1})")
    if padding_idx is not None:
        if not -rows <= int(padding_idx) < rows:
            raise ValueError(f"embedding: padding_idx must be within [-{rows}, {rows}), got {padding_idx}")
        padding_idx = int(padding_idx) % rows
    return Embedding.apply(weight, idx=idx, padding_idx=padding_idx)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """(..., ) integer classes -> (..., num_classes) int64 one-hot rows (num_classes=-1: max + 1)."""
    idx = _index_array(tensor, "one_hot")
    if idx.size and idx.min() < 0:
        raise ValueError(f"one_hot: classes must be non-negative, got {int(idx.min())}")
    if num_classes == -1:
        if not idx.size:  # as torch: nothing to infer the class count from
            raise ValueError("one_hot: cannot infer the number of classes from an empty tensor; "
                             "pass num_classes")
        num_classes = int(idx.max()) + 1
    if idx.size and idx.max() >= num_classes:
        raise ValueError(f"one_hot: class {int(idx.max())} does not fit num_classes={num_classes}; "
                         "raise num_classes or pass -1 to infer it")
    out = np.zeros(idx.shape + (int(num_classes),), np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.int64), 1, axis=-1)
    return _make(out, False)

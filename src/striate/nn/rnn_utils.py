"""`nn.utils.rnn`: batches of sequences of unequal length, as in `torch.nn.utils.rnn`.

A PackedSequence stores only the valid frames, time-major: for each step t the samples still
running at t, longest first (`batch_sizes[t]` of them). The recurrent layers accept one and
return their output packed the same way, with each sample's h_n taken at its own last frame
(and the reverse direction starting there), which a zero-padded batch cannot give.

    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)   # x (T, N, *)
    out, h_n = lstm(packed)
    y, lengths = pad_packed_sequence(out)                              # (T, N, *), zeros after
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor, _make
from striate.ops.index import getitem
from striate.ops.shape import cat

__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence", "pad_sequence"]


class PackedSequence(NamedTuple):
    data: Tensor  # (sum of lengths, *)
    batch_sizes: Tensor  # (T,) int64
    sorted_indices: Tensor | None = None  # packed column k is sample sorted_indices[k]
    unsorted_indices: Tensor | None = None


class Scatter(Function):
    """out = zeros(shape) with out[index] = x (each place written once);  dL/dx = g[index]."""

    def forward(self, x, *, shape, index, fill):
        self.index = index
        out = np.full(shape, fill, x.dtype)
        out[index] = x
        return out

    def backward(self, g):
        return (g[self.index],)


def _lengths_array(lengths: Any) -> np.ndarray:
    a = lengths._data if isinstance(lengths, Tensor) else np.asarray(lengths)
    return a.astype(np.int64).reshape(-1)


def _packed_index(lengths_sorted: np.ndarray, sorted_indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(t, n) of every packed row: step by step, the running samples in sorted order."""
    T = int(lengths_sorted[0]) if lengths_sorted.size else 0
    ts, ns = [], []
    for t in range(T):
        running = int((lengths_sorted > t).sum())
        ts.append(np.full(running, t))
        ns.append(sorted_indices[:running])
    if not ts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ts), np.concatenate(ns)


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,  # noqa: A002
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, N, *) batch ((N, T, *) with batch_first) of sequences of `lengths`."""
    lengths = _lengths_array(lengths)
    x = input.transpose(0, 1) if batch_first else input
    T, N = x.shape[0], x.shape[1]
    if lengths.shape != (N,):
        raise ValueError(f"pack_padded_sequence: {lengths.shape[0]} lengths for a batch of {N}")
    if N and (lengths.min() < 1 or lengths.max() > T):
        raise ValueError(f"pack_padded_sequence: lengths must lie in [1, {T}] (the padded length), "
                         f"got {lengths.tolist()}")
    if enforce_sorted:
        if (np.diff(lengths) > 0).any():
            raise ValueError("pack_padded_sequence: lengths must be sorted longest first with "
                             "enforce_sorted=True; pass enforce_sorted=False to sort them")
        sorted_indices = None
        order = np.arange(N)
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = order
    t_idx, n_idx = _packed_index(lengths[order], order)
    batch_sizes = np.array([(lengths > t).sum() for t in range(int(lengths.max(initial=0)))], np.int64)
    data = getitem(x, (t_idx, n_idx))
    if sorted_indices is None:
        return PackedSequence(data, _make(batch_sizes, False))
    return PackedSequence(data, _make(batch_sizes, False), _make(sorted_indices, False),
                          _make(np.argsort(sorted_indices), False))


def _layout(sequence: PackedSequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each sample's length (original order), and the (t, n) place of every packed row."""
    batch_sizes = _lengths_array(sequence.batch_sizes)
    N = int(batch_sizes[0]) if batch_sizes.size else 0
    order = np.arange(N) if sequence.sorted_indices is None else _lengths_array(sequence.sorted_indices)
    lengths_sorted = (batch_sizes[None, :] > np.arange(N)[:, None]).sum(axis=1)
    lengths = np.empty(N, np.int64)
    lengths[order] = lengths_sorted
    t_idx, n_idx = _packed_index(lengths_sorted, order)
    return lengths, t_idx, n_idx


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """(padded (T, N, *) or (N, T, *), lengths) from a PackedSequence, samples in their original order."""
    lengths, t_idx, n_idx = _layout(sequence)
    T = int(lengths.max(initial=0))
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"pad_packed_sequence: total_length={total_length} is shorter than the longest "
                             f"sequence ({T})")
        T = total_length
    data = sequence.data
    shape = (T, lengths.shape[0]) + tuple(data.shape[1:])
    padded = Scatter.apply(data, shape=shape, index=(t_idx, n_idx), fill=padding_value)
    return (padded.transpose(0, 1) if batch_first else padded), _make(lengths, False)


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0) -> Tensor:
    """Stack tensors (L_i, *) into (max L, N, *) (or (N, max L, *)), padded with padding_value."""
    if not sequences:
        raise ValueError("pad_sequence: no sequences given")
    lengths = np.array([s.shape[0] for s in sequences])
    T, N = int(lengths.max()), len(sequences)
    t_idx = np.concatenate([np.arange(n) for n in lengths])
    n_idx = np.repeat(np.arange(N), lengths)
    shape = (T, N) + tuple(sequences[0].shape[1:])
    padded = Scatter.apply(cat(list(sequences), dim=0), shape=shape, index=(t_idx, n_idx), fill=padding_value)
    return padded.transpose(0, 1) if batch_first else padded


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) tensors."""
    return pack_padded_sequence(pad_sequence(sequences), [s.shape[0] for s in sequences],
                                enforce_sorted=enforce_sorted)


def packed_like(data: Tensor, like: PackedSequence) -> PackedSequence:
    """A PackedSequence holding `data` with the layout of `like`."""
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)


def pack_like(padded: Tensor, like: PackedSequence) -> PackedSequence:
    """Pack a time-major (T, N, *) tensor, samples in original order, in the layout of `like`."""
    _, t_idx, n_idx = _layout(like)
    return packed_like(getitem(padded, (t_idx, n_idx)), like)

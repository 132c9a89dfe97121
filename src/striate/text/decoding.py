"""Decoding CTC outputs (per-frame log-probabilities over C classes, one of them blank) into
label sequences.

Greedy (best path): take the most likely class of every frame, merge repeats, drop blanks.

Prefix beam search (Hannun et al. 2014, "First-pass large vocabulary continuous speech
recognition using bi-directional recurrent DNNs"): keep the `beam_width` most likely partial
outputs while walking the frames, summing the probabilities of all alignments that reach the
same output, and optionally adding a language model's score each time a label is appended:

    rank = log p_ctc(prefix) + lm_weight * log p_lm(prefix) + insertion_bonus * len(prefix)

A beam entry here is a (prefix, ends-in-blank) state rather than a prefix alone: the two
ways of ending must be told apart anyway (after a blank, a repeated label is a new label), and
ranking them separately makes beam_width=1 exactly the greedy best path, while a wide beam
sums both states of a prefix at the end, as the classic formulation does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor
from striate.text.lm import BOS, EOS, NGramLM, lm_token


def _frames(log_probs: Any, input_lengths: Any) -> tuple[list[np.ndarray], bool]:
    """(T, N, C) or (T, C) outputs as one (T_n, C) array per sample, and whether it was batched."""
    a = log_probs.detach().numpy() if isinstance(log_probs, Tensor) else np.asarray(log_probs)
    if a.ndim not in (2, 3):
        raise ValueError(f"CTC decoding: expected log-probabilities of shape (T, N, C) or (T, C), "
                         f"got {a.shape}")
    batched = a.ndim == 3
    if not batched:
        a = a[:, None, :]
    T, N, _ = a.shape
    if input_lengths is None:
        lengths = np.full(N, T)
    else:
        lengths = np.asarray(input_lengths.numpy() if isinstance(input_lengths, Tensor) else input_lengths)
        lengths = lengths.reshape(-1).astype(np.int64)
        if lengths.shape != (N,) or (lengths < 0).any() or (lengths > T).any():
            raise ValueError(f"CTC decoding: input_lengths must hold {N} values in [0, {T}], "
                             f"got {lengths.tolist()}")
    return [a[:lengths[n], n] for n in range(N)], batched


def greedy_decode(log_probs: Any, input_lengths: Any = None, blank: int = 0) -> list:
    """Best-path decoding: argmax per frame, repeats merged, blanks dropped.

    Returns a list of labels for a (T, C) input, a list of such lists for (T, N, C).

    >>> import numpy as np
    >>> greedy_decode(np.log(np.eye(4)[[1, 1, 0, 1, 2, 2, 0]] + 1e-9))
    [1, 1, 2]
    """
    frames, batched = _frames(log_probs, input_lengths)
    out = []
    for f in frames:
        best = f.argmax(axis=1)
        keep = np.ones(best.shape, bool)
        keep[1:] = best[1:] != best[:-1]
        out.append([int(c) for c in best[keep & (best != blank)]])
    return out if batched else out[0]


class _LMScorer:
    """lm_weight * log p_lm(label | previous labels), cached by (context, label)."""

    def __init__(self, lm: NGramLM, labels: Sequence[str], weight: float) -> None:
        self.lm, self.labels, self.weight = lm, [lm_token(label) for label in labels], weight
        self.context_size = max(lm.order - 1, 0)

    def _context(self, prefix: tuple[int, ...]) -> tuple[str, ...]:
        tokens = [BOS] + [self.labels[c] for c in prefix[-self.context_size:]] if self.context_size else []
        return tuple(tokens[-self.context_size:]) if self.context_size else ()

    def append(self, prefix: tuple[int, ...], label: int) -> float:
        return self.weight * self.lm.log_prob(self.labels[label], self._context(prefix))

    def end(self, prefix: tuple[int, ...]) -> float:
        return self.weight * self.lm.log_prob(EOS, self._context(prefix))


def ctc_prefix_beam_search(frames: np.ndarray, beam_width: int = 10, blank: int = 0,
                           lm: NGramLM | None = None, labels: Sequence[str] | None = None,
                           lm_weight: float = 0.5, insertion_bonus: float = 0.0,
                           min_log_prob: float = -10.0) -> list[tuple[list[int], float]]:
    """The beam's final hypotheses for one sequence of frames (T, C), best first, as
    (labels, score) with score = log p_ctc + lm_weight * log p_lm (incl. </s>) + bonus * length.

    Classes whose log-probability in a frame is below `min_log_prob` are not tried there (the
    frame's most likely class always is), which keeps long sequences fast.
    """
    if beam_width < 1:
        raise ValueError(f"beam search: beam_width must be at least 1, got {beam_width}")
    scorer = None
    if lm is not None:
        if labels is None:
            raise ValueError("beam search: a language model needs `labels` (the LM token of each class)")
        scorer = _LMScorer(lm, labels, lm_weight)
    frames = np.asarray(frames, np.float64)
    # state (prefix, ends_in_blank) -> [log p_ctc, lm score of prefix]
    beam: dict[tuple[tuple[int, ...], bool], list[float]] = {((), True): [0.0, 0.0]}
    for row in frames:
        tried = np.flatnonzero(row >= min_log_prob)
        if not tried.size or row.argmax() not in tried:
            tried = np.union1d(tried, [row.argmax()])
        tried = [int(c) for c in tried if c != blank]
        candidates: dict[tuple[tuple[int, ...], bool], list[float]] = {}

        def add(key, p, lm_score, candidates=candidates):
            entry = candidates.get(key)
            if entry is None:
                candidates[key] = [p, lm_score]
            else:
                entry[0] = np.logaddexp(entry[0], p)

        for (prefix, ends_blank), (p, lm_score) in beam.items():
            add((prefix, True), p + row[blank], lm_score)
            last = prefix[-1] if prefix else None
            for c in tried:
                if c == last and not ends_blank:
                    add((prefix, False), p + row[c], lm_score)
                else:
                    extra = scorer.append(prefix, c) if scorer else 0.0
                    add((prefix + (c,), False), p + row[c], lm_score + extra)
        ranked = sorted(candidates.items(), key=lambda kv: -(kv[1][0] + kv[1][1]
                                                                 + insertion_bonus * len(kv[0][0])))
        beam = dict(ranked[:beam_width])
    finals: dict[tuple[int, ...], list[float]] = {}
    for (prefix, _), (p, lm_score) in beam.items():
        if prefix in finals:
            finals[prefix][0] = np.logaddexp(finals[prefix][0], p)
        else:
            finals[prefix] = [p, lm_score]
    scored = [(list(prefix), float(p + lm_score + (scorer.end(prefix) if scorer else 0.0)
                                   + insertion_bonus * len(prefix)))
              for prefix, (p, lm_score) in finals.items()]
    scored.sort(key=lambda item: -item[1])
    return scored


def beam_search_decode(log_probs: Any, input_lengths: Any = None, beam_width: int = 10, blank: int = 0,
                       lm: NGramLM | None = None, labels: Sequence[str] | None = None, lm_weight: float = 0.5,
                       insertion_bonus: float = 0.0, min_log_prob: float = -10.0) -> list:
    """The best hypothesis of `ctc_prefix_beam_search` for each sample of (T, N, C) (a list of
    label lists), or for one (T, C) sequence (a list of labels)."""
    frames, batched = _frames(log_probs, input_lengths)
    out = []
    for f in frames:
        hyps = ctc_prefix_beam_search(f, beam_width, blank, lm, labels, lm_weight, insertion_bonus,
                                      min_log_prob)
        out.append(hyps[0][0] if hyps else [])
    return out if batched else out[0]


def labels_to_text(labels: Sequence[int], alphabet: Sequence[str]) -> str:
    """Join the strings of the decoded classes (alphabet[c] for each label c)."""
    return "".join(alphabet[c] for c in labels)


__all__ = ["beam_search_decode", "ctc_prefix_beam_search", "greedy_decode", "labels_to_text"]

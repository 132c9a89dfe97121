"""Greedy and prefix beam-search CTC decoding: beam 1 is the greedy best path, a wide beam finds
the most probable labeling (checked by enumerating every alignment), a language model can
change the decision, and batches with unequal lengths decode each sample on its own frames."""

import itertools

import numpy as np
import pytest

import striate as st
from striate.text import NGramLM, beam_search_decode, ctc_prefix_beam_search, greedy_decode, labels_to_text


def _collapse(path, blank):
    out, prev = [], None
    for c in path:
        if c != prev and c != blank:
            out.append(c)
        prev = c
    return tuple(out)


def _exact_labeling_probs(log_probs, blank):
    """p(labeling) summed over every one of the C^T alignments (tiny T and C only)."""
    T, C = log_probs.shape
    probs = {}
    for path in itertools.product(range(C), repeat=T):
        key = _collapse(path, blank)
        probs[key] = probs.get(key, 0.0) + np.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
    return probs


def _random_emissions(rng, T, N, C, peaky):
    alpha = np.full(C, 0.2 if peaky else 1.0)
    return np.log(rng.dirichlet(alpha, size=(T, N)))


@pytest.mark.parametrize("blank", [0, 4])
@pytest.mark.parametrize("peaky", [True, False])
def test_beam_width_one_is_greedy(blank, peaky):
    rng = np.random.default_rng(blank + 10 * peaky)
    lp = _random_emissions(rng, 40, 16, 5, peaky)
    lengths = rng.integers(0, 41, 16)
    greedy = greedy_decode(lp, lengths, blank=blank)
    assert beam_search_decode(lp, lengths, beam_width=1, blank=blank) == greedy
    assert beam_search_decode(st.from_numpy(lp), beam_width=1, blank=blank) == greedy_decode(lp, blank=blank)


def test_hand_built_emissions_best_labeling_beats_best_path():
    # two frames, P(blank) = 0.6, P(a) = 0.4 each: the best path is blank-blank (""), p = 0.36,
    # but "a" has three alignments (a a, a _, _ a): p = 0.16 + 0.24 + 0.24 = 0.64
    lp = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))
    assert greedy_decode(lp) == []
    hyps = ctc_prefix_beam_search(lp, beam_width=4)
    assert hyps[0][0] == [1] and np.isclose(hyps[0][1], np.log(0.64))
    assert hyps[1][0] == [] and np.isclose(hyps[1][1], np.log(0.36))


@pytest.mark.parametrize("seed", range(4))
def test_wide_beam_finds_most_probable_labeling(seed):
    rng = np.random.default_rng(seed)
    lp = _random_emissions(rng, 6, 1, 3, peaky=False)[:, 0]
    exact = _exact_labeling_probs(lp, blank=0)
    best = max(exact, key=exact.get)
    hyps = ctc_prefix_beam_search(lp, beam_width=1000, min_log_prob=-np.inf)
    assert tuple(hyps[0][0]) == best
    for labels, score in hyps[:10]:  # every score is the labeling's exact log-probability
        assert np.isclose(score, np.log(exact[tuple(labels)]))


def test_language_model_breaks_a_tie(tmp_path):
    alphabet = ["_", "a", "b", "c"]
    # frame 1 surely "a", frame 2 "b" or "c" equally likely, frame 3 blank
    p = np.array([[0.01, 0.97, 0.01, 0.01], [0.02, 0.01, 0.485, 0.485], [0.97, 0.01, 0.01, 0.01]])
    lp = np.log(p)
    lm = NGramLM.fit(["ab ab abab ab", "cab"], order=2)
    lm.to_arpa(tmp_path / "lm.arpa")
    lm = NGramLM.from_arpa(tmp_path / "lm.arpa")
    plain = labels_to_text(beam_search_decode(lp, beam_width=8), alphabet)
    decoded = beam_search_decode(lp, beam_width=8, lm=lm, labels=alphabet, lm_weight=1.0)
    with_lm = labels_to_text(decoded, alphabet)
    assert plain in ("ab", "ac") and with_lm == "ab"
    lm_c = NGramLM.fit(["ac acac ac"], order=2)
    assert labels_to_text(beam_search_decode(lp, beam_width=8, lm=lm_c, labels=alphabet, lm_weight=1.0),
                          alphabet) == "ac"


def test_greedy_on_known_paths_and_errors():
    eye = np.log(np.eye(4) + 1e-12)
    paths = np.stack([eye[[1, 1, 0, 1, 2, 2, 0]], eye[[0, 3, 3, 3, 0, 0, 0]]], axis=1)  # (T, N, C)
    assert greedy_decode(paths) == [[1, 1, 2], [3]]
    assert greedy_decode(paths, input_lengths=[3, 1]) == [[1], []]
    assert beam_search_decode(paths, beam_width=5) == [[1, 1, 2], [3]]
    with pytest.raises(ValueError, match="input_lengths"):
        greedy_decode(paths, input_lengths=[8, 1])
    with pytest.raises(ValueError, match="labels"):
        beam_search_decode(paths, lm=NGramLM.fit(["ab"], order=2))

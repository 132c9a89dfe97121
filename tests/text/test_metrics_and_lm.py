"""CER/WER on hand-made strings, edit distance against a brute-force recursion, and ARPA files:
written, read back, probabilities summing to one, and malformed files named clearly."""

import functools

import numpy as np
import pytest

from striate.text import NGramLM, cer, char_tokens, edit_distance, wer


def _brute_distance(a, b):
    @functools.cache
    def d(i, j):
        if i == 0 or j == 0:
            return i + j
        return min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] != b[j - 1]))

    return d(len(a), len(b))


def test_hand_made_distances_and_rates():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3 and edit_distance("abc", "") == 3 and edit_distance("", "") == 0
    assert edit_distance([1, 2, 3], [1, 3]) == 1
    assert cer("hello world", "hello world") == 0.0
    assert cer("helo wrld", "hello world") == pytest.approx(2 / 11)
    assert cer("", "abcd") == 1.0 and cer("abcdefgh", "abcd") == 1.0  # 4 insertions over 4 characters
    assert cer(["ab", "cd"], ["ab", "ce"]) == pytest.approx(1 / 4)  # corpus rate, not a mean of rates
    assert cer(["a", "xyzw"], ["b", "xyzw"]) == pytest.approx(1 / 5)
    assert wer("the quick brown fox", "the quick brown fox") == 0.0
    assert wer("the quack brown", "the quick brown fox") == pytest.approx(2 / 4)
    assert wer("a b c d e", "a b") == pytest.approx(3 / 2)
    with pytest.raises(ValueError, match="2 predictions for 1"):
        cer(["a", "b"], ["a"])


def test_edit_distance_matches_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(200):
        a = "".join(rng.choice(list("abc"), rng.integers(0, 9)))
        b = "".join(rng.choice(list("abc"), rng.integers(0, 9)))
        assert edit_distance(a, b) == _brute_distance(a, b), (a, b)


HAND_ARPA = """\\data\\
ngram 1=4
ngram 2=2

\\1-grams:
-0.5\t<s>\t-0.3
-0.4\ta\t-0.2
-0.6\tb
-1.0\t</s>

\\2-grams:
-0.1\t<s> a
-0.2\ta b

\\end\\
"""


def test_hand_written_arpa_backoff(tmp_path):
    path = tmp_path / "hand.arpa"
    path.write_text(HAND_ARPA)
    lm = NGramLM.from_arpa(path)
    ln10 = np.log(10)
    assert lm.order == 2
    assert lm.log_prob("a", ["<s>"]) == pytest.approx(-0.1 * ln10)  # listed bigram
    assert lm.log_prob("b", ["a"]) == pytest.approx(-0.2 * ln10)
    assert lm.log_prob("b", ["<s>"]) == pytest.approx((-0.3 - 0.6) * ln10)  # back-off(<s>) + p(b)
    assert lm.log_prob("</s>", ["b"]) == pytest.approx(-1.0 * ln10)  # b has no back-off weight: 0
    assert lm.score(["a", "b"]) == pytest.approx((-0.1 - 0.2 - 1.0) * ln10)  # <s> a b </s>


def test_fit_round_trip_and_normalisation(tmp_path):
    texts = ["the cat sat", "the dog sat on the mat", "a cat and a dog"]
    lm = NGramLM.fit(texts, order=3)
    lm.to_arpa(tmp_path / "c.arpa")
    back = NGramLM.from_arpa(tmp_path / "c.arpa")
    vocab = sorted(back.vocab - {"<s>"})
    for context in [("<s>",), ("t", "h"), ("<space>", "c"), ("q", "q"), ()]:
        assert sum(np.exp(back.log_prob(w, context)) for w in vocab) == pytest.approx(1, abs=1e-5)
    assert back.score(char_tokens("the cat")) == pytest.approx(lm.score(char_tokens("the cat")), abs=1e-4)
    assert back.score(char_tokens("the cat")) > back.score(char_tokens("tqe xat"))


@pytest.mark.parametrize("text,match", [
    ("hello\n", "no \\\\data\\\\ header"),
    (HAND_ARPA.replace("ngram 2=2", "ngram 2=3"), "declares 3 2-grams but the file lists 2"),
    (HAND_ARPA.replace("-0.2\ta b", "oops\ta b"), "malformed 2-gram line"),
    (HAND_ARPA.replace("-0.2\ta b", "-0.2\ta"), "expected 2 tokens"),
])
def test_malformed_arpa_names_the_problem(tmp_path, text, match):
    path = tmp_path / "bad.arpa"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        NGramLM.from_arpa(path)


def test_missing_arpa_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no ARPA file"):
        NGramLM.from_arpa(tmp_path / "none.arpa")

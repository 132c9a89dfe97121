"""Back-off n-gram language models in the ARPA format (character models for CTC beam search).

An ARPA file lists, per order n, lines `log10 p(w | h)  h w  [log10 backoff(h w)]`. Unseen
n-grams back off (Katz):

    log p(w | h) = log p*(w | h)                       if the n-gram h w is listed
                 = backoff(h) + log p(w | h[1:])       otherwise (backoff(h) = 0 if h is not listed)

`NGramLM.fit` estimates such a model from text with absolute discounting (each seen n-gram gives
up D counts; the freed mass goes to the lower order through the back-off weights, so each
conditional distribution sums to 1) and `to_arpa` writes it, so a character LM can be built
from a corpus (e.g. the training prompts) and read back by any ARPA reader, KenLM included.
"""

from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence

from striate.io_atomic import atomic_write_text

BOS, EOS, UNK, SPACE = "<s>", "</s>", "<unk>", "<space>"
_LN10 = math.log(10.0)


def lm_token(label: str) -> str:
    """The ARPA token of a character: tokens are whitespace-separated, so " " is <space>."""
    return SPACE if label == " " else label


def char_tokens(text: str) -> list[str]:
    """A text as character tokens (spaces as <space>), the default tokenizer of `NGramLM.fit`."""
    return [lm_token(ch) for ch in text]


class NGramLM:
    """A back-off n-gram model: `ngrams[(w1, ..., wn)] = (log10 p, log10 backoff)`."""

    def __init__(self, ngrams: dict[tuple[str, ...], tuple[float, float]], unk_log10: float = -10.0) -> None:
        if not ngrams:
            raise ValueError("NGramLM: the model has no n-grams")
        self.ngrams = ngrams
        self.order = max(len(k) for k in ngrams)
        self.unk_log10 = ngrams[(UNK,)][0] if (UNK,) in ngrams else unk_log10
        self._cache: dict[tuple[tuple[str, ...], str], float] = {}

    @property
    def vocab(self) -> set[str]:
        return {k[0] for k in self.ngrams if len(k) == 1}

    def log_prob(self, token: str, context: Sequence[str] = ()) -> float:
        """Natural-log p(token | context); only the last order - 1 context tokens count."""
        h = tuple(context)[len(context) - self.order + 1:] if self.order > 1 else ()
        key = (h, token)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._log10(token, h) * _LN10
        return cached

    def _log10(self, token: str, h: tuple[str, ...]) -> float:
        total = 0.0
        while True:
            entry = self.ngrams.get(h + (token,))
            if entry is not None:
                return total + entry[0]
            if not h:
                return total + self.unk_log10
            total += self.ngrams.get(h, (0.0, 0.0))[1]
            h = h[1:]

    def score(self, tokens: Iterable[str], bos: bool = True, eos: bool = True) -> float:
        """Natural-log probability of a whole token sequence (with <s> ... </s> by default)."""
        context = [BOS] if bos else []
        total = 0.0
        for tok in list(tokens) + ([EOS] if eos else []):
            total += self.log_prob(tok, context)
            context.append(tok)
        return total

    @classmethod
    def fit(cls, texts: Iterable[str], order: int = 3, discount: float = 0.5,
            tokenize: Callable[[str], Sequence[str]] = char_tokens) -> NGramLM:
        """Estimate an `order`-gram model (characters by default) with absolute discounting."""
        if order < 1 or not 0 < discount < 1:
            raise ValueError(f"NGramLM.fit: need order >= 1 and 0 < discount < 1, got {order}, {discount}")
        counts: list[Counter] = [Counter() for _ in range(order + 1)]
        for text in texts:
            seq = [BOS, *tokenize(text), EOS]
            for n in range(1, order + 1):
                for i in range(len(seq) - n + 1):
                    gram = tuple(seq[i:i + n])
                    if gram != (BOS,):
                        counts[n][gram] += 1
        if not counts[1]:
            raise ValueError("NGramLM.fit: no text to learn from")
        vocab = sorted(k[0] for k in counts[1]) + [UNK]
        unigram_total = sum(counts[1].values()) + len(vocab)  # add-one over the vocabulary and <unk>
        ngrams = {(w,): (math.log10((counts[1][(w,)] + 1) / unigram_total), 0.0) for w in vocab}
        ngrams[(BOS,)] = (-99.0, 0.0)  # <s> is never predicted, only a context
        model = cls(ngrams)
        for n in range(2, order + 1):
            by_context: dict[tuple[str, ...], dict[str, int]] = defaultdict(dict)
            for gram, c in counts[n].items():
                by_context[gram[:-1]][gram[-1]] = c
            for h, followers in by_context.items():
                total = sum(followers.values())
                seen = {w: (c - discount) / total for w, c in followers.items()}
                lower = sum(10 ** model._log10(w, h[1:]) for w in seen)
                left, lower_left = 1 - sum(seen.values()), 1 - lower
                bow = math.log10(left / lower_left) if lower_left > 1e-12 else -99.0
                lp, _ = ngrams.get(h, (-99.0, 0.0))
                ngrams[h] = (lp, bow)
                for w, p in seen.items():
                    ngrams[h + (w,)] = (math.log10(p), 0.0)
            model = cls(ngrams)
        return model

    def to_arpa(self, path: str | os.PathLike) -> None:
        """Write the model as an ARPA file (atomically)."""
        by_order: dict[int, list] = defaultdict(list)
        for gram, (lp, bow) in sorted(self.ngrams.items()):
            if any(not tok or tok.split() != [tok] for tok in gram):
                raise ValueError(f"NGramLM.to_arpa: token {gram!r} is empty or holds whitespace, which ARPA "
                                 "cannot store; map it (e.g. ' ' to <space> with lm_token)")
            by_order[len(gram)].append((gram, lp, bow))
        lines = ["\\data\\"] + [f"ngram {n}={len(by_order[n])}" for n in sorted(by_order)]
        for n in sorted(by_order):
            lines += ["", f"\\{n}-grams:"]
            for gram, lp, bow in by_order[n]:
                tail = f"\t{bow:.6f}" if n < self.order else ""
                lines.append(f"{lp:.6f}\t{' '.join(gram)}{tail}")
        lines += ["", "\\end\\", ""]
        atomic_write_text(path, "\n".join(lines))

    @classmethod
    def from_arpa(cls, path: str | os.PathLike) -> NGramLM:
        """Read an ARPA file; a malformed file raises ValueError naming the line."""
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            raise FileNotFoundError(f"NGramLM.from_arpa: no ARPA file at {path}") from None
        except UnicodeDecodeError:
            raise ValueError(f"NGramLM.from_arpa: {path} is not a UTF-8 text (ARPA) file") from None
        return cls(_parse_arpa(lines, str(path)))


def _parse_arpa(lines: list[str], where: str) -> dict[tuple[str, ...], tuple[float, float]]:
    stripped = [ln.strip() for ln in lines]
    if "\\data\\" not in stripped:
        raise ValueError(f"{where}: not an ARPA file (no \\data\\ header)")
    declared: dict[int, int] = {}
    ngrams: dict[tuple[str, ...], tuple[float, float]] = {}
    found: Counter = Counter()
    section = 0
    for number, line in enumerate(stripped, start=1):
        if not line or line == "\\data\\":
            continue
        if line == "\\end\\":
            break
        if line.startswith("ngram ") and section == 0:
            n, _, count = line[6:].partition("=")
            declared[int(n)] = int(count)
        elif line.startswith("\\") and line.endswith("-grams:"):
            section = int(line[1:line.index("-")])
        elif section:
            parts = line.split()
            try:
                lp = float(parts[0])
                gram = tuple(parts[1:1 + section])
                bow = float(parts[1 + section]) if len(parts) > 1 + section else 0.0
            except (ValueError, IndexError):
                raise ValueError(f"{where}:{number}: malformed {section}-gram line {line!r}") from None
            if len(gram) != section or len(parts) > 2 + section:
                raise ValueError(f"{where}:{number}: expected {section} tokens in {line!r}")
            ngrams[gram] = (lp, bow)
            found[section] += 1
        else:
            raise ValueError(f"{where}:{number}: unexpected line {line!r}")
    for n, count in declared.items():
        if found[n] != count:
            raise ValueError(f"{where}: the header declares {count} {n}-grams but the file lists {found[n]} "
                             "(truncated or edited file?)")
    return ngrams

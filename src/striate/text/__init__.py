"""Sequence outputs to text and scores: CTC decoding (greedy best path, prefix beam search with
an optional character n-gram language model read from an ARPA file) and error rates (CER, WER).

Plain NumPy and Python on the network's outputs, no autograd: it sits beside `st.train` (which
evaluates with it) rather than inside `st.nn`, and any model that ends in per-frame
log-probabilities (the sEMG decoders, speech, handwriting) can use it.
"""

from striate.text.decoding import beam_search_decode, ctc_prefix_beam_search, greedy_decode, labels_to_text
from striate.text.lm import NGramLM, char_tokens, lm_token
from striate.text.metrics import cer, edit_distance, wer

__all__ = ["NGramLM", "beam_search_decode", "cer", "char_tokens", "ctc_prefix_beam_search", "edit_distance",
           "greedy_decode", "labels_to_text", "lm_token", "wer"]

"""Bad input to the engine gets a clear exception naming the problem (and the shapes), never a
NumPy traceback from deep inside nor a silent wrong answer."""

from __future__ import annotations

import numpy as np
import pytest

import striate as st
import striate.nn.functional as F

CASES = [
    # (description, call, exception, regex the message must match)
    ("broadcast add", lambda: st.zeros(2, 3) + st.zeros(4), ValueError, r"add: shapes \(2, 3\) and \(4,\)"),
    ("broadcast mul", lambda: st.zeros(2, 3) * st.zeros(2, 4), ValueError,
     r"mul: shapes \(2, 3\) and \(2, 4\)"),
    ("broadcast div", lambda: st.ones(3) / st.ones(2), ValueError, r"div: shapes \(3,\) and \(2,\)"),
    ("broadcast maximum", lambda: st.maximum(st.ones(3), st.ones(2)), ValueError, r"maximum: shapes"),
    ("broadcast where", lambda: st.where(st.ones(3) > 0, st.ones(2), st.ones(3)), ValueError,
     r"where: condition \(3,\), x \(2,\) and y \(3,\)"),
    ("matmul inner", lambda: st.zeros(2, 3) @ st.zeros(4, 5), ValueError,
     r"matmul: shapes \(2, 3\) and \(4, 5\) do not fit.*\(3\).*\(4\)"),
    ("matmul vector", lambda: st.zeros(3) @ st.zeros(4), ValueError, r"matmul: shapes \(3,\) and \(4,\)"),
    ("matmul batch", lambda: st.zeros(2, 2, 3) @ st.zeros(3, 3, 5), ValueError,
     r"batch dimensions of \(2, 2, 3\) and \(3, 3, 5\)"),
    ("matmul 0-d", lambda: st.zeros(2, 3) @ st.tensor(2.0), ValueError, "at least one dimension"),
    ("linear", lambda: F.linear(st.zeros(2, 3), st.zeros(4, 5)), ValueError,
     r"input of shape \(2, 3\) does not fit weight \(4, 5\)"),
    ("linear bias", lambda: F.linear(st.zeros(2, 3), st.zeros(4, 3), st.zeros(3)), ValueError,
     r"bias shape \(3,\) must be \(4,\)"),
    ("reshape", lambda: st.zeros(2, 3).reshape(4, 2), ValueError,
     r"shape \(2, 3\) \(6 elements\) into \(4, 2\)"),
    ("view two -1", lambda: st.zeros(6).view(-1, -1), ValueError, r"into \(-1, -1\)"),
    ("reshape -1 no fit", lambda: st.zeros(7).reshape(-1, 2), ValueError,
     r"\(7,\) \(7 elements\) into \(-1, 2\)"),
    ("reshape float size", lambda: st.zeros(6).reshape(2.0, 3), TypeError, "sizes must be integers"),
    ("transpose dim", lambda: st.zeros(2, 3).transpose(0, 2), IndexError,
     "transpose: dimension 2 is out of range"),
    ("permute repeat", lambda: st.zeros(2, 3).permute(0, 0), ValueError, "not a permutation"),
    ("permute count", lambda: st.zeros(2, 3).permute(0, 1, 2), ValueError, r"3 dims given for a 2-d tensor"),
    ("squeeze dim", lambda: st.zeros(2, 1).squeeze(3), IndexError, "squeeze: dimension 3"),
    ("unsqueeze dim", lambda: st.zeros(2, 1).unsqueeze(4), IndexError, "unsqueeze: dimension 4"),
    ("flatten order", lambda: st.zeros(2, 3, 4).flatten(2, 1), ValueError,
     "start_dim 2 comes after end_dim 1"),
    ("expand", lambda: st.zeros(2, 3).expand(4, 3), ValueError, "dimension 0 of size 2 cannot expand to 4"),
    ("expand fewer", lambda: st.zeros(2, 3).expand(3), ValueError,
     r"1 sizes given for a tensor of shape \(2, 3\)"),
    ("repeat fewer", lambda: st.zeros(2, 3).repeat(2), ValueError,
     r"at least 2 repeat counts for shape \(2, 3\)"),
    ("cat shapes", lambda: st.cat([st.zeros(2, 3), st.zeros(2, 4)]), ValueError,
     r"cat: tensors of shapes \(2, 3\) and \(2, 4\) do not fit"),
    ("cat empty list", lambda: st.cat([]), ValueError, "non-empty sequence"),
    ("stack shapes", lambda: st.stack([st.zeros(2), st.zeros(3)]), ValueError, r"\(2,\) and \(3,\)"),
    ("split zero", lambda: st.zeros(4).split(0), ValueError, "split_size must be a positive integer"),
    ("split sizes", lambda: st.zeros(4).split([1, 2]), ValueError, r"sizes \[1, 2\] must .* add up to 4"),
    ("chunk zero", lambda: st.zeros(4).chunk(0), ValueError, "chunks must be a positive integer"),
    ("sum dim range", lambda: st.zeros(2, 3).sum(2), IndexError, "sum: dimension 2 is out of range"),
    ("sum dim type", lambda: st.zeros(2, 3).sum(1.5), TypeError, "dim must be an int or a tuple"),
    ("sum dim twice", lambda: st.zeros(2, 3).sum((1, -1)), ValueError, "appears more than once"),
    ("mean int", lambda: st.arange(3).mean(), TypeError, "floating point"),
    ("max empty", lambda: st.zeros(0).max(), ValueError, r"empty dimension of a tensor of shape \(0,\)"),
    ("max dim empty", lambda: st.zeros(2, 0).max(1), ValueError, r"shape \(2, 0\): dimension 1 has size 0"),
    ("max tuple dim", lambda: st.zeros(2, 3).max((0, 1)), TypeError, "use amax/amin"),
    ("argmax empty", lambda: st.zeros(0).argmax(), ValueError, "empty"),
    ("softmax dim", lambda: F.softmax(st.zeros(3), 2), IndexError, "softmax: dim 2 out of range"),
    ("index range", lambda: st.zeros(3)[5], IndexError, r"index 5 does not fit a tensor of shape \(3,\)"),
    ("index float", lambda: st.zeros(3)[st.tensor([0.0])], IndexError, "must be integer or bool"),
    ("mask shape", lambda: st.zeros(3)[st.tensor([True, False])], IndexError, r"shape \(3,\)"),
    ("gather rank", lambda: st.zeros(2, 3).gather(1, st.tensor([0, 1])), ValueError,
     r"index has 1 dimensions \(shape \(2,\)\) but input has 2"),
    ("gather range", lambda: st.zeros(2, 3).gather(1, st.tensor([[3]])), IndexError, r"must be in \[0, 3\)"),
    ("gather too big", lambda: st.zeros(2, 3).gather(1, st.tensor([[0], [0], [0]])), ValueError,
     r"index shape \(3, 1\) is larger than input shape \(2, 3\) in dimension 0"),
    ("gather float index", lambda: st.zeros(2, 3).gather(1, st.tensor([[0.0]])), TypeError, "integer"),
    ("clamp nothing", lambda: st.zeros(3).clamp(), ValueError, "at least one of min and max"),
    ("item", lambda: st.zeros(3).item(), ValueError, r"shape \(3,\)"),
    ("bool ambiguous", lambda: bool(st.zeros(3)), RuntimeError, "ambiguous"),
    ("len 0-d", lambda: len(st.tensor(1.0)), TypeError, "0-d"),
    ("ragged data", lambda: st.tensor([[1.0, 2.0], [3.0]]), ValueError, "unequal lengths"),
    ("string data", lambda: st.tensor(["a"]), TypeError, "cannot make a tensor"),
    ("negative size", lambda: st.zeros(2, -1), ValueError,
     r"zeros: sizes must be non-negative, got \(2, -1\)"),
    ("randn size", lambda: st.randn(-3), ValueError, "randn: sizes must be non-negative"),
    ("ce class range", lambda: F.cross_entropy(st.zeros(2, 3), st.tensor([0, 3])), IndexError,
     r"target class 3 is out of range for 3 classes"),
    ("ce target shape", lambda: F.cross_entropy(st.zeros(2, 3), st.tensor([0, 1, 2])), ValueError,
     r"target shape \(3,\) does not fit input \(2, 3\)"),
    ("ce prob shape", lambda: F.cross_entropy(st.zeros(2, 3), st.zeros(2)), ValueError,
     r"probability targets must have the input's shape \(2, 3\)"),
    ("ce weight", lambda: F.cross_entropy(st.zeros(2, 3), st.tensor([0, 1]), weight=st.ones(2)), ValueError,
     r"one entry per class \(3,\)"),
    ("ce reduction", lambda: F.cross_entropy(st.zeros(2, 3), st.tensor([0, 1]), reduction="avg"), ValueError,
     "reduction must be one of"),
    ("ce smoothing", lambda: F.cross_entropy(st.zeros(2, 3), st.tensor([0, 1]), label_smoothing=1.5),
     ValueError, "label_smoothing must be in"),
    ("nll target dtype", lambda: F.nll_loss(st.zeros(2, 3), st.tensor([0.0, 1.0])), TypeError,
     "class-index targets must be integers"),
    ("mse shapes", lambda: F.mse_loss(st.zeros(2, 3), st.zeros(3)), ValueError,
     r"input shape \(2, 3\) and target shape \(3,\) differ"),
    ("bce shapes", lambda: F.binary_cross_entropy_with_logits(st.zeros(2), st.zeros(3)), ValueError,
     r"target shape \(3,\) must equal input shape \(2,\)"),
    ("backward non-scalar", lambda: (st.ones(2, 2, requires_grad=True) * 2).backward(), RuntimeError,
     r"non-scalar output of shape \(2, 2\)"),
    ("int requires grad", lambda: st.tensor([1, 2], requires_grad=True), RuntimeError, "int64"),
    ("in-place on expanded view", lambda: st.zeros(3, 1).expand(3, 4).add_(1), RuntimeError,
     "more than one element of the written-to tensor refers to a single memory location"),
]


@pytest.mark.parametrize("call, exc, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_clear_error(call, exc, pattern) -> None:
    with pytest.raises(exc, match=pattern) as info:
        call()
    # the message is ours: no NumPy-internal wording leaks as the whole message
    assert "operands could not be broadcast" not in str(info.value)
    assert info.value.__cause__ is None or not isinstance(info.value.__cause__, np.exceptions.AxisError)


def test_failed_op_leaves_grad_mode_and_operands_untouched() -> None:
    x = st.ones(2, 3, requires_grad=True)
    with pytest.raises(ValueError):
        x @ st.ones(4, 2)
    with pytest.raises(ValueError), st.no_grad():
        x.reshape(5)
    assert st.is_grad_enabled() and x.grad is None and x.shape == (2, 3)

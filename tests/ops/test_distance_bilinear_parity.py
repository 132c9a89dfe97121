"""cosine_similarity (PyTorch's eps rule), pairwise_distance and bilinear against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import striate as st
import striate.nn.functional as F
from harness import OpCase, check_case


def _pair(a, b, scale_b=1.0):
    return lambda rng: [rng.standard_normal(a), scale_b * rng.standard_normal(b)]


def _tiny_rows(rng):
    """Rows whose norms are below eps (and one exactly zero): the floor decides the value."""
    x1 = rng.standard_normal((4, 3))
    x2 = rng.standard_normal((4, 3))
    x1[0] *= 1e-10
    x2[1] *= 1e-12
    x1[2] = 0.0
    return [x1, x2]


COSINE_ROWS = [
    OpCase(
        f"cosine_{a}_{b}_dim{d}",
        _pair(a, b),
        lambda x, y, d=d: F.cosine_similarity(x, y, d),
        lambda x, y, d=d: TF.cosine_similarity(x, y, d),
    )
    for a, b, d in [
        ((5, 4), (5, 4), 1),
        ((2, 3, 4), (2, 3, 4), -1),
        ((2, 3, 4), (3, 1), 1),
        ((6,), (6,), 0),
        ((3, 1, 4), (1, 5, 4), 2),
    ]
] + [
    OpCase("cosine_tiny_norms", _tiny_rows, F.cosine_similarity, TF.cosine_similarity, gradcheck=False),
    OpCase(
        "cosine_eps_large",
        _pair((4, 3), (4, 3), 0.01),
        lambda x, y: F.cosine_similarity(x, y, eps=0.5),
        lambda x, y: TF.cosine_similarity(x, y, eps=0.5),
        gradcheck=False,
    ),  # where the floor is active PyTorch's gradient ignores it (by design),
    # so finite differences disagree; parity above checks torch's numbers
]

PAIRWISE_ROWS = [
    OpCase(
        f"pairwise_{a}_{b}_p{p}_{k}",
        _pair(a, b),
        lambda x, y, p=p, k=k: F.pairwise_distance(x, y, p, keepdim=k),
        lambda x, y, p=p, k=k: TF.pairwise_distance(x, y, p, keepdim=k),
    )
    for a, b, p, k in [
        ((5, 4), (5, 4), 2.0, False),
        ((5, 4), (4,), 1.0, True),
        ((2, 3, 4), (2, 3, 4), 3.0, False),
        ((5, 4), (5, 4), 0.5, False),
        ((6,), (6,), 2.0, True),
    ]
] + [
    OpCase(
        "pairwise_inf",
        _pair((5, 4), (5, 4)),
        lambda x, y: F.pairwise_distance(x, y, float("inf")),
        lambda x, y: TF.pairwise_distance(x, y, float("inf")),
    ),
    OpCase(
        "pairwise_equal_rows",
        lambda rng: [np.ones((3, 4))] * 2,
        F.pairwise_distance,
        TF.pairwise_distance,
        gradcheck=False,
    ),  # eps = 1e-6 is the finite-difference step's size
]


def _bilinear_inputs(lead, i, j, o, bias=True):
    def inputs(rng):
        arrays = [
            rng.standard_normal(lead + (i,)),
            rng.standard_normal(lead + (j,)),
            rng.standard_normal((o, i, j)),
        ]
        return arrays + [rng.standard_normal(o)] if bias else arrays

    return inputs


BILINEAR_ROWS = [
    OpCase("bilinear_5x3x4_to_2", _bilinear_inputs((5,), 3, 4, 2), F.bilinear, TF.bilinear),
    OpCase("bilinear_nobias_batch2x3", _bilinear_inputs((2, 3), 4, 2, 3, False), F.bilinear, TF.bilinear),
    OpCase("bilinear_unbatched", _bilinear_inputs((), 3, 3, 2), F.bilinear, TF.bilinear),
    OpCase(
        "bilinear_wide",
        _bilinear_inputs((16,), 20, 12, 8),
        F.bilinear,
        TF.bilinear,
        small_inputs=_bilinear_inputs((2,), 3, 4, 2),
    ),
]


@pytest.mark.parametrize("case", COSINE_ROWS + PAIRWISE_ROWS + BILINEAR_ROWS, ids=str)
def test_distance_parity(case):
    check_case(case)


def test_cosine_eps_rule_values():
    # each norm is floored separately (not the product): a zero vector gives 0, not nan
    x = st.tensor([[0.0, 0.0], [3.0, 4.0]])
    y = st.tensor([[1.0, 0.0], [3.0, 4.0]])
    assert F.cosine_similarity(x, y).tolist() == pytest.approx([0.0, 1.0])
    small = st.tensor([[1e-9, 0.0]])
    ref = TF.cosine_similarity(torch.tensor([[1e-9, 0.0]]), torch.tensor([[1.0, 0.0]]))
    assert F.cosine_similarity(small, st.tensor([[1.0, 0.0]])).tolist() == pytest.approx(ref.tolist())


def test_layers_match_functional_and_torch_repr():
    x1, x2 = st.randn(4, 5), st.randn(4, 5)
    assert np.allclose(st.nn.CosineSimilarity(dim=1)(x1, x2).numpy(), F.cosine_similarity(x1, x2).numpy())
    assert np.allclose(
        st.nn.PairwiseDistance(p=1.0)(x1, x2).numpy(), F.pairwise_distance(x1, x2, 1.0).numpy()
    )
    assert repr(st.nn.CosineSimilarity()) == repr(torch.nn.CosineSimilarity())
    assert repr(st.nn.PairwiseDistance()) == repr(torch.nn.PairwiseDistance())
    assert repr(st.nn.Bilinear(2, 3, 4, bias=False)) == repr(torch.nn.Bilinear(2, 3, 4, bias=False))


def test_bilinear_default_init_matches_torch_after_seed():
    torch.manual_seed(7)
    st.manual_seed(7)
    ours, theirs = st.nn.Bilinear(5, 3, 4), torch.nn.Bilinear(5, 3, 4)
    assert np.array_equal(ours.weight.numpy(), theirs.weight.detach().numpy())
    assert np.array_equal(ours.bias.numpy(), theirs.bias.detach().numpy())
    x1, x2 = (
        np.random.default_rng(0).standard_normal((2, 6, 5)).astype(np.float32)[0],
        np.random.default_rng(1).standard_normal((6, 3)).astype(np.float32),
    )
    out = ours(st.tensor(x1), st.tensor(x2)).numpy()
    ref = theirs(torch.tensor(x1), torch.tensor(x2)).detach().numpy()
    assert np.allclose(out, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.cosine_similarity(st.randn(3, 4), st.randn(2, 4)), "do not broadcast"),
        (lambda: F.cosine_similarity(st.randn(3, 4), st.randn(3, 4), dim=2), "dim 2 is out of range"),
        (lambda: F.cosine_similarity(st.randn(3, 4), st.randn(3, 4).double()), "same dtype"),
        (lambda: F.pairwise_distance(st.tensor(1.0), st.tensor(2.0)), "at least one dimension"),
        (lambda: F.bilinear(st.randn(2, 3), st.randn(2, 4), st.randn(5, 4, 4)), "in1_features=4"),
        (lambda: F.bilinear(st.randn(2, 3), st.randn(3, 4), st.randn(5, 3, 4)), "same leading"),
        (lambda: F.bilinear(st.randn(2, 3), st.randn(2, 4), st.randn(3, 4)), "must be 3-D"),
    ],
)
def test_clear_errors(call, message):
    with pytest.raises((ValueError, TypeError, IndexError)) as err:
        call()
    assert message in str(err.value)

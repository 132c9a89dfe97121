"""LayerNorm, Embedding and one_hot against PyTorch (forward, backward, float64 gradcheck)."""

import numpy as np
import pytest
import torch

import striate as st
import striate.nn as nn
import striate.nn.functional as F
from harness import OpCase, assert_close, check_case

LN_ROWS = [
    OpCase("ln_last_dim",
           lambda r: [r.standard_normal((4, 7)) * 3 + 1, r.standard_normal(7), r.standard_normal(7)],
           lambda x, w, b: F.layer_norm(x, 7, w, b),
           lambda x, w, b: torch.nn.functional.layer_norm(x, (7,), w, b)),
    OpCase("ln_two_dims_seq", lambda r: [r.standard_normal((2, 3, 4, 5)), r.standard_normal((4, 5)),
                                          r.standard_normal((4, 5))],
           lambda x, w, b: F.layer_norm(x, (4, 5), w, b, eps=1e-3),
           lambda x, w, b: torch.nn.functional.layer_norm(x, (4, 5), w, b, eps=1e-3)),
    OpCase("ln_no_affine", lambda r: [r.standard_normal((3, 2, 6)) * 100],
           lambda x: F.layer_norm(x, [6]), lambda x: torch.nn.functional.layer_norm(x, [6])),
    OpCase("ln_weight_only", lambda r: [r.standard_normal((5, 8)), r.standard_normal(8)],
           lambda x, w: F.layer_norm(x, 8, w), lambda x, w: torch.nn.functional.layer_norm(x, (8,), w)),
    OpCase("ln_wide_d",
           lambda r: [r.standard_normal((3, 768)) + 5, r.standard_normal(768), r.standard_normal(768)],
           lambda x, w, b: F.layer_norm(x, x.shape[-1], w, b),
           lambda x, w, b: torch.nn.functional.layer_norm(x, x.shape[-1:], w, b),
           small_inputs=lambda r: [r.standard_normal((2, 6)), r.standard_normal(6), r.standard_normal(6)]),
]

IDX = np.array([[0, 3, 3, 1], [4, 0, 2, 3]])
EMB_ROWS = [
    OpCase("embedding_repeats", lambda r: [r.standard_normal((5, 3))],
           lambda w: F.embedding(st.tensor(IDX), w),
           lambda w: torch.nn.functional.embedding(torch.tensor(IDX), w)),
    OpCase("embedding_padding_idx", lambda r: [r.standard_normal((5, 3))],
           lambda w: F.embedding(st.tensor(IDX), w, padding_idx=3),
           lambda w: torch.nn.functional.embedding(torch.tensor(IDX), w, padding_idx=3),
           gradcheck=False,
           notes="the padding row gets no gradient by definition (finite differences differ)"),
]


@pytest.mark.parametrize("case", LN_ROWS + EMB_ROWS, ids=str)
def test_functional_matches_torch(case):
    check_case(case)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", [
    lambda L: L.LayerNorm(6), lambda L: L.LayerNorm([3, 6], bias=False),
    lambda L: L.LayerNorm(6, elementwise_affine=False), lambda L: L.Embedding(7, 4, padding_idx=-1)])
def test_layer_matches_torch(make, dtype):
    torch.manual_seed(0)
    t_mod = make(torch.nn).to(torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        for p in t_mod.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # non-trivial affine parameters
    s_mod = make(nn).to(dtype)
    assert list(s_mod.state_dict()) == list(t_mod.state_dict())
    s_mod.load_state_dict({k: v.numpy() for k, v in t_mod.state_dict().items()})
    if isinstance(t_mod, torch.nn.Embedding):
        x_np = np.array([[0, 6, 2], [6, 1, 1]])
        xs, xt = st.tensor(x_np), torch.tensor(x_np)
    else:
        x_np = np.random.default_rng(1).standard_normal((2, 4, 3, 6)).astype(dtype)
        xs, xt = st.from_numpy(x_np).requires_grad_(True), torch.tensor(x_np, requires_grad=True)
    ys, yt = s_mod(xs), t_mod(xt)
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    assert_close(ys.numpy(), yt.detach().numpy(), rtol, "forward")
    w = np.random.default_rng(2).standard_normal(yt.shape).astype(dtype)
    (ys * st.from_numpy(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    if xt.requires_grad:
        assert_close(xs.grad.numpy(), xt.grad.numpy(), rtol, "d/dx")
    for (name, ps), pt in zip(s_mod.named_parameters(), t_mod.parameters()):
        assert_close(ps.grad.numpy(), pt.grad.numpy(), rtol, f"d/d{name}")


def test_embedding_defaults_and_from_pretrained():
    st.manual_seed(0)
    e = nn.Embedding(1000, 8, padding_idx=2)
    w = e.weight.numpy()
    assert np.all(w[2] == 0) and abs(w.std() - 1) < 0.05  # N(0, 1) rows, padding row zero
    frozen = nn.Embedding.from_pretrained(st.tensor(np.eye(3)))
    assert not frozen.weight.requires_grad
    assert np.array_equal(frozen(st.tensor([2, 0])).numpy(), np.eye(3)[[2, 0]])


def test_one_hot_matches_torch():
    x = np.array([[0, 2], [4, 1]])
    for n in (-1, 6):
        a = F.one_hot(st.tensor(x), n)
        b = torch.nn.functional.one_hot(torch.tensor(x), n)
        assert a.dtype == np.int64 and np.array_equal(a.numpy(), b.numpy())


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="normalized_shape"):
        F.layer_norm(st.randn(2, 5), 4)
    with pytest.raises(IndexError, match="out of range"):
        F.embedding(st.tensor([0, 9]), st.randn(5, 2))
    with pytest.raises(TypeError, match="integer"):
        F.embedding(st.tensor([0.0, 1.0]), st.randn(5, 2))
    with pytest.raises(ValueError, match="num_classes"):
        F.one_hot(st.tensor([0, 5]), 3)

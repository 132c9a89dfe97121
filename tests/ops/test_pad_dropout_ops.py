"""F.pad (constant / reflect / replicate / circular) against PyTorch, and dropout / dropout2d
(inverted scaling, seeded masks, whole-channel drops, backward through the same mask)."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as TF

import striate as st
import striate.nn.functional as F
from harness import OpCase, check_case


def _pad_row(shape, pad, mode, value=None):
    kwargs = {"mode": mode} if value is None else {"mode": mode, "value": value}
    return OpCase(
        name=f"pad_{mode}_{shape}_{pad}{'' if value is None else f'_v{value}'}".replace(" ", ""),
        inputs=lambda rng: [rng.standard_normal(shape)],
        striate=lambda x: F.pad(x, pad, **kwargs),
        torch=lambda x: TF.pad(x, pad, **kwargs),
    )


PAD_ROWS = (
    [
        _pad_row(shape, pad, "constant", value)
        for shape, pad, value in [
            ((2, 3, 4, 5), (1, 2), None),
            ((2, 3, 4, 5), (1, 2, 0, 3), 1.5),
            ((2, 3, 4, 5), (1, 1, 2, 2, 1, 0), None),
            ((2, 3, 4, 5), (0, 1, 1, 0, 1, 1, 2, 0), -2.0),  # all four dimensions
            ((3, 6), (-1, 2, 1, -2), None),  # negative amounts crop
            ((5,), (3, 0), None),
        ]
    ]
    + [
        _pad_row(shape, pad, mode)
        for mode in ("reflect", "replicate", "circular")
        for shape, pad in [
            ((2, 7), (2, 3)),  # 2-D input, pad the last dimension
            ((2, 3, 6), (3, 1)),
            ((3, 4, 5), (1, 2, 3, 0)),  # unbatched (C, H, W)
            ((2, 3, 4, 5), (2, 1, 3, 3)),
            ((2, 3, 4, 5), (1, 0, 0, 1)),
            ((1, 2, 3, 4, 3), (1, 2, 2, 0, 2, 1)),  # 5-D, pad three dimensions
            ((2, 3, 4, 5), (0, 0, 0, 0)),
        ]
    ]
    + [_pad_row((1, 2, 4, 4), (4, 4, 3, 4), "circular"), _pad_row((1, 2, 3, 3), (2, 2, 2, 2), "replicate")]
)


@pytest.mark.parametrize("case", PAD_ROWS, ids=str)
def test_pad_parity(case):
    check_case(case)


def test_pad_docstring_example():
    assert F.pad(st.tensor([[[1.0, 2.0, 3.0]]]), (2, 1), mode="reflect").tolist() == [
        [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
    ]


def test_pad_bad_inputs():
    x = st.randn(1, 2, 3, 3)
    with pytest.raises(ValueError, match="padding length must be even"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match="pad 5 dimensions but the input has only 4"):
        F.pad(x, (1,) * 10)
    with pytest.raises(
        ValueError, match=r"reflect padding \(3, 3\) at dimension 3 must be less than .* size 3"
    ):
        F.pad(x, (3, 3, 0, 0), mode="reflect")
    with pytest.raises(ValueError, match="wraps around more than once"):
        F.pad(x, (4, 0, 0, 0), mode="circular")
    with pytest.raises(ValueError, match=r"needs a 3-D or 4-D input, got shape \(3, 3\)"):
        F.pad(st.randn(3, 3), (1, 1, 1, 1), mode="replicate")
    with pytest.raises(ValueError, match="mode must be 'constant', 'reflect'"):
        F.pad(x, (1, 1), mode="symmetric")
    with pytest.raises(ValueError, match="takes no fill value"):
        F.pad(x, (1, 1, 0, 0), mode="reflect", value=2.0)
    with pytest.raises(ValueError, match="must be >= 0"):
        F.pad(x, (-1, 1, 0, 0), mode="replicate")
    with pytest.raises(ValueError, match="crops more than"):
        F.pad(x, (-2, -2))


# ---------------------------------------------------------------------------- dropout
def test_dropout_inverted_scaling_and_rate():
    st.manual_seed(1)
    x = st.ones(200_000)
    y = F.dropout(x, p=0.3).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], np.float32(1) / np.float32(0.7))  # kept values scaled by 1/(1-p)
    assert abs(kept.mean() - 0.7) < 0.005
    assert abs(y.mean() - 1.0) < 0.01  # the expectation is unchanged
    assert y.dtype == np.float32


def test_dropout_p0_p1_and_eval():
    x = st.randn(4, 5, requires_grad=True)
    np.testing.assert_array_equal(F.dropout(x, 0.0).numpy(), x.numpy())
    y1 = F.dropout(x, 1.0)
    np.testing.assert_array_equal(y1.numpy(), np.zeros((4, 5), np.float32))
    y1.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((4, 5)))
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout2d(st.randn(2, 3, 4, 4), 0.5, training=False).shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(F.dropout2d(x.reshape(1, 4, 5), 1.0).numpy(), np.zeros((1, 4, 5)))


def test_dropout_seeded_reproducibility():
    x = st.randn(50, 40)
    st.manual_seed(123)
    a = F.dropout(x, 0.5).numpy()
    b = F.dropout(x, 0.5).numpy()
    st.manual_seed(123)
    c = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)  # the generator moves on between calls
    st.manual_seed(7)
    d2a = F.dropout2d(st.ones(4, 8, 3, 3), 0.5).numpy()
    st.manual_seed(7)
    np.testing.assert_array_equal(d2a, F.dropout2d(st.ones(4, 8, 3, 3), 0.5).numpy())


def test_dropout_backward_uses_the_same_mask():
    x = st.randn(30, 20, requires_grad=True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    expected = (y.numpy() != 0) / np.float32(0.6)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)
    x64 = st.randn(3, 4, dtype=st.float64, requires_grad=True)

    def seeded(t):
        st.manual_seed(5)  # the same mask on every finite-difference evaluation
        return F.dropout(t, 0.3)

    st.autograd.gradcheck(seeded, [x64])


def test_dropout2d_zeroes_whole_channels():
    st.manual_seed(3)
    x = st.randn(6, 10, 5, 4, requires_grad=True)
    y = F.dropout2d(x, 0.5)
    out = y.numpy()
    planes_zero = (out == 0).all(axis=(2, 3))
    planes_scaled = np.isclose(out, x.numpy() * 2, rtol=1e-6).all(axis=(2, 3))
    assert np.all(planes_zero | planes_scaled)  # every channel is dropped or kept whole
    assert 0 < planes_zero.sum() < planes_zero.size
    y.sum().backward()
    np.testing.assert_array_equal(
        x.grad.numpy(), np.broadcast_to(np.where(planes_zero, 0, 2)[:, :, None, None], x.shape)
    )
    y3 = F.dropout2d(st.ones(4, 6, 7), 0.5).numpy()  # 3-D input: (N, C, L), one draw per (n, c)
    assert np.all((y3 == 0).all(axis=2) | (y3 == 2).all(axis=2))


def test_dropout_bad_inputs():
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout(st.randn(3), 1.5)
    with pytest.raises(ValueError, match="between 0 and 1, but got -0.1"):
        F.dropout2d(st.randn(1, 2, 3, 3), -0.1)
    with pytest.raises(ValueError, match=r"dropout2d: expected a 4-D \(N, C, H, W\) or 3-D"):
        F.dropout2d(st.randn(3, 3), 0.5)

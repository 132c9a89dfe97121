"""Activation maximisation, DeepDream and style transfer on a digits CNN trained in the test,
plus the differentiable transforms they use (float64 gradient checks)."""

from __future__ import annotations

import numpy as np
import pytest
from vizhelpers import trained_digits_cnn

import striate as st
from striate.viz.transforms import AffineSample, total_variation


def test_affine_sample_gradcheck():
    x = st.tensor(np.random.default_rng(0).random((1, 2, 5, 6)), dtype=st.float64, requires_grad=True)
    a = 0.3
    m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) / 1.1
    assert st.autograd.gradcheck(lambda t: AffineSample.apply(t, matrix=m, shift=np.array([0.4, -0.7])), (x,))
    assert st.autograd.gradcheck(lambda t: total_variation(t), (x,))


def test_identity_affine_is_the_identity():
    x = np.random.default_rng(1).random((2, 3, 4, 5)).astype(np.float32)
    out = AffineSample.apply(st.tensor(x), matrix=np.eye(2), shift=np.zeros(2)).numpy()
    np.testing.assert_allclose(out, x, rtol=1e-6)


def test_channel_activation_rises_and_is_seeded():
    model, *_ = trained_digits_cnn()
    r = st.viz.maximize(model, (1, 8, 8), layer="3", channel=5, steps=48, seed=0)
    assert r.history[-1] > 3 * max(r.history[0], 0.1), r.history[::8]
    # "monotonically in expectation": the second half's mean is above the first half's
    half = len(r.history) // 2
    assert np.mean(r.history[half:]) > np.mean(r.history[:half])
    again = st.viz.maximize(model, (1, 8, 8), layer="3", channel=5, steps=48, seed=0)
    np.testing.assert_array_equal(r.image, again.image)
    neuron = st.viz.maximize(model, (1, 8, 8), layer="3", channel=5, unit=(2, 3), steps=24, seed=0)
    assert neuron.history[-1] > neuron.history[0]


def test_class_images_are_classified_as_their_class():
    model, _, _, acc, (lo, hi) = trained_digits_cnn()
    assert acc > 0.9
    hits = 0
    for k in range(10):
        r = st.viz.maximize(model, (1, 8, 8), target=k, steps=48, seed=k, tv=0.05, l2=0.01, clamp=(lo, hi))
        with st.no_grad():
            hits += int(model(st.tensor(r.image[None])).numpy().argmax() == k)
    print(f"class images classified as their class: {hits}/10")
    assert hits >= 9


def test_dct_parametrisation_round_trip_and_ascent():
    from striate.viz.feature_vis import DCTImage, dct_matrix

    d = dct_matrix(7)
    np.testing.assert_allclose(d @ d.T, np.eye(7), atol=1e-12)
    for shape in [(1, 6, 5), (2, 9)]:
        basis = DCTImage(shape, 1.0)
        x = np.random.default_rng(0).random((1, *shape)).astype(np.float32)
        np.testing.assert_allclose(basis.decode(st.tensor(basis.encode(x))).numpy(), x, atol=1e-5)
    model, *_ = trained_digits_cnn()
    r = st.viz.maximize(model, (1, 8, 8), layer="3", channel=5, steps=32, seed=0, param="dct", lr=0.1)
    assert r.history[-1] > 3 * max(r.history[0], 0.1)
    with st.no_grad():
        assert model(st.tensor(st.viz.maximize(model, (1, 8, 8), target=4, steps=32, param="dct", lr=0.1)
                               .image[None])).numpy().argmax() == 4


def test_maximize_bad_input():
    model, *_ = trained_digits_cnn()
    with pytest.raises(ValueError, match="give a class"):
        st.viz.maximize(model, (1, 8, 8), steps=1)
    with pytest.raises(ValueError, match="out of range"):
        st.viz.maximize(model, (1, 8, 8), target=10, steps=1)


def test_deep_dream_raises_the_layer_activation():
    model, xt, *_ = trained_digits_cnn()
    img = xt[3]

    def energy(x):
        acts = st.viz.activations(model, x[None], layers=["1"])
        return float((acts["1"].output ** 2).mean())

    dream = st.viz.deep_dream(model, img, layer="1", octaves=2, octave_scale=1.3, steps=8, lr=0.05, seed=0)
    assert dream.shape == img.shape
    assert energy(dream) > 1.2 * energy(img)
    np.testing.assert_array_equal(dream, st.viz.deep_dream(model, img, layer="1", octaves=2,
                                                           octave_scale=1.3, steps=8, lr=0.05, seed=0))


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_style_transfer_lowers_the_style_distance(optimizer):
    if optimizer == "lbfgs":
        pytest.importorskip("scipy", reason="L-BFGS style transfer uses SciPy")
    model, xt, *_ = trained_digits_cnn()
    content, style = xt[0], xt[1]
    layers = ["1", "4"]

    def style_distance(x):
        with st.no_grad():
            a = st.viz.activations(model, np.stack([x, style]), layers=layers)
        grams = [st.viz.gram_matrix(st.tensor(a[n].output)).numpy() for n in layers]
        return sum(float(((g[0] - g[1]) ** 2).sum()) for g in grams)

    out = st.viz.style_transfer(model, content, style, content_layers=["4"], style_layers=layers,
                                steps=25, optimizer=optimizer, lr=0.05)
    assert out.shape == content.shape
    assert style_distance(out) < 0.5 * style_distance(content)

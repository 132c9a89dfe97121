"""Transforms: seeded and deterministic, shape/dtype kept, and each does what it says."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import striate as st
from striate.autograd.tensor import Tensor
from striate.data import transforms as T


def _batch(n=6, c=3, h=10, w=12, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w), dtype=np.float32)


RANDOM = [
    lambda seed: T.RandomHorizontalFlip(seed=seed),
    lambda seed: T.RandomVerticalFlip(seed=seed),
    lambda seed: T.RandomCrop(8, padding=2, seed=seed),
    lambda seed: T.GaussianNoise(0.1, seed=seed),
    lambda seed: T.ElasticDistortion(alpha=3.0, sigma=2.0, seed=seed),
]
DETERMINISTIC = [T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.3)), T.Pad(2), T.Resize((5, 7)), T.CenterCrop(6),
                 T.ToFloat(), T.Resize(20, interpolation="nearest")]


@pytest.mark.parametrize("make", RANDOM)
def test_random_transforms_deterministic_under_a_seed(make):
    x = _batch()
    a, b = make(3)(x), make(3)(x)
    np.testing.assert_array_equal(a, b)
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    np.testing.assert_array_equal(make(None)(x, rng=g1), make(None)(x, rng=g2))
    st.manual_seed(5)
    c = make(None)(x)
    st.manual_seed(5)
    np.testing.assert_array_equal(c, make(None)(x))      # the global generator when no seed
    t = make(4)
    assert not np.array_equal(t(x), t(x))               # fresh draws on every call


@pytest.mark.parametrize("t", RANDOM[:2] + [RANDOM[3], RANDOM[4]], ids=["hflip", "vflip", "noise", "elastic"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_and_dtype_kept(t, dtype):
    x = _batch().astype(dtype)
    out = t(0)(x)
    assert out.shape == x.shape and out.dtype == dtype
    single = t(0)(x[0])
    assert single.shape == x[0].shape and single.dtype == dtype


@pytest.mark.parametrize("t", DETERMINISTIC, ids=lambda t: type(t).__name__)
def test_deterministic_transforms_single_equals_batch(t):
    x = _batch()
    np.testing.assert_array_equal(t(x)[2], t(x[2]))
    assert t(x).dtype == np.float32


@pytest.mark.parametrize("make", RANDOM)
def test_single_image_is_a_batch_of_one(make):
    x = _batch(n=1)
    np.testing.assert_array_equal(make(None)(x[0], rng=np.random.default_rng(1)),
                                  make(None)(x, rng=np.random.default_rng(1))[0])


def test_tensor_in_tensor_out():
    x = st.tensor(_batch()[0])
    out = T.Compose([T.RandomCrop(8, padding=1, seed=0), T.Normalize((0.5,), (0.5,))])(x)
    assert isinstance(out, Tensor) and out.shape == (3, 8, 8) and out.dtype == st.float32


def test_horizontal_flip_is_a_flip_per_image():
    x = _batch(n=200)
    out = T.RandomHorizontalFlip(p=0.5, seed=0)(x)
    flipped = np.array([np.array_equal(o, xi[:, :, ::-1]) for o, xi in zip(out, x)])
    kept = np.array([np.array_equal(o, xi) for o, xi in zip(out, x)])
    assert np.all(flipped ^ kept)                        # every image is exactly one of the two
    assert 70 < flipped.sum() < 130                      # p = 0.5, independently per image
    assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(x), x[..., ::-1])
    assert np.array_equal(T.RandomHorizontalFlip(p=0.0)(x), x)
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(x), x[:, :, ::-1])
    x_copy = x.copy()
    T.RandomHorizontalFlip(p=1.0)(x)
    np.testing.assert_array_equal(x, x_copy)             # input untouched


def test_random_crop_shifts_content_by_at_most_padding():
    # ConvNetJS's augmentation: RandomCrop(32, padding=2) shifts by -2..+2 px, zeros fill in.
    x = np.random.default_rng(0).random((400, 3, 32, 32), dtype=np.float32) + 1.0  # no zeros inside
    out = T.RandomCrop(32, padding=2, seed=1)(x)
    assert out.shape == x.shape and out.dtype == np.float32
    seen = set()
    for o, xi in zip(out, x):
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                shifted = np.zeros_like(xi)
                src = xi[:, max(0, -dy):32 - max(0, dy), max(0, -dx):32 - max(0, dx)]
                shifted[:, max(0, dy):32 - max(0, -dy), max(0, dx):32 - max(0, -dx)] = src
                if np.array_equal(o, shifted):
                    seen.add((dy, dx))
                    break
            else:
                continue
            break
        else:
            pytest.fail("a crop is not a shift of the image by at most 2 pixels")
    assert len(seen) == 25                               # every shift occurs


def test_random_crop_without_padding_and_errors():
    x = _batch(h=10, w=12)
    out = T.RandomCrop((4, 5), seed=0)(x)
    assert out.shape == (6, 3, 4, 5)
    for o, xi in zip(out, x):  # each crop is a window of its own image
        hits = [(i, j) for i in range(7) for j in range(8) if np.array_equal(o, xi[:, i:i + 4, j:j + 5])]
        assert hits
    with pytest.raises(ValueError, match="larger than the"):
        T.RandomCrop(20)(x)
    assert T.RandomCrop(14, pad_if_needed=True, seed=0)(x).shape == (6, 3, 14, 14)


def test_normalize_gives_stated_mean_and_std_and_matches_torchvision_formula():
    x = _batch(n=64, h=16, w=16)
    mean = x.mean(axis=(0, 2, 3))
    std = x.std(axis=(0, 2, 3))
    out = T.Normalize(mean, std)(x)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, atol=1e-5)
    m, s = (0.1307, 0.2, 0.3), (0.3081, 0.5, 0.25)
    ref = torch.from_numpy(x).sub(torch.tensor(m).view(1, 3, 1, 1)).div(torch.tensor(s).view(1, 3, 1, 1))
    np.testing.assert_array_equal(T.Normalize(m, s)(x), ref.numpy())   # bit-identical
    with pytest.raises(ValueError, match="2 mean values for images with 3 channels"):
        T.Normalize((0.1, 0.2), (1, 1))(x)
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize((0.1,), (0.0,))
    with pytest.raises(TypeError, match="expects float images"):
        T.Normalize((0.1,), (0.2,))(np.zeros((1, 4, 4), np.uint8))


def test_gaussian_noise_statistics():
    x = np.zeros((8, 3, 64, 64), np.float32)
    out = T.GaussianNoise(std=0.2, seed=0)(x)
    assert abs(out.mean()) < 0.005 and abs(out.std() - 0.2) < 0.005
    clipped = T.GaussianNoise(std=1.0, clip=(0.0, 1.0), seed=0)(x)
    assert clipped.min() >= 0 and clipped.max() <= 1
    assert np.array_equal(T.GaussianNoise(std=0.0, seed=0)(x), x)


def test_elastic_small_alpha_stays_close_and_zero_alpha_is_identity():
    x = np.zeros((4, 1, 28, 28), np.float32)
    x[:, :, 8:20, 10:18] = 1.0
    np.testing.assert_allclose(T.ElasticDistortion(alpha=0.0, sigma=4.0, seed=0)(x), x, atol=1e-6)
    small = T.ElasticDistortion(alpha=0.5, sigma=4.0, seed=0)(x)
    assert np.abs(small - x).mean() < 0.02 and not np.array_equal(small, x)
    big = T.ElasticDistortion(alpha=34.0, sigma=4.0, seed=0)(x)
    assert np.abs(big - x).mean() > np.abs(small - x).mean()
    assert big.min() >= 0 and big.max() <= 1 + 1e-6    # bilinear resampling stays in range


def test_elastic_field_is_shared_across_channels_not_images():
    one = np.random.default_rng(0).random((1, 1, 20, 20), dtype=np.float32)
    x = np.broadcast_to(one, (2, 3, 20, 20)).copy()
    out = T.ElasticDistortion(alpha=4.0, sigma=3.0, seed=0)(x)
    np.testing.assert_array_equal(out[:, 0], out[:, 1])  # one field per image, all channels
    assert not np.array_equal(out[0], out[1])            # a different field per image


@pytest.mark.parametrize("size", [(32, 32), (5, 7), (8, 8), (3, 20)])
def test_resize_bilinear_matches_torch_interpolate(size):
    x = _batch(n=2, c=2, h=8, w=11)
    out = T.Resize(size)(x)
    # torchvision's Resize on tensors: bilinear, align_corners=False, antialias=True
    ref = TF.interpolate(torch.from_numpy(x), size=size, mode="bilinear", align_corners=False, antialias=True)
    assert out.shape == tuple(ref.shape) and out.dtype == np.float32
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-5, atol=1e-6)
    no_aa = T.Resize(size, antialias=False)(x)
    ref = TF.interpolate(torch.from_numpy(x), size=size, mode="bilinear", align_corners=False)
    np.testing.assert_allclose(no_aa, ref.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("size", [(32, 32), (5, 7), (13, 4)])
def test_resize_nearest_matches_torch(size):
    x = _batch(n=2, c=1, h=8, w=11)
    ref = TF.interpolate(torch.from_numpy(x), size=size, mode="nearest")
    np.testing.assert_array_equal(T.Resize(size, interpolation="nearest")(x), ref.numpy())


def test_resize_int_matches_shorter_side_and_digits_to_32():
    assert T.Resize(16)(_batch(h=8, w=12)).shape == (6, 3, 16, 24)
    assert T.Resize(16)(_batch(h=12, w=8)).shape == (6, 3, 24, 16)
    x = np.full((1, 1, 8, 8), 0.25, np.float32)
    np.testing.assert_allclose(T.Resize(32)(x), 0.25, atol=1e-7)  # constants stay constant


@pytest.mark.parametrize("mode,torch_mode", [("constant", "constant"), ("edge", "replicate"),
                                             ("reflect", "reflect")])
def test_pad_matches_torch(mode, torch_mode):
    x = _batch()
    out = T.Pad((1, 2, 3, 0), padding_mode=mode)(x)      # left, top, right, bottom
    ref = TF.pad(torch.from_numpy(x), (1, 3, 2, 0), mode=torch_mode)
    np.testing.assert_array_equal(out, ref.numpy())
    assert T.Pad(2, fill=0.5)(x)[0, 0, 0, 0] == np.float32(0.5)
    with pytest.raises(ValueError, match="padding_mode"):
        T.Pad(1, padding_mode="wrap-around")


def test_center_crop():
    x = _batch(h=10, w=12)
    np.testing.assert_array_equal(T.CenterCrop(4)(x), x[:, :, 3:7, 4:8])


def test_to_tensor_and_to_float():
    hwc = np.random.default_rng(0).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    t = T.ToTensor()(hwc)
    assert isinstance(t, Tensor) and t.shape == (3, 5, 6) and t.dtype == st.float32
    np.testing.assert_array_equal(t.numpy(), torch.from_numpy(hwc).permute(2, 0, 1).float().div(255).numpy())
    chw = np.random.default_rng(0).random((1, 4, 4), dtype=np.float32)
    np.testing.assert_array_equal(T.ToTensor()(chw).numpy(), chw)     # striate's images pass through
    u8 = np.arange(16, dtype=np.uint8).reshape(1, 4, 4)
    np.testing.assert_array_equal(T.ToFloat(16)(u8), u8 / np.float32(16))


def test_compose_repr_and_batched_flag():
    c = T.Compose([T.RandomCrop(32, padding=2), T.RandomHorizontalFlip(), T.Normalize((0.5,), (0.25,))])
    assert c.batched
    assert repr(c).splitlines() == ["Compose(", "    RandomCrop(size=(32, 32), padding=2)",
                                    "    RandomHorizontalFlip(p=0.5)",
                                    "    Normalize(mean=(0.5,), std=(0.25,))", ")"]
    assert not T.Compose([T.Lambda(lambda im: im * 2)]).batched
    np.testing.assert_array_equal(T.Compose([T.Lambda(lambda im: im * 2)])(np.ones((1, 2, 2))), 2)


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match="expects an image CxHxW or a batch NxCxHxW"):
        T.RandomHorizontalFlip()(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="probability"):
        T.RandomHorizontalFlip(p=1.5)
    with pytest.raises(ValueError, match="sigma > 0"):
        T.ElasticDistortion(alpha=1.0, sigma=0.0)
    with pytest.raises(ValueError, match="interpolation"):
        T.Resize(4, interpolation="cubic")
    with pytest.raises(ValueError, match="other filters work on PIL images"):  # bicubic: PIL images only
        T.Resize(4, interpolation="bicubic")(np.zeros((1, 8, 8), np.float32))

"""torchvision-style transforms on PIL images and tensors.

torchvision is not a test dependency (its PyPI wheels do not load beside this torch), so the
references are: Pillow called as torchvision calls it, with parameters drawn by torchvision's
`get_params` code run in PyTorch after the same seed (copied below); PyTorch's own
`grid_sample` and tensor arithmetic for the tensor paths. `test_transforms_torchvision.py`
compares with torchvision itself when it is installed.
"""

import math

import numpy as np
import pytest
import torch

import striate as st
import striate.data.transforms as T

Image = pytest.importorskip("PIL.Image", reason="the PIL transforms need Pillow (striate[images])")
ImageEnhance = pytest.importorskip("PIL.ImageEnhance")


@pytest.fixture(scope="module")
def photo():
    data = pytest.importorskip("skimage.data", reason="the sample photograph comes from scikit-image")
    return Image.fromarray(np.ascontiguousarray(data.astronaut()[::6, ::5]))  # 86 x 103 RGB


def same_image(a, b):
    return a.mode == b.mode and a.size == b.size and np.array_equal(np.asarray(a), np.asarray(b))


def seeded(seed):
    torch.manual_seed(seed)
    st.manual_seed(seed)


def streams_in_step():
    assert st.rand(3).tolist() == torch.rand(3).tolist()


# ---- torchvision's get_params, in PyTorch (torchvision 0.28, transforms.py)
def tv_rotation_angle(degrees):
    return float(torch.empty(1).uniform_(float(degrees[0]), float(degrees[1])).item())


def tv_jitter_params(ranges):
    order = torch.randperm(4)
    return order, [None if r is None else float(torch.empty(1).uniform_(r[0], r[1])) for r in ranges]


def tv_resized_crop_params(height, width, scale, ratio):
    area = height * width
    log_ratio = torch.log(torch.tensor(ratio))
    for _ in range(10):
        target_area = area * torch.empty(1).uniform_(scale[0], scale[1]).item()
        aspect_ratio = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
        w = int(round(math.sqrt(target_area * aspect_ratio)))
        h = int(round(math.sqrt(target_area / aspect_ratio)))
        if 0 < w <= width and 0 < h <= height:
            i = torch.randint(0, height - h + 1, size=(1,)).item()
            j = torch.randint(0, width - w + 1, size=(1,)).item()
            return i, j, h, w
    return None


def tv_affine_params(degrees, translate, scale_ranges, shears, img_size):
    angle = float(torch.empty(1).uniform_(float(degrees[0]), float(degrees[1])).item())
    max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
    tx = int(round(torch.empty(1).uniform_(-max_dx, max_dx).item()))
    ty = int(round(torch.empty(1).uniform_(-max_dy, max_dy).item()))
    scale = float(torch.empty(1).uniform_(scale_ranges[0], scale_ranges[1]).item())
    shear_x = float(torch.empty(1).uniform_(shears[0], shears[1]).item())
    shear_y = float(torch.empty(1).uniform_(shears[2], shears[3]).item())
    return angle, (tx, ty), scale, (shear_x, shear_y)


# ---- PIL images
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_random_rotation_pil(photo, mode):
    img = photo.convert(mode)
    bilinear_fill = {"interpolation": T.InterpolationMode.BILINEAR, "fill": (1, 2, 3, 4)[:len(mode)]}
    for seed, kwargs in enumerate([{}, {"expand": True, "fill": 40}, {"center": (10, 20), "interpolation": 2},
                                   bilinear_fill]):
        seeded(seed)
        angle = tv_rotation_angle([-40.0, 40.0])
        fill = kwargs.get("fill", 0)
        fill = tuple(fill) if isinstance(fill, tuple) else (fill if mode == "L" else (fill,) * len(mode))
        resample = 2 if kwargs.get("interpolation") in (2, T.InterpolationMode.BILINEAR) else 0
        expand, center = kwargs.get("expand", False), kwargs.get("center")
        expected = img.rotate(angle, resample, expand, center, fillcolor=fill)
        assert same_image(T.RandomRotation(40, **kwargs)(img), expected)
        streams_in_step()


def test_color_jitter_pil(photo):
    ranges = [(0.6, 1.4), (0.5, 1.5), (0.7, 1.3), (-0.2, 0.2)]
    for seed in range(6):
        for img in (photo, photo.convert("L")):
            seeded(seed)
            order, factors = tv_jitter_params(ranges)
            expected = img
            for which in order.tolist():
                expected = _pil_adjust(expected, which, factors[which])
            assert same_image(T.ColorJitter(0.4, 0.5, 0.3, 0.2)(img), expected)
            streams_in_step()


def _pil_adjust(img, which, factor):
    if which < 3:
        enhancer = (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color)[which]
        return enhancer(img).enhance(factor)
    if img.mode == "L":
        return img
    h, s, v = img.convert("HSV").split()
    hue = np.array(h, dtype=np.uint8)
    hue += np.int32(factor * 255).astype(np.uint8)
    return Image.merge("HSV", (Image.fromarray(hue, "L"), s, v)).convert(img.mode)


def test_color_jitter_checks_its_ranges():
    assert T.ColorJitter(0, (1, 1)).brightness is None
    assert T.ColorJitter(brightness=2).brightness == (0.0, 3.0)
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=0.7)
    with pytest.raises(ValueError, match="non negative"):
        T.ColorJitter(contrast=-1)


@pytest.mark.parametrize("size,scale,ratio", [(32, (0.08, 1.0), (3 / 4, 4 / 3)),
                                              ((20, 30), (0.5, 1.0), (0.5, 2.0)),
                                              (16, (0.9, 1.0), (5.0, 6.0))])
def test_random_resized_crop_pil(photo, size, scale, ratio):
    for seed in range(8):
        seeded(seed)
        params = tv_resized_crop_params(photo.size[1], photo.size[0], scale, ratio)
        out = T.RandomResizedCrop(size, scale=scale, ratio=ratio)(photo)
        if params is None:  # ten misses: the central crop (torchvision's fallback)
            continue
        i, j, h, w = params
        hw = (size, size) if isinstance(size, int) else size
        assert same_image(out, photo.crop((j, i, j + w, i + h)).resize((hw[1], hw[0]), 2))
        streams_in_step()


def test_random_affine_pil(photo):
    from striate.data.transforms_vision import inverse_affine_matrix

    for seed in range(5):
        seeded(seed)
        angle, shift, scale, shear = tv_affine_params([-20.0, 20.0], (0.1, 0.2), (0.8, 1.2), [-10, 10, -5, 5],
                                                      list(photo.size))
        matrix = inverse_affine_matrix([photo.size[0] * 0.5, photo.size[1] * 0.5], angle, shift, scale, shear)
        expected = photo.transform(photo.size, Image.AFFINE, matrix, 0, fillcolor=(0, 0, 0))
        out = T.RandomAffine(20, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=(-10, 10, -5, 5))(photo)
        assert same_image(out, expected)
        streams_in_step()


def test_grayscale_and_resize_pil(photo):
    assert same_image(T.Grayscale()(photo), photo.convert("L"))
    three = T.Grayscale(num_output_channels=3)(photo)
    assert three.mode == "RGB" and np.array_equal(np.asarray(three)[..., 1], np.asarray(photo.convert("L")))
    wide = photo.resize((100, 60))
    assert T.Resize(30)(wide).size == (50, 30)           # int: the shorter side (torchvision's rule)
    assert T.Resize(30)(photo).size == (35, 30)          # 103 x 86: int(30 * 103 / 86) = 35
    assert T.Resize((20, 40))(photo).size == (40, 20)
    assert T.Resize(30, max_size=40)(wide).size == (40, 24)
    assert same_image(T.Resize(30, interpolation=T.InterpolationMode.BICUBIC)(wide), wide.resize((50, 30), 3))
    assert same_image(T.Resize(30)(wide), wide.resize((50, 30), 2))
    assert T.Resize(60)(wide) is wide                    # already that size: unchanged


# ---- conversions
@pytest.mark.parametrize("mode,dtype", [("RGB", np.float32), ("L", np.float32), ("RGBA", np.float32),
                                        ("1", np.float32), ("P", np.float32), ("I", np.int32),
                                        ("F", np.float32),
                                        ("I;16", np.int16)])
def test_to_tensor_of_every_mode(photo, mode, dtype):
    img = photo.convert("L").convert(mode) if mode in ("1", "I", "F", "I;16") else photo.convert(mode)
    out = T.ToTensor()(img)
    bands = len(img.getbands())
    assert out.shape == (bands, img.size[1], img.size[0]) and out.dtype == dtype
    raw = np.array(img, dtype=dtype if dtype != np.float32 or mode == "F" else np.uint8).reshape(
        img.size[1], img.size[0], bands).transpose(2, 0, 1)
    if mode == "1":
        raw = raw * np.uint8(255)
    expected = raw / np.float32(255) if raw.dtype == np.uint8 else raw
    np.testing.assert_array_equal(out.numpy(), torch.tensor(expected).numpy())
    pil = T.PILToTensor()(img)
    assert pil.shape == out.shape and pil.dtype == np.asarray(img).dtype


def test_to_pil_image_round_trip(photo):
    chw = T.PILToTensor()(photo)
    assert same_image(T.ToPILImage()(chw), photo)
    x = st.rand(1, 5, 6)
    img = T.ToPILImage()(x)
    assert img.mode == "L"
    np.testing.assert_array_equal(np.asarray(img), (x.numpy()[0] * 255).astype(np.uint8))
    assert T.ToPILImage()(st.rand(4, 5, 6)).mode == "RGBA"
    assert T.ToPILImage(mode="F")(st.rand(1, 5, 6)).mode == "F"
    with pytest.raises(ValueError, match="> 4 channels"):
        T.ToPILImage()(np.zeros((3, 5, 6), np.uint8))  # CHW NumPy arrays are HWC for torchvision
    with pytest.raises(ValueError, match="Only modes"):
        T.ToPILImage(mode="RGBA")(st.rand(3, 5, 6))


def test_pil_pipeline_in_compose_matches(photo):
    pipeline = T.Compose([T.RandomResizedCrop(24), T.RandomRotation(10), T.ColorJitter(0.2, 0.2, 0.2, 0.05),
                          T.Grayscale(3), T.ToTensor(), T.Normalize((0.5,) * 3, (0.25,) * 3)])
    seeded(3)
    first = pipeline(photo)
    seeded(3)
    assert first.shape == (3, 24, 24) and np.array_equal(pipeline(photo).numpy(), first.numpy())


# ---- tensors, against PyTorch
def torch_grid_transform(img, matrix, mode, fill, out_hw):
    """torchvision's _gen_affine_grid + _apply_grid_transform, with torch's grid_sample."""
    oh, ow = out_hw
    h, w = img.shape[-2:]
    theta = torch.tensor(matrix, dtype=img.dtype).reshape(1, 2, 3)
    base = torch.empty(1, oh, ow, 3, dtype=img.dtype)
    base[..., 0].copy_(torch.linspace(-ow * 0.5 + 0.5, ow * 0.5 + 0.5 - 1, steps=ow))
    base[..., 1].copy_(torch.linspace(-oh * 0.5 + 0.5, oh * 0.5 + 0.5 - 1, steps=oh).unsqueeze_(-1))
    base[..., 2].fill_(1)
    scale = torch.tensor([0.5 * w, 0.5 * h], dtype=img.dtype)
    grid = base.view(1, oh * ow, 3).bmm(theta.transpose(1, 2) / scale)
    x = torch.cat((img[None], torch.ones(1, 1, h, w, dtype=img.dtype)), dim=1)
    out = torch.nn.functional.grid_sample(x, grid.view(1, oh, ow, 2), mode=mode, padding_mode="zeros",
                                          align_corners=False)
    mask, out = out[:, -1:].expand_as(out[:, :-1]), out[:, :-1]
    fill_img = torch.tensor(fill, dtype=img.dtype).view(1, -1, 1, 1).expand_as(out)
    if mode == "nearest":
        out = torch.where(mask < 0.5, fill_img, out)
    else:
        out = out * mask + (1.0 - mask) * fill_img
    return out[0]


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_random_rotation_and_affine_tensor(mode):
    from striate.data.transforms_vision import inverse_affine_matrix

    x = np.random.default_rng(0).random((3, 14, 17)).astype(np.float32)
    for seed in range(4):
        seeded(seed)
        angle = tv_rotation_angle([-30.0, 30.0])
        matrix = inverse_affine_matrix([0.0, 0.0], -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
        expected = torch_grid_transform(torch.tensor(x), matrix, mode, [0.5] * 3, (14, 17)).numpy()
        seeded(seed)
        out = T.RandomRotation(30, interpolation=mode, fill=0.5)(st.tensor(x)).numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
        if mode == "nearest":
            assert np.mean(out != expected) < 0.01  # only ties at exactly .5 can round apart
        seeded(seed)
        angle, shift, scale, shear = tv_affine_params([-20.0, 20.0], (0.1, 0.1), (0.8, 1.2), [-5, 5, -5, 5],
                                                      [17, 14])
        matrix = inverse_affine_matrix([0.0, 0.0], angle, [float(s) for s in shift], scale, shear)
        expected = torch_grid_transform(torch.tensor(x), matrix, mode, [0.0] * 3, (14, 17)).numpy()
        seeded(seed)
        affine = T.RandomAffine(20, (0.1, 0.1), (0.8, 1.2), (-5, 5, -5, 5), interpolation=mode)
        out = affine(st.tensor(x)).numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_rotation_tensor_by_90_degrees_is_rot90_and_expand_grows():
    x = np.arange(2 * 6 * 6, dtype=np.float32).reshape(2, 6, 6)
    out = T.RandomRotation((90, 90))(x)
    np.testing.assert_array_equal(out, np.rot90(x, 1, axes=(1, 2)))
    wide = np.ones((1, 4, 10), np.float32)
    assert T.RandomRotation((90, 90), expand=True)(wide).shape == (1, 10, 4)
    u8 = (np.random.default_rng(0).random((3, 8, 8)) * 255).astype(np.uint8)
    assert T.RandomRotation(20)(st.tensor(u8)).dtype == np.uint8


def torch_rgb_to_hsv_to_rgb(img, hue):
    """torchvision's _rgb2hsv, the hue shift and _hsv2rgb, in PyTorch."""
    r, g, b = img.unbind(dim=-3)
    maxc, minc = torch.max(img, dim=-3).values, torch.min(img, dim=-3).values
    eqc = maxc == minc
    cr = maxc - minc
    ones = torch.ones_like(maxc)
    s = cr / torch.where(eqc, ones, maxc)
    cr_divisor = torch.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / cr_divisor, (maxc - g) / cr_divisor, (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = torch.fmod(((hr + hg + hb) / 6.0 + 1.0), 1.0)
    h = (h + hue) % 1.0
    i = torch.floor(h * 6.0)
    f = (h * 6.0) - i
    i = i.to(dtype=torch.int32) % 6
    p = torch.clamp((maxc * (1.0 - s)), 0.0, 1.0)
    q = torch.clamp((maxc * (1.0 - s * f)), 0.0, 1.0)
    t = torch.clamp((maxc * (1.0 - s * (1.0 - f))), 0.0, 1.0)
    v = maxc
    mask = i.unsqueeze(dim=-3) == torch.arange(6).view(-1, 1, 1)
    a4 = torch.stack((torch.stack((v, q, p, p, t, v), dim=-3), torch.stack((t, v, v, q, p, p), dim=-3),
                      torch.stack((p, p, t, v, v, q), dim=-3)), dim=-4)
    return torch.einsum("...ijk, ...xijk -> ...xjk", mask.to(dtype=img.dtype), a4)


def test_color_jitter_tensor_against_torch():
    x = torch.tensor(np.random.default_rng(1).random((3, 12, 15)).astype(np.float32))
    ranges = [(0.5, 1.5), (0.5, 1.5), (0.5, 1.5), (-0.3, 0.3)]
    for seed in range(6):
        seeded(seed)
        order, factors = tv_jitter_params(ranges)
        expected = x
        for which in order.tolist():
            f = factors[which]
            if which == 0:
                expected = (f * expected + (1.0 - f) * torch.zeros_like(expected)).clamp(0, 1)
            elif which == 1:
                grey = (0.2989 * expected[0] + 0.587 * expected[1] + 0.114 * expected[2]).unsqueeze(0)
                mean = torch.mean(grey, dim=(-3, -2, -1), keepdim=True)
                expected = (f * expected + (1.0 - f) * mean).clamp(0, 1)
            elif which == 2:
                grey = (0.2989 * expected[0] + 0.587 * expected[1] + 0.114 * expected[2]).unsqueeze(0)
                expected = (f * expected + (1.0 - f) * grey).clamp(0, 1)
            else:
                expected = torch_rgb_to_hsv_to_rgb(expected, f)
        out = T.ColorJitter(0.5, 0.5, 0.5, 0.3)(st.tensor(x.numpy()))
        # contrast's mean is a float32 reduction summed in another order than PyTorch's: 1 ulp
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
        streams_in_step()


def test_grayscale_tensor_and_resized_crop_tensor():
    x = np.random.default_rng(2).random((3, 10, 12)).astype(np.float32)
    t = torch.tensor(x)
    expected = (0.2989 * t[0] + 0.587 * t[1] + 0.114 * t[2]).unsqueeze(0).numpy()
    np.testing.assert_array_equal(T.Grayscale()(st.tensor(x)).numpy(), expected)
    assert T.Grayscale(3)(x).shape == (3, 10, 12)
    seeded(4)
    i, j, h, w = tv_resized_crop_params(10, 12, (0.3, 1.0), (3 / 4, 4 / 3))
    expected = torch.nn.functional.interpolate(t[None, :, i:i + h, j:j + w], size=(6, 6), mode="bilinear",
                                               align_corners=False, antialias=True)[0].numpy()
    seeded(4)
    out = T.RandomResizedCrop(6, scale=(0.3, 1.0))(st.tensor(x)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_bad_inputs_are_named():
    with pytest.raises(TypeError, match="PIL image or a \\(C, H, W\\) tensor"):
        T.RandomRotation(10)("image.png")
    with pytest.raises(ValueError, match="interpolation must be one of"):
        T.RandomRotation(10, interpolation="cubic")
    with pytest.raises(ValueError, match="C in \\[1, 3\\]"):
        T.ColorJitter(0.5)(st.rand(2, 4, 4))
    with pytest.raises(ValueError, match="num_output_channels"):
        T.Grayscale(2)
    with pytest.raises(ValueError, match="other filters work on PIL images"):
        T.Resize(4, interpolation="bicubic")(st.rand(1, 8, 8))


def test_torchvision_pipeline_on_a_striate_dataset_and_loader():
    from striate.data import DataLoader, datasets

    augment = T.Compose([T.RandomRotation(15), T.RandomResizedCrop(16, scale=(0.6, 1.0)),
                         T.ColorJitter(0.3, 0.3), T.Normalize((0.5,), (0.5,))])
    train = datasets.Digits(train=True, transform=augment)

    def first_batch():
        st.manual_seed(1)
        return next(iter(DataLoader(train, batch_size=8, shuffle=True, seed=0)))[0].numpy()

    batch = first_batch()
    assert batch.shape == (8, 1, 16, 16) and batch.dtype == np.float32
    # the loader's per-batch generator fixes the draws, whatever the prefetch thread's timing
    np.testing.assert_array_equal(first_batch(), batch)

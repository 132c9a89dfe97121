"""RandomGrayscale, GaussianBlur, RandomErasing, ConvertImageDtype and the random containers
against torchvision's code run in PyTorch (torchvision is not a test dependency: its functions
are copied below from torchvision 0.2x `transforms.py` / `_functional_tensor.py`), after the
same seed. `test_transforms_torchvision.py` compares with torchvision itself when installed."""

import math
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import striate as st
import striate.data.transforms as T

Image = pytest.importorskip("PIL.Image", reason="the PIL transforms need Pillow (striate[images])")


def seeded(seed):
    torch.manual_seed(seed)
    st.manual_seed(seed)


def streams_in_step():
    assert st.rand(2).tolist() == torch.rand(2).tolist()


@pytest.fixture(scope="module")
def photo():
    data = pytest.importorskip("skimage.data", reason="the sample photograph comes from scikit-image")
    return Image.fromarray(np.ascontiguousarray(data.astronaut()[::8, ::7]))  # 64 x 74 RGB


# ---- torchvision in PyTorch
def tv_gaussian_blur(img, kernel_size, sigma):
    def kernel1d(k, s):
        x = torch.linspace(-(k - 1) * 0.5, (k - 1) * 0.5, steps=k)
        pdf = torch.exp(-0.5 * (x / s).pow(2))
        return pdf / pdf.sum()

    dtype = img.dtype if torch.is_floating_point(img) else torch.float32
    kernel = torch.mm(kernel1d(kernel_size[1], sigma[1]).to(dtype)[:, None],
                      kernel1d(kernel_size[0], sigma[0]).to(dtype)[None, :])
    kernel = kernel.expand(img.shape[-3], 1, kernel.shape[0], kernel.shape[1])
    x = img.to(dtype)[None] if img.ndim == 3 else img.to(dtype)
    pad = [kernel_size[0] // 2, kernel_size[0] // 2, kernel_size[1] // 2, kernel_size[1] // 2]
    out = tF.conv2d(tF.pad(x, pad, mode="reflect"), kernel, groups=x.shape[-3])
    out = out[0] if img.ndim == 3 else out
    return out if torch.is_floating_point(img) else torch.round(out).to(img.dtype)


def tv_erasing(img, p, scale, ratio, value):
    if not torch.rand(1) < p:
        return img
    c, h_img, w_img = img.shape[-3:]
    log_ratio = torch.log(torch.tensor(ratio))
    for _ in range(10):
        erase_area = h_img * w_img * torch.empty(1).uniform_(scale[0], scale[1]).item()
        aspect = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
        h, w = int(round(math.sqrt(erase_area * aspect))), int(round(math.sqrt(erase_area / aspect)))
        if not (h < h_img and w < w_img):
            continue
        v = torch.empty([c, h, w], dtype=torch.float32).normal_() if value is None else \
            torch.tensor(value)[:, None, None]
        i = torch.randint(0, h_img - h + 1, size=(1,)).item()
        j = torch.randint(0, w_img - w + 1, size=(1,)).item()
        out = img.clone()
        out[..., i:i + h, j:j + w] = v
        return out
    return img


def tv_convert_image_dtype(image, dtype):
    def max_value(dt):
        return 1.0 if dt.is_floating_point else float(torch.iinfo(dt).max)

    if image.dtype == dtype:
        return image
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        return image.mul(max_value(dtype) + 1.0 - 1e-3).to(dtype)
    input_max = max_value(image.dtype)
    if dtype.is_floating_point:
        return image.to(dtype) / input_max
    output_max = max_value(dtype)
    if input_max > output_max:
        return torch.div(image, int((input_max + 1) // (output_max + 1)), rounding_mode="floor").to(dtype)
    return image.to(dtype) * int((output_max + 1) // (input_max + 1))


# ---- RandomGrayscale
def test_random_grayscale_draws_and_pixels(photo):
    rgb = np.asarray(photo).transpose(2, 0, 1).astype(np.float32) / 255
    greyed = 0
    for seed in range(12):
        seeded(seed)
        out_pil = T.RandomGrayscale(p=0.5)(photo)
        out_t = T.RandomGrayscale(p=0.5)(st.tensor(rgb))
        flip_pil, flip_t = bool(torch.rand(1) < 0.5), bool(torch.rand(1) < 0.5)
        streams_in_step()
        grey = photo.convert("L")
        expected = Image.merge("RGB", (grey, grey, grey)) if flip_pil else photo
        assert out_pil.mode == "RGB" and np.array_equal(np.asarray(out_pil), np.asarray(expected))
        ref = torch.tensor(rgb)
        if flip_t:
            ref = (0.2989 * ref[0] + 0.587 * ref[1] + 0.114 * ref[2]).expand(3, *ref.shape[1:])
        np.testing.assert_allclose(out_t.numpy(), ref.numpy(), rtol=1e-6, atol=1e-7)
        greyed += flip_pil + flip_t
    assert 0 < greyed < 24
    grey1 = T.RandomGrayscale(p=1.0)(photo.convert("L"))
    assert grey1.mode == "L"


# ---- GaussianBlur
@pytest.mark.parametrize("kernel_size, sigma", [(3, (0.1, 2.0)), ((5, 9), (0.5, 3.0)), (7, 1.5), (1, 0.7)])
def test_gaussian_blur_tensors_equal_torchvision(kernel_size, sigma):
    rng = np.random.default_rng(0)
    for seed, shape, dtype in [(0, (3, 17, 23), np.float32), (1, (2, 1, 12, 10), np.float64),
                               (2, (3, 16, 16), np.uint8)]:
        x = rng.uniform(0, 255 if dtype == np.uint8 else 1, shape).astype(dtype)
        seeded(seed)
        out = T.GaussianBlur(kernel_size, sigma)(st.tensor(x)).numpy()
        ks = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        lo, hi = (sigma, sigma) if isinstance(sigma, float) else sigma
        s = torch.empty(1).uniform_(lo, hi).item()
        ref = tv_gaussian_blur(torch.tensor(x), ks, [s, s]).numpy()
        streams_in_step()
        assert out.dtype == x.dtype and out.shape == x.shape
        if dtype == np.uint8:  # rounding a sum summed in another order: at most 1 apart, rarely
            diff = np.abs(out.astype(int) - ref.astype(int))
            assert diff.max() <= 1 and (diff > 0).mean() < 0.01
        else:
            np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_gaussian_blur_pil_and_errors(photo):
    seeded(3)
    out = T.GaussianBlur(5, sigma=(0.5, 2.0))(photo)
    s = torch.empty(1).uniform_(0.5, 2.0).item()
    ref = tv_gaussian_blur(torch.tensor(np.asarray(photo)).permute(2, 0, 1), (5, 5), [s, s]).permute(1, 2, 0)
    assert out.mode == "RGB" and out.size == photo.size
    diff = np.abs(np.asarray(out).astype(int) - ref.numpy().astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01
    assert T.GaussianBlur(3)(photo.convert("L")).mode == "L"
    with pytest.raises(ValueError, match="odd and positive"):
        T.GaussianBlur(4)
    with pytest.raises(ValueError, match="positive"):
        T.GaussianBlur(3, sigma=(2.0, 1.0))
    with pytest.raises(ValueError, match="larger than its half-width"):
        T.GaussianBlur(9)(st.rand(1, 3, 3))


# ---- RandomErasing
@pytest.mark.parametrize("kwargs", [{}, {"p": 1.0, "value": (0.1, 0.5, 0.9)}, {"p": 1.0, "value": "random"},
                                    {"p": 0.8, "scale": (0.3, 0.9), "ratio": (0.2, 5.0), "value": 0.25}])
def test_random_erasing_equals_torchvision(kwargs):
    x = np.random.default_rng(0).random((3, 24, 20)).astype(np.float32)
    value = kwargs.get("value", 0)
    value = None if value == "random" else ([float(value)] if isinstance(value, float | int) else list(value))
    for seed in range(15):
        seeded(seed)
        out = T.RandomErasing(**kwargs)(st.tensor(x))
        ref = tv_erasing(torch.tensor(x), kwargs.get("p", 0.5), kwargs.get("scale", (0.02, 0.33)),
                         kwargs.get("ratio", (0.3, 3.3)), value)
        streams_in_step()
        np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_random_erasing_inplace_uint8_and_errors(photo):
    x = st.rand(3, 10, 10)
    before = x.numpy().copy()
    seeded(1)
    out = T.RandomErasing(p=1.0, inplace=True)(x)
    assert out is x and not np.array_equal(x.numpy(), before)
    y = st.rand(3, 10, 10)
    kept = y.numpy().copy()
    T.RandomErasing(p=1.0)(y)
    np.testing.assert_array_equal(y.numpy(), kept)
    u8 = np.full((3, 16, 16), 200, np.uint8)
    seeded(2)
    out8 = T.RandomErasing(p=1.0, value="random")(st.tensor(u8))
    ref8 = tv_erasing(torch.tensor(u8), 1.0, (0.02, 0.33), (0.3, 3.3), None)
    np.testing.assert_array_equal(out8.numpy(), ref8.numpy())
    with pytest.raises(TypeError, match="after ToTensor"):
        T.RandomErasing()(photo)
    with pytest.raises(ValueError, match="'random'"):
        T.RandomErasing(value="noise")
    with pytest.raises(ValueError, match="single value or 3"):
        T.RandomErasing(p=1.0, value=(1, 2))(st.rand(3, 8, 8))


# ---- ConvertImageDtype
PAIRS = [("uint8", "float32"), ("uint8", "float64"), ("float32", "uint8"), ("float64", "uint8"),
         ("uint8", "int16"), ("int16", "uint8"), ("int32", "int16"), ("int16", "int64"),
         ("float32", "float64"), ("int32", "float32"), ("float64", "int16")]


@pytest.mark.parametrize("src, dst", PAIRS)
def test_convert_image_dtype_equals_torchvision(src, dst):
    rng = np.random.default_rng(0)
    if np.dtype(src).kind == "f":
        x = rng.random((2, 3, 5, 7)).astype(src)
        x[0, 0, 0, :2] = (0.0, 1.0)
    else:
        info = np.iinfo(src)
        x = rng.integers(0, info.max, (2, 3, 5, 7), endpoint=True).astype(src)
    out = T.ConvertImageDtype(getattr(st, dst))(st.tensor(x))
    ref = tv_convert_image_dtype(torch.from_numpy(x), getattr(torch, dst))
    assert str(out.numpy().dtype) == dst
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_convert_image_dtype_errors(photo):
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        T.ConvertImageDtype(st.int64)(st.rand(1, 2, 2))
    with pytest.raises(TypeError, match="PILToTensor"):
        T.ConvertImageDtype(st.float32)(photo)
    with pytest.raises(TypeError, match="is not a dtype"):
        T.ConvertImageDtype("pixels")


# ---- RandomApply / RandomChoice / RandomOrder
def test_random_containers_follow_torchvisions_draws():
    add = [T.Lambda(lambda v, k=k: v * 10 + k) for k in (1, 2, 3)]
    for seed in range(20):
        seeded(seed)
        random.seed(seed)
        applied = T.RandomApply(add[:2], p=0.4)(0)
        chosen = T.RandomChoice(add, p=[0.2, 0.3, 0.5])(0)
        ordered = T.RandomOrder(add)(0)
        torch.manual_seed(seed)
        random.seed(seed)
        skipped = 0.4 < torch.rand(1)  # noqa: SIM300 - torchvision's comparison, as written there
        expected_apply = 0 if skipped else 12
        expected_choice = random.choices([1, 2, 3], weights=[0.2, 0.3, 0.5])[0]
        order = [0, 1, 2]
        random.shuffle(order)
        assert (applied, chosen) == (expected_apply, expected_choice)
        assert ordered == int("".join(str(i + 1) for i in order))
    rng = np.random.default_rng(5)
    a = T.RandomOrder(add)(0, rng=np.random.default_rng(5))
    assert a == T.RandomOrder(add)(0, rng=rng)  # the loader's generator decides, reproducibly
    assert "p=0.4" in repr(T.RandomApply(add, p=0.4))

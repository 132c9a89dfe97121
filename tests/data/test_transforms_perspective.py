"""RandomPerspective against torchvision's code in PyTorch (torchvision is not a test dependency:
`get_params`, `_get_perspective_coeffs` and `_perspective_grid` are copied below from torchvision
0.2x), with Pillow doing the PIL warp as torchvision calls it and PyTorch's grid_sample the tensor one."""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import striate as st
import striate.data.transforms as T
from striate.data.transforms_perspective import perspective_coefficients

Image = pytest.importorskip("PIL.Image", reason="the PIL transforms need Pillow (striate[images])")


@pytest.fixture(scope="module")
def photo():
    data = pytest.importorskip("skimage.data", reason="the sample photograph comes from scikit-image")
    return Image.fromarray(np.ascontiguousarray(data.astronaut()[::8, ::7]))  # 64 x 74 RGB


def tv_params(width, height, d):
    hh, hw = height // 2, width // 2
    r = lambda lo, hi: int(torch.randint(lo, hi, size=(1,)).item())  # noqa: E731
    tl = [r(0, int(d * hw) + 1), r(0, int(d * hh) + 1)]
    tr = [r(width - int(d * hw) - 1, width), r(0, int(d * hh) + 1)]
    br = [r(width - int(d * hw) - 1, width), r(height - int(d * hh) - 1, height)]
    bl = [r(0, int(d * hw) + 1), r(height - int(d * hh) - 1, height)]
    return [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], [tl, tr, br, bl]


def tv_coeffs(start, end):
    a = torch.zeros(8, 8, dtype=torch.float64)
    for i, (p1, p2) in enumerate(zip(end, start)):
        a[2 * i, :] = torch.tensor([p1[0], p1[1], 1, 0, 0, 0, -p2[0] * p1[0], -p2[0] * p1[1]])
        a[2 * i + 1, :] = torch.tensor([0, 0, 0, p1[0], p1[1], 1, -p2[1] * p1[0], -p2[1] * p1[1]])
    b = torch.tensor(start, dtype=torch.float64).view(8)
    return torch.linalg.lstsq(a, b, driver="gels").solution.to(torch.float32).tolist()


def tv_perspective_tensor(img, coeffs, mode, fill):
    oh, ow = img.shape[-2:]
    theta1 = torch.tensor([[[coeffs[0], coeffs[1], coeffs[2]], [coeffs[3], coeffs[4], coeffs[5]]]])
    theta2 = torch.tensor([[[coeffs[6], coeffs[7], 1.0], [coeffs[6], coeffs[7], 1.0]]])
    base = torch.empty(1, oh, ow, 3)
    base[..., 0].copy_(torch.linspace(0.5, ow + 0.5 - 1.0, steps=ow))
    base[..., 1].copy_(torch.linspace(0.5, oh + 0.5 - 1.0, steps=oh).unsqueeze_(-1))
    base[..., 2].fill_(1)
    g1 = base.view(1, oh * ow, 3).bmm(theta1.transpose(1, 2) / torch.tensor([0.5 * ow, 0.5 * oh]))
    g2 = base.view(1, oh * ow, 3).bmm(theta2.transpose(1, 2))
    grid = (g1 / g2 - 1.0).view(1, oh, ow, 2)
    x = torch.cat([img[None], torch.ones(1, 1, oh, ow)], 1)
    out = tF.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)[0]
    out, mask = out[:-1], out[-1:].expand_as(out[:-1])
    fill_img = torch.tensor(fill).view(-1, 1, 1).expand_as(out)
    return torch.where(mask < 0.5, fill_img, out) if mode == "nearest" else out * mask + (1 - mask) * fill_img


def test_random_perspective_pil_equals_torchvisions_call(photo):
    warped = 0
    for seed in range(8):
        torch.manual_seed(seed)
        st.manual_seed(seed)
        out = T.RandomPerspective(distortion_scale=0.6, p=0.7, fill=(10, 20, 30))(photo)
        if torch.rand(1) < 0.7:
            start, end = tv_params(*photo.size, 0.6)
            ref = photo.transform(photo.size, Image.PERSPECTIVE, tv_coeffs(start, end), Image.BILINEAR,
                                  fillcolor=(10, 20, 30))
            warped += 1
        else:
            ref = photo
        assert st.rand(2).tolist() == torch.rand(2).tolist()
        assert np.array_equal(np.asarray(out), np.asarray(ref)), seed
    assert 0 < warped < 8


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_random_perspective_tensor_equals_torchvision(mode):
    x = np.random.default_rng(0).random((3, 21, 26)).astype(np.float32)
    for seed in range(6):
        torch.manual_seed(seed)
        st.manual_seed(seed)
        out = T.RandomPerspective(0.5, p=1.0, interpolation=mode, fill=0.25)(st.tensor(x)).numpy()
        torch.rand(1)
        start, end = tv_params(26, 21, 0.5)
        ref = tv_perspective_tensor(torch.tensor(x), tv_coeffs(start, end), mode, [0.25] * 3).numpy()
        if mode == "bilinear":
            np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
        else:  # a source point within float32 rounding of a pixel edge may pick the neighbour
            assert (np.abs(out - ref) > 1e-6).mean() < 0.01


def test_random_perspective_coefficients_and_errors():
    start = [[0, 0], [9, 0], [9, 7], [0, 7]]
    end = [[1, 2], [8, 1], [9, 6], [0, 7]]
    coeffs = perspective_coefficients(start, end)
    assert coeffs == tv_coeffs(start, end)
    with pytest.raises(ValueError, match="distortion_scale"):
        T.RandomPerspective(1.5)
    assert T.RandomPerspective(p=0.0)(st.rand(1, 4, 4)).shape == (1, 4, 4)

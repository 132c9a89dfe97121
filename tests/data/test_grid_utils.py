"""make_grid / save_image against torchvision.utils' algorithm (run in torch; torchvision
itself when it is installed)."""

import math

import numpy as np
import pytest
import torch

import striate as st
from striate.data import make_grid as exported_make_grid
from striate.data.utils import make_grid, save_image


def torch_make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
                    pad_value=0.0):
    """torchvision.utils.make_grid (0.28), its tensor steps unchanged, in PyTorch."""
    if isinstance(tensor, list):
        tensor = torch.stack(tensor, dim=0)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = torch.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = torch.cat((tensor, tensor, tensor), 1)
    if normalize is True:
        tensor = tensor.clone()

        def norm_ip(img, low, high):
            img.clamp_(min=low, max=high)
            img.sub_(low).div_(max(high - low, 1e-5))

        def norm_range(t, value_range):
            if value_range is not None:
                norm_ip(t, value_range[0], value_range[1])
            else:
                norm_ip(t, float(t.min()), float(t.max()))

        if scale_each is True:
            for t in tensor:
                norm_range(t, value_range)
        else:
            norm_range(tensor, value_range)
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    nmaps = tensor.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(tensor.size(2) + padding), int(tensor.size(3) + padding)
    grid = tensor.new_full((tensor.size(1), height * ymaps + padding, width * xmaps + padding), pad_value)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            grid.narrow(1, y * height + padding, height - padding).narrow(
                2, x * width + padding, width - padding).copy_(tensor[k])
            k = k + 1
    return grid


SHAPES = [(5, 1, 8, 8), (9, 3, 4, 6), (1, 3, 5, 5), (3, 5, 5), (1, 5, 5), (6, 7), (16, 2, 3, 3)]
OPTIONS = [{}, {"nrow": 3, "padding": 1, "pad_value": 0.5}, {"normalize": True},
           {"normalize": True, "scale_each": True}, {"normalize": True, "value_range": (-0.5, 0.5)},
           {"padding": 0, "nrow": 1}, {"nrow": 20, "padding": 4}]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_make_grid_equals_torchvision(shape, dtype):
    rng = np.random.default_rng(len(shape))
    for options in OPTIONS:
        x = (rng.standard_normal(shape) * 2).astype(dtype)
        expected = torch_make_grid(torch.tensor(x), **options).numpy()
        got = make_grid(st.tensor(x, dtype=dtype), **options).numpy()
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected, err_msg=str(options))


def test_make_grid_takes_lists_and_arrays():
    rng = np.random.default_rng(0)
    images = [rng.random((1, 4, 4)).astype(np.float32) for _ in range(5)]
    expected = torch_make_grid([torch.tensor(i) for i in images], nrow=2).numpy()
    np.testing.assert_array_equal(make_grid([st.tensor(i) for i in images], nrow=2).numpy(), expected)
    np.testing.assert_array_equal(exported_make_grid(np.stack(images), nrow=2).numpy(), expected)
    source = np.stack(images)
    before = source.copy()
    make_grid(source, normalize=True)
    np.testing.assert_array_equal(source, before)  # the input is never changed


def test_make_grid_bad_input():
    with pytest.raises(TypeError, match="list of tensors expected"):
        make_grid("images")
    with pytest.raises(ValueError, match="one shape"):
        make_grid([st.zeros(1, 2, 2), st.zeros(1, 3, 3)])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(st.zeros(2, 1, 2, 2), normalize=True, value_range=[0, 1])
    with pytest.raises(ValueError, match="nrow"):
        make_grid(st.zeros(2, 1, 2, 2), nrow=0)


def test_save_image_writes_torchvisions_pixels(tmp_path):
    Image = pytest.importorskip("PIL.Image", reason="save_image needs Pillow (striate[images])")
    x = np.random.default_rng(1).random((10, 1, 8, 8)).astype(np.float32) * 1.2 - 0.1
    save_image(st.tensor(x), tmp_path / "grid.png", nrow=4)
    grid = torch_make_grid(torch.tensor(x), nrow=4)
    expected = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
    with Image.open(tmp_path / "grid.png") as img:
        np.testing.assert_array_equal(np.asarray(img), expected)
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]  # no temporary left behind
    with pytest.raises(ValueError, match="format"):
        save_image(st.tensor(x), tmp_path / "grid.unknown")


def test_equals_torchvision_itself_when_installed():
    utils = pytest.importorskip("torchvision.utils", reason="torchvision is not a test dependency")
    x = np.random.default_rng(2).standard_normal((7, 3, 5, 4)).astype(np.float32)
    for options in OPTIONS:
        np.testing.assert_array_equal(make_grid(st.tensor(x), **options).numpy(),
                                      utils.make_grid(torch.tensor(x), **options).numpy())

"""Against torchvision itself, when it is installed (it is not a test dependency: its PyPI
wheels do not load beside this torch; a developer with a working torchvision runs these)."""

import numpy as np
import pytest
import torch

import striate as st
import striate.data.transforms as T

TV = pytest.importorskip("torchvision.transforms", reason="torchvision is not installed (optional check)")
Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def photo():
    data = pytest.importorskip("skimage.data")
    return Image.fromarray(np.ascontiguousarray(data.astronaut()[::4, ::4]))


def run_both(make, img, seed, tensor):
    torch.manual_seed(seed)
    st.manual_seed(seed)
    a = make(TV)(torch.tensor(img) if tensor else img)
    b = make(T)(st.tensor(img) if tensor else img)
    assert torch.rand(1).item() == st.rand(1).item()
    return a, b


PIL_CASES = [
    lambda M: M.RandomRotation(30),
    lambda M: M.RandomRotation((-90, 90), interpolation=M.InterpolationMode.BILINEAR, expand=True,
                               fill=(10, 20, 30)),
    lambda M: M.ColorJitter(0.4, 0.4, 0.4, 0.2),
    lambda M: M.RandomResizedCrop(64),
    lambda M: M.RandomResizedCrop((40, 60), scale=(0.5, 1.0), ratio=(0.5, 2.0),
                                  interpolation=M.InterpolationMode.BICUBIC),
    lambda M: M.RandomAffine(20, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=(-10, 10, -5, 5)),
    lambda M: M.Grayscale(3),
    lambda M: M.Resize(50),
    lambda M: M.Compose([M.RandomResizedCrop(32), M.ColorJitter(0.2, 0.2, 0.2, 0.1), M.ToTensor()]),
]
PIL_CASES += [  # issue 21 (i21-vision2), written without torchvision at hand (see TENSOR_CASES)
    lambda M: M.RandomGrayscale(0.5),
    lambda M: M.RandomPerspective(0.5, p=0.7, fill=(10, 20, 30)),
    lambda M: M.RandomApply([M.ColorJitter(0.3, 0.3)], p=0.5),
]


@pytest.mark.parametrize("case", range(len(PIL_CASES)))
def test_pil_transforms_equal_torchvision(photo, case):
    for seed in range(10):
        a, b = run_both(PIL_CASES[case], photo, seed, tensor=False)
        if isinstance(a, torch.Tensor):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        else:
            assert a.mode == b.mode and np.array_equal(np.asarray(a), np.asarray(b))


TENSOR_CASES = [
    (lambda M: M.ColorJitter(0.5, 0.5, 0.5, 0.3), 1e-6),
    (lambda M: M.RandomRotation(30), 0),
    (lambda M: M.RandomRotation(30, interpolation=M.InterpolationMode.BILINEAR, expand=True, fill=0.5), 1e-6),
    (lambda M: M.RandomAffine(20, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=10,
                              interpolation=M.InterpolationMode.BILINEAR), 1e-6),
    (lambda M: M.RandomResizedCrop(12), 1e-5),
    (lambda M: M.Grayscale(3), 0),
]
# issue 21 (i21-vision2); written without torchvision at hand (the replayed-code tests in
# test_transforms_pixels.py / test_transforms_perspective.py ran instead): first run may need care
TENSOR_CASES += [
    (lambda M: M.RandomGrayscale(0.5), 1e-6),
    (lambda M: M.GaussianBlur(5, (0.1, 2.0)), 1e-5),
    (lambda M: M.RandomErasing(p=0.8, value="random"), 0),
    (lambda M: M.RandomErasing(p=1.0, value=(0.1, 0.2, 0.3)), 0),
    (lambda M: M.RandomPerspective(0.5, p=1.0), 1e-5),
]


@pytest.mark.parametrize("case", range(len(TENSOR_CASES)))
def test_tensor_transforms_equal_torchvision(case):
    make, tol = TENSOR_CASES[case]
    x = np.random.default_rng(1).random((3, 20, 24)).astype(np.float32)
    for seed in range(10):
        a, b = run_both(make, x, seed, tensor=True)
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=tol, atol=tol)


def test_conversions_equal_torchvision(photo):
    gray = photo.convert("L")
    for img in [photo, gray, photo.convert("RGBA"), gray.convert("1"), gray.convert("I"), gray.convert("F"),
                gray.convert("I;16"), photo.convert("P")]:
        for ours, theirs in ((T.ToTensor(), TV.ToTensor()), (T.PILToTensor(), TV.PILToTensor())):
            a, b = theirs(img).numpy(), ours(img).numpy()
            assert a.dtype == b.dtype and np.array_equal(a, b), img.mode
    x = np.random.default_rng(0).random((3, 5, 6)).astype(np.float32)
    for arr in (x, x[:1]):
        a, b = TV.ToPILImage()(torch.tensor(arr)), T.ToPILImage()(st.tensor(arr))
        assert a.mode == b.mode and np.array_equal(np.asarray(a), np.asarray(b))

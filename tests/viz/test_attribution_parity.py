"""st.viz's attributions and class activation maps against the same methods written in the test
with PyTorch, on the same weights: a 2-D CNN, a ResNet basic block and a 1-D CNN (float32, 1e-5
relative with the harness's floor at 1e-5 of the largest magnitude)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as tF
from torch import nn as tnn

import striate as st
import striate.nn as nn
from harness import assert_close
from striate.models.resnet import BasicBlock

RTOL = 1e-5
GUIDED = [False]  # the torch twins' ReLUs switch to the guided rule when this is True


class TorchGuidedReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.clamp(min=0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * ((y > 0) & (g > 0)).to(g.dtype)


class TReLU(tnn.Module):
    def forward(self, x):
        return TorchGuidedReLU.apply(x) if GUIDED[0] else torch.relu(x)


# ----------------------------------------------------------------------------- the networks
def cnn2d():
    s = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                      nn.Conv2d(6, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 5))
    t = tnn.Sequential(tnn.Conv2d(3, 6, 3, padding=1), TReLU(), tnn.MaxPool2d(2),
                       tnn.Conv2d(6, 8, 3), TReLU(), tnn.Flatten(), tnn.Linear(8 * 4 * 4, 5))
    return s, t, (2, 3, 12, 12), "4"


class StResNetHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(2, 4, 3, padding=1)
        down = nn.Sequential(nn.Conv2d(4, 6, 1, stride=2, bias=False), nn.BatchNorm2d(6))
        self.block = BasicBlock(4, 6, stride=2, downsample=down)
        self.fc = nn.Linear(6 * 5 * 5, 4)

    def forward(self, x):
        return self.fc(st.flatten(self.block(st.relu(self.stem(x))), 1))


class TorchBlock(tnn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(4, 6, 3, 2, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(6)
        self.relu = TReLU()
        self.conv2 = tnn.Conv2d(6, 6, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(6)
        self.downsample = tnn.Sequential(tnn.Conv2d(4, 6, 1, stride=2, bias=False), tnn.BatchNorm2d(6))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + self.downsample(x))


class TorchResNetHead(tnn.Module):
    def __init__(self):
        super().__init__()
        self.stem = tnn.Conv2d(2, 4, 3, padding=1)
        self.block = TorchBlock()
        self.fc = tnn.Linear(6 * 5 * 5, 4)
        self.act = TReLU()

    def forward(self, x):
        return self.fc(torch.flatten(self.block(self.act(self.stem(x))), 1))


def resnet_block():
    return StResNetHead(), TorchResNetHead(), (2, 2, 10, 10), "block"


def cnn1d():
    s = nn.Sequential(nn.Conv1d(2, 5, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
                      nn.Conv1d(5, 6, 3), nn.ReLU(inplace=True), nn.Flatten(), nn.Linear(6 * 10, 3))
    t = tnn.Sequential(tnn.Conv1d(2, 5, 5, padding=2), TReLU(), tnn.MaxPool1d(2),
                       tnn.Conv1d(5, 6, 3), TReLU(), tnn.Flatten(), tnn.Linear(6 * 10, 3))
    return s, t, (3, 2, 24), "4"


NETS = {"cnn2d": cnn2d, "resnet_block": resnet_block, "cnn1d": cnn1d}


@pytest.fixture(params=sorted(NETS))
def net(request):
    s, t, shape, auto = NETS[request.param]()
    rng = np.random.default_rng(1)
    for p in s.parameters():  # non-trivial weights, BN statistics included
        p.data = st.tensor(rng.standard_normal(p.shape).astype(np.float32) * 0.5)
    for name, b in s.named_buffers():
        if name.endswith("running_var"):
            b._set(rng.uniform(0.5, 1.5, b.shape).astype(np.float32))
        elif name.endswith("running_mean"):
            b._set(rng.standard_normal(b.shape).astype(np.float32) * 0.1)
    t.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in s.state_dict().items()})
    s.eval()
    t.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    return s, t, x, auto


# ----------------------------------------------------------------------------- PyTorch references
def torch_input_grad(t, x, target, guided=False):
    GUIDED[0] = guided
    try:
        xt = torch.from_numpy(x.copy()).requires_grad_(True)
        out = t(xt)
        out[torch.arange(len(x)), torch.as_tensor(target)].sum().backward()
    finally:
        GUIDED[0] = False
    return xt.grad.numpy()


def torch_layer(t, x, target, layer):
    store = {}
    module = dict(t.named_modules())[layer]

    def hook(m, args, out):
        out.register_hook(lambda g: store.__setitem__("g", g))
        store["a"] = out

    h = module.register_forward_hook(hook)
    out = t(torch.from_numpy(x.copy()))
    h.remove()
    out[torch.arange(len(x)), torch.as_tensor(target)].sum().backward()
    return store["a"].detach(), store["g"]


def torch_grad_cam(t, x, target, layer):
    a, g = torch_layer(t, x, target, layer)
    alpha = g.mean(dim=tuple(range(2, g.ndim)))
    return torch.relu(torch.einsum("nc,nc...->n...", alpha, a)).numpy()


def torch_grad_cam_pp(t, x, target, layer):
    a, g = torch_layer(t, x, target, layer)
    space = tuple(range(2, g.ndim))
    sum_a = a.sum(dim=space, keepdim=True)
    aij = g**2 / (2 * g**2 + sum_a * g**3 + 1e-7)
    aij = torch.where(g != 0, aij, torch.zeros_like(aij))
    w = (aij * torch.relu(g)).sum(dim=space)
    return torch.relu(torch.einsum("nc,nc...->n...", w, a)).numpy()


def argmax_targets(t, x):
    with torch.no_grad():
        return t(torch.from_numpy(x)).argmax(1).numpy()


# ----------------------------------------------------------------------------- the tests
def test_saliency_and_gradient_x_input(net):
    s, t, x, _ = net
    target = argmax_targets(t, x)
    ref = torch_input_grad(t, x, target)
    assert_close(st.viz.saliency(s, x), np.abs(ref), RTOL, "saliency")
    ref1 = torch_input_grad(t, x, [1] * len(x))
    assert_close(st.viz.saliency(s, x, target=1, abs=False), ref1, RTOL, "grad t=1")
    assert_close(st.viz.gradient_x_input(s, x), ref * x, RTOL, "gradient x input")
    assert all(p.grad is None for p in s.parameters()), "attributions must not write parameter grads"


def test_guided_backprop(net):
    s, t, x, _ = net
    target = argmax_targets(t, x)
    ref = torch_input_grad(t, x, target, guided=True)
    assert not np.allclose(ref, torch_input_grad(t, x, target)), "guided and plain gradients should differ"
    assert_close(st.viz.guided_backprop(s, x), ref, RTOL, "guided backprop")
    # the swap is undone: a plain gradient afterwards is the plain one again
    assert_close(st.viz.saliency(s, x, abs=False), torch_input_grad(t, x, target), RTOL, "after guided")


def test_guided_relu_is_restored_after_an_exception():
    from striate.ops.activation import ReLU

    before = ReLU.backward
    with pytest.raises(ValueError), st.viz.guided_relu():
        raise ValueError("boom")
    assert ReLU.backward is before


def test_smoothgrad_seeded(net):
    s, t, x, _ = net
    target = argmax_targets(t, x)
    n, level = 4, 0.2
    axes = tuple(range(1, x.ndim))
    sigma = level * (x.max(axis=axes, keepdims=True) - x.min(axis=axes, keepdims=True))
    noise = np.random.default_rng(7).standard_normal((n, *x.shape)).astype(np.float32)
    ref = np.mean([torch_input_grad(t, x + sigma * e, target) for e in noise], axis=0)
    got = st.viz.smoothgrad(s, x, n_samples=n, noise_level=level, seed=7)
    assert_close(got, ref, RTOL, "smoothgrad")
    assert np.array_equal(got, st.viz.smoothgrad(s, x, n_samples=n, noise_level=level, seed=7))


def test_integrated_gradients(net):
    s, t, x, _ = net
    target = argmax_targets(t, x)
    steps = 8
    ref = sum(torch_input_grad(t, (k / steps) * x, target) for k in range(1, steps + 1)) * x / steps
    got = st.viz.integrated_gradients(s, x, steps=steps)
    assert_close(got, ref, RTOL, "integrated gradients")


def test_integrated_gradients_completeness():
    s = cnn2d()[0]
    x = np.random.default_rng(3).standard_normal((1, 3, 12, 12)).astype(np.float32)
    s.eval()
    attr = st.viz.integrated_gradients(s, x, target=2, steps=200)
    with st.no_grad():
        diff = float(s(st.tensor(x))[0, 2] - s(st.zeros(1, 3, 12, 12))[0, 2])
    assert abs(attr.sum() - diff) < 0.02 * abs(diff) + 1e-3


def test_grad_cam_family(net):
    s, t, x, auto = net
    assert st.viz.find_cam_layer(s, x) == auto
    target = argmax_targets(t, x)
    cam = st.viz.grad_cam(s, x)
    assert cam.shape[0] == len(x) and cam.ndim == x.ndim - 1
    assert_close(cam, torch_grad_cam(t, x, target, auto), RTOL, "grad_cam")
    assert_close(st.viz.grad_cam_pp(s, x), torch_grad_cam_pp(t, x, target, auto), RTOL, "grad_cam_pp")
    # a named layer and a module object give the same map; per-example targets
    first = "stem" if isinstance(s, StResNetHead) else "0"
    by_name = st.viz.grad_cam(s, x, target=[1] * len(x), layer=first)
    by_module = st.viz.grad_cam(s, x, target=1, layer=s.get_submodule(first))
    assert_close(by_name, torch_grad_cam(t, x, [1] * len(x), first), RTOL, "grad_cam layer 0")
    assert np.array_equal(by_name, by_module)
    raw = st.viz.grad_cam(s, x, relu=False)
    assert_close(np.maximum(raw, 0), cam, RTOL, "relu=False")


def test_guided_grad_cam(net):
    s, t, x, auto = net
    target = argmax_targets(t, x)
    cam = torch.from_numpy(torch_grad_cam(t, x, target, auto))[:, None]
    mode = "bilinear" if x.ndim == 4 else "linear"
    up = tF.interpolate(cam, size=x.shape[2:], mode=mode, align_corners=False).numpy()
    ref = torch_input_grad(t, x, target, guided=True) * up
    assert_close(st.viz.guided_grad_cam(s, x), ref, RTOL, "guided grad-cam")


def test_bad_layer_and_target_messages():
    s, _, shape, _ = cnn2d()
    x = np.zeros(shape, np.float32)
    with pytest.raises(ValueError, match="no module 'nope'"):
        st.viz.grad_cam(s, x, layer="nope")
    with pytest.raises(ValueError, match="out of range"):
        st.viz.grad_cam(s, x, target=9)
    with pytest.raises(ValueError, match="no spatial axes"):
        st.viz.grad_cam(s, x, layer="6")
    with pytest.raises(ValueError, match="batch"):
        st.viz.saliency(s, x[0, 0, 0])

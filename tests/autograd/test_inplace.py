"""In-place ops on tensors in the graph, with PyTorch's rule, checked against PyTorch.

Each op runs on a non-leaf (x * 1 or similar), so the in-place change is recorded and the
gradient flows through the old value; the harness compares values and gradients with PyTorch
in float32 and float64 and runs a float64 gradcheck.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.harness import OpCase, check_case

import striate as st
import striate.nn as nn
import striate.nn.functional as F


def _two(shape_a, shape_b, positive=False):
    def make(rng):
        a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
        return (np.abs(a) + 0.5, np.abs(b) + 0.5) if positive else (a, b)
    return make


def _one(shape):
    return lambda rng: (rng.standard_normal(shape),)


def _setitem(m, idx):
    def run(x, v):
        y = x * 2
        y[idx] = v * 3
        return y * y
    return run


def _residual(m):
    def run(x, y):
        a = x * 2
        before = a * 3  # recorded before the change: must see the old a (and not save it)
        a += y
        return before + a.exp()
    return run


CASES = [
    OpCase("add_", _two((3, 4), (4,)), lambda x, y: (x * 1).add_(y, alpha=2) * x,
           lambda x, y: (x * 1).add_(y, alpha=2) * x),
    OpCase("sub_", _two((3, 4), (3, 4)), lambda x, y: (x * 1).sub_(y) ** 2,
           lambda x, y: (x * 1).sub_(y) ** 2),
    OpCase("mul_", _two((2, 3, 4), (3, 4)), lambda x, y: (x + 1).mul_(y).exp(),
           lambda x, y: (x + 1).mul_(y).exp()),
    OpCase("div_", _two((5,), (5,), positive=True), lambda x, y: (x * 2).div_(y),
           lambda x, y: (x * 2).div_(y)),
    OpCase("iadd_chain", _two((3, 4), (3, 4)), _residual(st), _residual(torch)),
    OpCase("imul_idiv", _two((4,), (4,), positive=True),
           lambda x, y: _aug(x, y), lambda x, y: _aug(x, y)),
    OpCase("clamp_", _one((4, 5)), lambda x: (x * 3).clamp_(-1, 0.5) * x,
           lambda x: (x * 3).clamp_(-1, 0.5) * x),
    OpCase("relu_", _one((4, 5)), lambda x: (x - 0.1).relu_() * x,
           lambda x: (x - 0.1).relu_() * x),
    OpCase("F.relu_inplace", _one((2, 6)), lambda x: F.relu(x * 2, inplace=True).sum(1),
           lambda x: torch.nn.functional.relu(x * 2, inplace=True).sum(1)),
    OpCase("zero_", _one((3,)), lambda x: (x * 2).zero_() + x, lambda x: (x * 2).zero_() + x),
    OpCase("fill_", _one((3,)), lambda x: (x * 2).fill_(1.5) * x, lambda x: (x * 2).fill_(1.5) * x),
    OpCase("copy_", _two((3, 4), (4,)), lambda x, y: (x * 2).copy_(y) * x,
           lambda x, y: (x * 2).copy_(y) * x),
    OpCase("setitem_slice", _two((4, 5), (5,)), _setitem(st, (slice(1, 3),)),
           _setitem(torch, (slice(1, 3),))),
    OpCase("setitem_int", _two((4, 5), (5,)), _setitem(st, 2), _setitem(torch, 2)),
]


def _aug(x, y):
    z = x * 1
    z *= y
    z /= y + 1
    z -= x
    return z


@pytest.mark.parametrize("case", CASES, ids=str)
def test_inplace_matches_torch(case: OpCase) -> None:
    check_case(case)


def _torch_copy(module: nn.Module, tmodule: torch.nn.Module) -> None:
    with torch.no_grad():
        for p, tp in zip(module.parameters(), tmodule.parameters()):
            tp.copy_(torch.from_numpy(p.array.astype(np.float64)))


def _block(lib):
    """d2l's Residual block: Y = bn2(conv2(relu(bn1(conv1(X))))); Y += X; return relu(Y)."""
    class Residual(lib.nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.conv1 = lib.nn.Conv2d(c, c, 3, padding=1)
            self.conv2 = lib.nn.Conv2d(c, c, 3, padding=1)
            self.bn1, self.bn2 = lib.nn.BatchNorm2d(c), lib.nn.BatchNorm2d(c)

        def forward(self, X):
            Y = lib.nn.functional.relu(self.bn1(self.conv1(X)))
            Y = self.bn2(self.conv2(Y))
            Y += X
            return lib.nn.functional.relu(Y)

    return Residual(3)


def test_residual_block_trains_like_torch() -> None:
    sblock, tblock = _block(st).double(), _block(torch).double()
    _torch_copy(sblock, tblock)
    sopt = st.optim.SGD(sblock.parameters(), lr=0.1)
    topt = torch.optim.SGD(tblock.parameters(), lr=0.1)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal((2, 3, 5, 5))
        sx, tx = st.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        sloss, tloss = (sblock(sx) ** 2).mean(), (tblock(tx) ** 2).mean()
        sopt.zero_grad()
        topt.zero_grad()
        sloss.backward()
        tloss.backward()
        np.testing.assert_allclose(sx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
        for p, tp in zip(sblock.parameters(), tblock.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12)
        sopt.step()
        topt.step()
        assert abs(sloss.item() - tloss.item()) < 1e-12


def test_relu_inplace_layer_in_sequential_matches_torch() -> None:
    snet = nn.Sequential(nn.Linear(4, 5), nn.ReLU(inplace=True), nn.Linear(5, 2)).double()
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(inplace=True),
                               torch.nn.Linear(5, 2)).double()
    _torch_copy(snet, tnet)
    x = np.random.default_rng(1).standard_normal((3, 4))
    snet(st.tensor(x)).sum().backward()
    tnet(torch.tensor(x)).sum().backward()
    for p, tp in zip(snet.parameters(), tnet.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)


def test_setitem_into_buffer_without_grad_records_the_value() -> None:
    for lib in (st, torch):
        v = lib.tensor([1.0, 2.0], requires_grad=True)
        buf = lib.zeros(3, 2)
        buf[1] = v * 2
        assert buf.requires_grad and not buf.is_leaf
        buf.sum().backward()
        assert v.grad.tolist() == [2.0, 2.0]


# ---------------------------------------------------------------- errors, as PyTorch's
def _modified(lib, change):
    x = lib.tensor([[1.0, -2.0, 3.0, 4.0]] * 3, requires_grad=True)
    y = (x * 2).relu()
    z = y * y  # MulBackward0 saves y (version 0)
    change(y)
    with pytest.raises(RuntimeError) as err:
        z.sum().backward()
    return str(err.value)


@pytest.mark.parametrize("change", [lambda y: y.add_(1), lambda y: y.mul_(2),
                                    lambda y: y.__setitem__(0, 0.0), lambda y: y.relu_()])
def test_saved_tensor_modified_gives_torchs_error(change) -> None:
    ours, theirs = _modified(st, change), _modified(torch, change)
    head = "one of the variables needed for gradient computation has been modified by an inplace operation: "
    assert ours.startswith(head) and theirs.startswith(head)
    assert "[striate.FloatTensor [3, 4]], which is output 0 of ReluBackward0, is at version 1; " \
           "expected version 0 instead. Hint:" in ours
    assert "[torch.FloatTensor [3, 4]]" in theirs and "is at version 1; expected version 0" in theirs


def test_saved_output_modified_names_version_two() -> None:
    x = st.randn(3, 4, requires_grad=True)
    y = x * 1
    y.relu_()  # version 1: ReluBackward0 saved its output at version 1
    y.add_(1)  # version 2
    with pytest.raises(RuntimeError, match=r"\[striate.FloatTensor \[3, 4\]\], which is output 0 "
                                           r"of ReluBackward0, is at version 2; expected version 1"):
        y.sum().backward()


def test_change_under_no_grad_is_still_caught() -> None:
    x = st.randn(3, requires_grad=True)
    y = x.exp()
    with st.no_grad():
        y.view(3)[0] = 5.0  # through a view: the shared version counter moves
    assert y._version == 1
    with pytest.raises(RuntimeError, match="output 0 of ExpBackward0, is at version 1"):
        y.sum().backward()


def test_leaf_and_view_of_leaf_refused_like_torch() -> None:
    w = st.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        w += 1
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        w.view(3).mul_(2)
    with st.no_grad():
        w.add_(1)  # optimizers do this: allowed, version moves
    assert w._version == 1


def _through_views(lib):
    x = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    h = x * 2
    h[0] += 1  # view changed in place, then written back through the base
    v = (h * 1).view(2, 6)
    v.relu_()  # Conv1d's output is such a view: relu(inplace=True) on it
    w = v.view(12)  # a view made after the change is up to date
    return x, (v * v).sum() + h.sum() + (w * 3).sum()


def test_inplace_through_views_matches_torch() -> None:
    (sx, s), (tx, t) = _through_views(st), _through_views(torch)
    s.backward()
    t.backward()
    np.testing.assert_allclose(sx.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


def test_shape_changing_inplace_refused() -> None:
    y = st.randn(3, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        y.add_(st.ones(2, 3))


def test_inplace_outside_graph_changes_memory_and_version() -> None:
    a = st.zeros(2, 3)
    v = a[1]
    v.add_(2)
    a[0, 1] = 7
    assert a.tolist() == [[0, 7, 0], [2, 2, 2]] and a._version == 2 and v._version == 2
    d = a.detach()
    d.zero_()
    assert a._version == 3 and a.sum().item() == 0

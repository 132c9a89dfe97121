"""In-place ops through views rewrite the base's history (PyTorch's CopySlices), against PyTorch.

Each pattern runs the same code on striate and on PyTorch in float64 from the same leaves; the
loss and every leaf's gradient must agree to 1e-12. The refusals are compared by their text.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import striate as st
import striate.nn.functional as F

RNG = np.random.default_rng(21)
X0 = RNG.standard_normal((3, 4))
W0 = RNG.standard_normal((3, 4))


def _f(lib):
    return F if lib is st else torch.nn.functional


# Each pattern: (lib, x, w) -> scalar loss; x, w are float64 leaves of shape (3, 4).
def select_mul(lib, x, w):
    y = x * 1
    v = y[0]
    v.mul_(2)
    return (y * y).sum() + (v * w[0]).sum()


def column_zero(lib, x, w):
    y = x * w
    y[:, 1].zero_()
    return (y * x).sum()


def flat_view_add(lib, x, w):
    y = x * 3 - 1
    y.view(-1).add_(w.view(-1))
    return (y ** 2).sum()


def transpose_relu(lib, x, w):
    y = x * 1
    y.transpose(0, 1).relu_()
    return (y * w).sum()


def narrow_div(lib, x, w):
    y = x + 0
    y.narrow(1, 1, 2).div_(w[:, :2] + 3)
    return (y * y * w).sum()


def unsqueeze_squeeze_reshape(lib, x, w):
    y = x * 2
    y.unsqueeze(0).squeeze(0).reshape(12)[3:7].mul_(w.view(-1)[:4])
    return (y * w).sum()


def chained_views(lib, x, w):
    y = x * 1
    y[1:].transpose(0, 1)[2].mul_(w[0, :2])
    y.t()[1:3, 0].add_(w[2, :2])
    return (y * y).sum()


def sibling_view_read_after(lib, x, w):
    y = x * 1
    a, b = y[0], y[:, 1]
    a.mul_(w[1])
    return (b * b).sum() + (a * w[0]).sum() + (y * w).sum()


def base_inplace_then_old_view(lib, x, w):
    y = x * 1
    a = y[1]
    y.mul_(w)
    return (a * a).sum()


def reader_recorded_before_change(lib, x, w):
    y = x * 1
    a = y[0]
    before = ((a + 1) * w[2]).sum()  # read before the change (a * a would save a: torch's error)
    a.add_(w[0])
    return before + (a * 3).sum() + (y * y).sum()


def setitem_through_view(lib, x, w):
    y = x * 1
    y[0][1:3] = w[0, :2] * 2
    r = y[1]
    r[2] = w[2, 3]
    return (y * y).sum()


def residual_slice(lib, x, w):
    out = x * 2
    out[:, :2] += w[:, :2]
    return (out * out).sum()


def repeated_overlapping(lib, x, w):
    y = x * 1
    y[0:2].mul_(2)
    y[1:3].add_(w[1:3])
    y[:, 1:3].mul_(w[:, :2])
    y.view(12)[2:9].clamp_(-0.5, 0.8)
    return (y * w).sum()


def base_and_view_grads(lib, x, w):
    y = x * w
    v = y[:, 2:]
    v.mul_(w[:, :2])
    return y.sum() + (v ** 3).sum()


def no_grad_base_operand_with_grad(lib, x, w):
    b = lib.zeros(3, 4, dtype=lib.float64)
    v, other = b[1], b[:, 2]
    v.add_(w[0] * x[2])
    return (b * b).sum() + (other * 3).sum() + (v * x[0]).sum()


def copy_and_fill(lib, x, w):
    y = x * 1
    y[1].copy_(w[0] * 2)
    y[2, 1:].fill_(0.5)
    return (y * w).sum()


def zero_dim_view(lib, x, w):
    y = x * 1
    y[1, 2].mul_(3)
    y[0][3].add_(w[0, 0])
    return (y * y).sum()


def view_of_view_then_both(lib, x, w):
    y = x * 1
    v = y.view(12)
    u = v[2:5]
    u.mul_(w[0, :3])
    return (v * v).sum() + (y * w).sum() + (u * 2).sum()


def inplace_activation_on_view(lib, x, w):
    y = (x * w).view(2, 6)  # Conv1d's output is such a view
    _f(lib).relu(y[0], inplace=True)
    return (y * y).sum()


def change_view_then_base_then_view(lib, x, w):
    y = x * 1
    v = y[:, 0]
    v.mul_(w[:, 0])
    y.add_(x)
    v.mul_(2)
    return (y * y).sum() + v.sum()


def movedim_permute(lib, x, w):
    y = (x * 1).view(3, 2, 2)
    y.permute(2, 0, 1)[1].mul_(w[:, :2])
    y.movedim(0, 2)[0, 1].add_(w[0, :3])
    return (y * y).sum()


def gradients_of_view_only(lib, x, w):
    y = x * w
    v = y[2]
    v.sub_(x[0])
    return (v * v).sum()


def aliases_as_operands(lib, x, w):
    y = x * w
    v = y[1:]
    v.add_(v)
    y[:, 0].sub_(y[:, 3])  # torch refuses partly overlapping ones (y.add_(y[0])); striate doesn't

    return (y * x).sum() + (v * w[:2]).sum()


def expand_view_read_after(lib, x, w):
    y = x[:1] * 1
    e = y.expand(3, 4)  # read-only, but remade when its base changes
    y.mul_(w[0])
    return (e * w).sum()


PATTERNS = [
    select_mul, column_zero, flat_view_add, transpose_relu, narrow_div, unsqueeze_squeeze_reshape,
    chained_views, sibling_view_read_after, base_inplace_then_old_view,
    reader_recorded_before_change, setitem_through_view, residual_slice, repeated_overlapping,
    base_and_view_grads, no_grad_base_operand_with_grad, copy_and_fill, zero_dim_view,
    view_of_view_then_both, inplace_activation_on_view, change_view_then_base_then_view,
    movedim_permute, gradients_of_view_only, aliases_as_operands, expand_view_read_after,
]


def _run(lib, pattern):
    x = lib.tensor(X0.copy(), dtype=lib.float64, requires_grad=True)
    w = lib.tensor(W0.copy(), dtype=lib.float64, requires_grad=True)
    loss = pattern(lib, x, w)
    loss.backward()
    return loss.item(), x.grad.numpy(), w.grad.numpy()


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.__name__)
def test_gradients_match_torch(pattern) -> None:
    s_loss, s_gx, s_gw = _run(st, pattern)
    t_loss, t_gx, t_gw = _run(torch, pattern)
    np.testing.assert_allclose(s_loss, t_loss, rtol=1e-12)
    np.testing.assert_allclose(s_gx, t_gx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s_gw, t_gw, rtol=1e-12, atol=1e-12)


def test_gradcheck_through_views() -> None:
    w = st.tensor(W0.copy(), dtype=st.float64)

    def fn(x):
        y = x * 1
        y[0].mul_(y[1] * 1)
        y.t()[1:3].add_(w[:, 1:3].t())
        return y * y

    x = st.tensor(X0.copy(), dtype=st.float64, requires_grad=True)
    assert st.autograd.gradcheck(fn, (x,))


def test_node_names_and_versions_like_torch() -> None:
    for lib in (st, torch):
        x = lib.randn(3, 4, requires_grad=True)
        y = x * 1
        v = y[0]
        v.mul_(2)
        assert (type(y.grad_fn).__name__ if lib is torch else y.grad_fn.name()) == "CopySlices"
        assert v.grad_fn.name() == "AsStridedBackward0"
        assert (y._version, v._version) == (1, 1)
        assert v.grad_fn.next_functions[0][0] is y.grad_fn
        assert v._is_view() and v._base is y and v[1:]._base is y and not y._is_view()
        assert y._base is None and not y.detach()._is_view()


def test_retain_graph_and_autograd_grad_through_copyslices() -> None:
    grads = {}
    for lib in (st, torch):
        x = lib.tensor(X0.copy(), dtype=lib.float64, requires_grad=True)
        w = lib.tensor(W0.copy(), dtype=lib.float64, requires_grad=True)
        y = x * 1
        y[:, 1:3].mul_(w[:, :2])
        loss = (y * y).sum()
        gx, gw = lib.autograd.grad(loss, [x, w], retain_graph=True)
        loss.backward(retain_graph=True)
        loss.backward()  # the graph was retained: twice the gradient
        grads[lib] = (gx.numpy(), gw.numpy(), x.grad.numpy(), w.grad.numpy())
    for a, b in zip(grads[st], grads[torch]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_detached_alias_changes_values_not_history() -> None:
    for lib in (st, torch):
        x = lib.tensor(X0.copy(), dtype=lib.float64, requires_grad=True)
        y = x * 2
        y.detach()[0].mul_(0)  # torch's rule: a detached alias is outside the graph
        assert y._version == 1 and y.grad_fn.name() == "MulBackward0"
        (y * 1).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 4), 2.0))


def test_view_of_a_replaced_base_gets_a_clear_error() -> None:
    x = st.tensor(X0.copy(), requires_grad=True)
    y = x * 1
    v = y[0]
    y.data = st.zeros(2, 2)  # the view no longer fits its base
    y.add_(1)
    with pytest.raises(RuntimeError, match="base's array was replaced"):
        (v * 1).sum().backward()


# ------------------------------------------------------------------------------- refusals
def _error(lib, fn) -> str:
    x = lib.tensor(X0.copy(), dtype=lib.float64, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        fn(lib, x)
    return str(info.value)


def view_of_leaf(lib, x):
    x[0].mul_(2)


def view_of_leaf_under_no_grad(lib, x):
    with lib.no_grad():
        v = x[0]
    v.mul_(2)


def no_grad_view(lib, x):
    y = x * 1
    with lib.no_grad():
        v = y[0]
    v.mul_(2)


def no_grad_view_of_plain_tensor(lib, x):
    b = lib.zeros(3, 4, dtype=lib.float64)
    with lib.no_grad():
        v = b[0]
    v.add_(x[0])


def unbind_output(lib, x):
    (x * 1).unbind(1)[3].mul_(2)


def split_output(lib, x):
    (x * 1).split(2, 1)[1].add_(1)


def split_sizes_output(lib, x):
    (x * 1).split([1, 3], 1)[1].add_(1)


def chunk_output(lib, x):
    (x * 1).chunk(2, 1)[1].add_(1)


def view_of_multi_output(lib, x):
    (x * 1).unbind(0)[1][1:3].mul_(2)


def expanded(lib, x):
    (x[0:1] * 1).expand(3, 4).mul_(2)


def saved_then_changed_through_view(lib, x):
    y = x * 1
    z = y.sin()
    y[0].mul_(2)
    z.sum().backward()


def operand_alias_changed(lib, x):
    y = x * 1
    y[:, 0].mul_(y[:, 1])
    y.sum().backward()


ERRORS = [view_of_leaf, view_of_leaf_under_no_grad, no_grad_view, no_grad_view_of_plain_tensor,
          unbind_output, split_output, split_sizes_output, chunk_output, view_of_multi_output,
          expanded]


@pytest.mark.parametrize("fn", ERRORS, ids=lambda f: f.__name__)
def test_refusals_have_torch_text(fn) -> None:
    assert _error(st, fn) == _error(torch, fn)


@pytest.mark.parametrize("fn", [saved_then_changed_through_view, operand_alias_changed],
                         ids=lambda f: f.__name__)
def test_saved_value_changed_through_view_is_torchs_error(fn) -> None:
    s, t = _error(st, fn), _error(torch, fn)
    head = "one of the variables needed for gradient computation has been modified by an inplace"
    assert s.startswith(head) and t.startswith(head)
    assert s.split("]")[0].replace("striate", "torch") == t.split("]")[0]  # the tensor's kind, shape
    assert s.split(" is at version")[1].split("Hint")[0] == t.split(" is at version")[1].split("Hint")[0]
    # The node named after "which is output 0 of" differs: striate names the tensor's node as
    # the saving op saw it, torch 2.13 its present one in a short form ("Add", "Relu").


def _indirect(kind):
    def run(lib, x):
        y = x * 1
        if kind == "multi":
            view = y.unbind(0)[0]
        else:
            with lib.no_grad():
                view = y[0]
        y.mul_(2)  # the base changes: such views cannot be remade
        (view * 2).sum().backward()
    run.__name__ = kind
    return run


@pytest.mark.parametrize("kind", ["multi", "no_grad"])
def test_views_unusable_after_their_base_changed(kind) -> None:
    """PyTorch raises when such a view is next used; striate at the backward that reaches it."""
    assert _error(st, _indirect(kind)) == _error(torch, _indirect(kind))


def test_changes_under_no_grad_are_not_recorded() -> None:
    for lib in (st, torch):
        x = lib.tensor(X0.copy(), dtype=lib.float64, requires_grad=True)
        y = x * 1
        with lib.no_grad():
            v = y[0]
            v.mul_(2)  # both inside no_grad: allowed, only the version moves
        assert y._version == 1 and y.grad_fn.name() == "MulBackward0"
        (y * 1).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 4)))

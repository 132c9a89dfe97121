"""The convolution as the lecture writes it, in plain NumPy: the reference path.

Seed 001 slides each filter over the (zero-padded) image and takes a dot product at every
position. Written per kernel offset (i, j), that is a sum of kh*kw shifted, strided views:

    Y[n, o, y, x] = b[o] + sum_{c, i, j} W[o, c, i, j] * Xp[n, c, S*y + D*i, S*x + D*j]

and the chain rule gives the backward term by term, with the same views:

    dW[o, c, i, j] = sum_{n, y, x} dY[n, o, y, x] * Xp[n, c, S*y + D*i, S*x + D*j]
    dXp[n, c, S*y + D*i, S*x + D*j] += sum_o dY[n, o, y, x] * W[o, c, i, j]     (then crop P)
    db[o] = sum_{n, y, x} dY[n, o, y, x]

Groups are G independent convolutions over channel blocks. No chunks, no threads, no
Winograd: slow and obviously right. `st.config.use_reference()` runs every convolution here,
and the tests use it as an oracle next to PyTorch.
"""

from __future__ import annotations

import numpy as np

from striate.autograd.function import Function
from striate.ops.conv_chunks import ConvGeometry


def _window(xp: np.ndarray, i: int, j: int, g: ConvGeometry) -> tuple[slice, slice, slice, slice]:
    """The index of Xp[:, :, S*y + D*i, S*x + D*j] for all output positions (y, x)."""
    rows = slice(i * g.dh, i * g.dh + g.sh * (g.oh - 1) + 1, g.sh)
    cols = slice(j * g.dw, j * g.dw + g.sw * (g.ow - 1) + 1, g.sw)
    return slice(None), slice(None), rows, cols


class Conv2dReference(Function):
    """conv2d by the definition (see the module docstring); x (N, C, H, W), w (O, C/G, kh, kw)."""

    saves_inputs = (0, 1)
    saved_for = {0: (1,), 1: (0,)}  # input i is read only for these inputs' gradients

    def forward(self, x, w, b=None, *, geometry: ConvGeometry, pads, groups):
        top, bottom, left, right = pads
        xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
        N, O, G = x.shape[0], w.shape[0], groups
        Cg, Og = w.shape[1], O // G
        y = np.zeros((N, O, geometry.oh, geometry.ow), x.dtype)
        for g in range(G):
            xg, wg = xp[:, g * Cg:(g + 1) * Cg], w[g * Og:(g + 1) * Og]
            for i in range(geometry.kh):
                for j in range(geometry.kw):
                    y[:, g * Og:(g + 1) * Og] += np.einsum("ncyx,oc->noyx", xg[_window(xg, i, j, geometry)],
                                                           wg[:, :, i, j])
        if b is not None:
            y += b[None, :, None, None]
        self.xp, self.w, self.geometry, self.pads, self.groups = xp, w, geometry, pads, groups
        return y

    def backward(self, dy):
        xp, w, geometry, G = self.xp, self.w, self.geometry, self.groups
        top, bottom, left, right = self.pads
        Cg, Og = w.shape[1], w.shape[0] // G
        dxp, dw = np.zeros_like(xp), np.zeros_like(w)
        for g in range(G):
            xg, dyg = xp[:, g * Cg:(g + 1) * Cg], dy[:, g * Og:(g + 1) * Og]
            dxg = dxp[:, g * Cg:(g + 1) * Cg]
            for i in range(geometry.kh):
                for j in range(geometry.kw):
                    view = _window(xg, i, j, geometry)
                    dw[g * Og:(g + 1) * Og, :, i, j] = np.einsum("noyx,ncyx->oc", dyg, xg[view])
                    dxg[view] += np.einsum("noyx,oc->ncyx", dyg, w[g * Og:(g + 1) * Og, :, i, j])
        H, W = xp.shape[2] - top - bottom, xp.shape[3] - left - right
        dx = dxp[:, :, top:top + H, left:left + W]
        grads = (dx, dw)
        return grads if len(self.needs_input_grad) == 2 else grads + (dy.sum(axis=(0, 2, 3)),)

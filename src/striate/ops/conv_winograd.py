"""The convolution by Winograd's minimal filtering F(2x2, r x r), as one Function.

    Y = A^T [ (G g G^T) * (B^T d B) ] A      per 2x2 output block (`striate.ops.winograd`)
    dW = G^T dU G,  dU[ab] = dM[ab] @ V[ab]^T;   dX = sum of B dV B^T,  dV[ab] = U[ab]^T @ dM[ab]

For stride-1, dilation-1, single-group 3x3 and 5x5 layers; `conv.conv2d` chooses it where the
thresholds in `striate.tuning` say it pays (or when forced with `st.config.use_conv_path`).
"""

from __future__ import annotations

import numpy as np

from striate.autograd.function import Function
from striate.ops import fusion, winograd
from striate.ops.conv_chunks import ConvGeometry, in_threads, input_shaped, padded, sum_pairs


class Conv2dWinograd(Function):
    """Y = conv2d(X, W) + b for a stride-1 r x r layer (r = 3 or 5), by Winograd F(2x2, r x r).

    Inputs: x (N, C, H, W), w (O, C, r, r), b (O,) or absent; `pads` is (top, bottom, left,
    right). The batch runs in chunks, one run of chunks per thread; the forward keeps the
    transformed weights U for the backward's dX.
    """

    saves_inputs = (0, 1)
    saved_for = {0: (1,), 1: (0,)}  # input i is read only for these inputs' gradients
    relu = False  # fused with the ReLU after it (`ops.fusion`): max(0, .) chunk by chunk, in cache

    def forward(self, x, w, b=None, *, geometry: ConvGeometry, pads):
        N, C = x.shape[:2]
        O, OH, OW, r = w.shape[0], geometry.oh, geometry.ow, geometry.kh
        u = winograd.weight_transform(w)
        bias = np.zeros(O, x.dtype) if b is None else b
        y = np.empty((N, O, OH, OW), x.dtype)

        def forward_chunk(start: int, stop: int) -> None:
            winograd.forward_chunk(x[start:stop], u, bias, y[start:stop], pads[0], pads[2], r)
            if self.relu:
                np.maximum(y[start:stop], y.dtype.type(0), out=y[start:stop])

        # images side by side pay with several per chunk: twice the usual budget measured best
        in_threads(forward_chunk, N, winograd.chunk_bytes(C, O, OH, OW, x.itemsize, r) // 2)
        if self.needs_input_grad is not None:
            self.x, self.w_shape, self.r, self.u = x, w.shape, r, u
            self.tile_pads = winograd.padding(pads, x.shape, OH, OW, r)
            self.geometry, self.pads = geometry, pads  # the layer as asked (ONNX export reads them)
            if self.relu:
                self.relu_out = y
        return y

    def backward(self, g):
        x, needs, pads, r = self.x, self.needs_input_grad, self.tile_pads, self.r
        (N, C, H, W), (top, left) = x.shape, (pads[0], pads[2])
        O, OH, OW = g.shape[1:]
        g = np.ascontiguousarray(g)
        gx = np.empty(x.shape, g.dtype) if needs[0] else None
        u = self.u if needs[0] else None
        bias_grad = len(needs) == 3 and needs[2]

        def backward_chunk(start: int, stop: int):
            gc = g[start:stop]
            if self.relu:  # dL/d(conv) = dL/dy where y = relu(conv) > 0: masked while in cache
                gc = fusion.relu_mask(gc, self.relu_out[start:stop])
            dxp, du = winograd.backward_chunk(gc, padded(x[start:stop], pads), u, needs[1], r)
            if dxp is not None:
                gx[start:stop] = dxp[:, :, top:top + H, left:left + W]
            return (0 if du is None else du), (gc.sum(axis=(0, 2, 3)) if bias_grad else 0)

        # as many images per chunk as the forward (so twice its scratch): a quarter of that
        # measured 7-12% slower on the CIFAR net's and the MNIST ConvNet's layers
        partials = in_threads(backward_chunk, N, winograd.chunk_bytes(C, O, OH, OW, g.itemsize, r) // 2)
        du_sum, gb_sum = sum_pairs(partials, (np.zeros(((r + 1) ** 2, O, C), g.dtype), np.zeros(O, g.dtype)))
        gw = winograd.weight_grad(du_sum, r) if needs[1] else None
        return input_shaped(needs, x.shape, self.w_shape, gx, gw, gb_sum)

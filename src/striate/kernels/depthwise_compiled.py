"""Numba twins of `reference.depthwise_forward` / `depthwise_backward` (same layouts, same order).

A depthwise layer (groups = in_channels) gives every channel its own few filters: as im2col +
GEMM it becomes G tiny (m x kh*kw) @ (kh*kw x OH*OW) products plus a kh*kw-fold copy of the
input, so a direct loop that reads each input row once per tap and keeps the output row in L1
is faster. Serial on purpose: striate's threads split the batch (`ops.conv_depthwise`).
The weight gradient accumulates in float64 (a sum over N*OH*OW products per tap).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def depthwise_forward(xp, w, bias, sh, sw, dh, dw, out):
    N, C, m, kh, kw = xp.shape[0], w.shape[0], w.shape[1], w.shape[2], w.shape[3]
    oh, ow = out.shape[2], out.shape[3]
    for n in range(N):
        for c in range(C):
            plane = xp[n, c]
            for q in range(m):
                o = c * m + q
                result = out[n, o]
                for y in range(oh):
                    orow = result[y]
                    b = bias[o]
                    for x in range(ow):
                        orow[x] = b
                    for i in range(kh):
                        row = plane[y * sh + i * dh]
                        for j in range(kw):
                            wv = w[c, q, i, j]
                            offset = j * dw
                            if sw == 1:  # a contiguous run the compiler vectorizes
                                for x in range(ow):
                                    orow[x] += wv * row[offset + x]
                            else:
                                for x in range(ow):
                                    orow[x] += wv * row[offset + x * sw]


@njit(cache=True, nogil=True)
def depthwise_backward(g, xp, w, sh, sw, dh, dw, gxp):
    N, C, m, kh, kw = xp.shape[0], w.shape[0], w.shape[1], w.shape[2], w.shape[3]
    oh, ow = g.shape[2], g.shape[3]
    gw = np.zeros((C, m, kh, kw))
    grad_input = gxp is not None
    for n in range(N):
        for c in range(C):
            plane = xp[n, c]
            for q in range(m):
                grad = g[n, c * m + q]
                for i in range(kh):
                    for j in range(kw):
                        wv = w[c, q, i, j]
                        offset = j * dw
                        s = 0.0
                        for y in range(oh):
                            row = plane[y * sh + i * dh]
                            grow = grad[y]
                            for x in range(ow):
                                s += grow[x] * row[offset + x * sw]
                            if grad_input:
                                target = gxp[n, c, y * sh + i * dh]
                                for x in range(ow):
                                    target[offset + x * sw] += wv * grow[x]
                        gw[c, q, i, j] += s
    return gw

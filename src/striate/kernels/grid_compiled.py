"""Numba twin of `reference.scatter_rows`: grid_sample's input gradient (`ops.grid_sample`).

Each output pixel p sends w_k(p) * dL/dy[p, :] (all channels, one contiguous row) to the input
pixel of each neighbour k. Rows are added in order, in the gradient's dtype (float32 stays
float32, as PyTorch's CPU kernel accumulates), so results differ from the NumPy twin (a float64
`bincount`) in the last bits only. Serial on purpose: it runs inside striate's threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def scatter_rows(index, weight, g_rows, n_rows):
    neighbours, rows = index.shape
    channels = g_rows.shape[1]
    out = np.zeros((n_rows, channels), g_rows.dtype)
    for k in range(neighbours):
        for r in range(rows):
            w = weight[k, r]
            if w != 0:
                dst = out[index[k, r]]
                src = g_rows[r]
                for c in range(channels):
                    dst[c] += w * src[c]
    return out

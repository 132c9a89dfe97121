"""`st.linalg`: the norms of `torch.linalg` (the SVD-based ones are not available in striate).

    st.linalg.norm(A, ord=None, dim=None, keepdim=False)
    st.linalg.vector_norm(x, ord=2, dim=None, keepdim=False)
    st.linalg.matrix_norm(A, ord='fro', dim=(-2, -1), keepdim=False)

The formulas and gradients live in `striate.ops.vector_norm`.
"""

from __future__ import annotations

from striate.ops.vector_norm import linalg_norm as norm
from striate.ops.vector_norm import matrix_norm, vector_norm

__all__ = ["matrix_norm", "norm", "vector_norm"]

"""The operations of the graph, one concept per module; each op's forward and backward sit
side by side in its `Function` class.

Importing this package binds the operator methods onto `st.Tensor` (`tensor_methods`)."""

from striate.ops import tensor_methods as _tensor_methods  # noqa: F401  (binds t + u, t.sum(), ...)
from striate.ops import tensor_methods_extra as _tensor_methods_extra  # noqa: F401, E402  (issue 21: sin, topk, ...)
from striate.ops import tensor_methods_misc as _tensor_methods_misc  # noqa: F401, E402  (issue 21: unique, div(rounding_mode=), ...)

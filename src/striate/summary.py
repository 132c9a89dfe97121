"""`st.summary`: the lectures' arithmetic for one layer and the layer table of a model.

The work lives in three modules; this one only gathers their public names under the path
users already know:

- `striate.sizing`: one layer by hand (`conv_output_size(7, 3, 3)` says "(7 - 3)/3 + 1 = 2.33:
  the last column of the input is never seen"; `conv_layer`, `pool_layer`, `conv_params`);
- `striate.layer_accounting`: what one module of a model counts (connections, MACs, receptive
  field);
- `striate.model_summary`: `summary(model, input_size)`, the table.

    >>> import striate as st
    >>> st.summary.conv_output_size(7, 3, 2).size     # doctest: +SKIP
    3
    >>> print(st.summary(st.models.lenet5(), (1, 32, 32)))   # doctest: +SKIP

The command line is `striate summary` (`striate.summary_command`).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from typing import Any

from striate.layer_accounting import LayerRow
from striate.model_summary import Summary, summary
from striate.sizing import (
    LayerSize,
    OutputSize,
    conv_layer,
    conv_output_size,
    conv_params,
    conv_transpose_output_size,
    pool_layer,
    pool_output_size,
)

__all__ = [
    "LayerRow",
    "LayerSize",
    "OutputSize",
    "Summary",
    "conv_layer",
    "conv_output_size",
    "conv_params",
    "conv_transpose_output_size",
    "pool_layer",
    "pool_output_size",
    "summary",
    "summary_cli",
]


def summary_cli(argv: Sequence[str] | None = None) -> int:
    """`striate summary ...` from Python (the old entry point; the one command line is cli.py's)."""
    from striate.cli import main

    return main(["summary", *(sys.argv[1:] if argv is None else argv)])


class _CallableModule(types.ModuleType):
    """`st.summary(model, size)` calls the function, `st.summary.conv_output_size` reaches the
    helpers. Needed because `import striate.summary` (the documented path of the helpers)
    replaces the lazy attribute `striate.summary` (the function) with this module."""

    def __call__(self, model: Any, input_size: Sequence[int] | int, **kwargs: Any) -> Summary:
        return summary(model, input_size, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
for _helper in __all__:  # the function carries the helpers too, whichever `st.summary` resolves to
    if _helper != "summary":
        setattr(summary, _helper, globals()[_helper])
summary.summary = summary  # type: ignore[attr-defined]

"""Seeing inside the network: filters, activation maps, attributions, class activation maps,
feature visualisation, DeepDream, style transfer and the autograd graph.

    st.viz.filters(model_or_layer)                  grid of a conv layer's kernels
    st.viz.activations(model, x, layers=None)       feature maps + per-layer statistics
    st.viz.saliency / gradient_x_input / guided_backprop / smoothgrad / integrated_gradients
    st.viz.grad_cam(model, x, target=None, layer=None, relu=True)   (N, *layer spatial dims)
    st.viz.grad_cam_pp / guided_grad_cam / find_cam_layer
    st.viz.overlay(image, cam)                      map resized, normalised, coloured, blended
    st.viz.maximize / deep_dream / style_transfer   images optimised through the network
    st.viz.graph(tensor)                            SVG of the autograd graph (values, grads)

Arrays come back as NumPy; pictures need matplotlib/Pillow: pip install 'striate[viz]'.
Submodules load on first use so `import striate.viz` stays light; no submodule is named like a
function (a loaded submodule would hide the function of the same name).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "saliency": "attributions", "gradient_x_input": "attributions", "guided_backprop": "attributions",
    "guided_relu": "attributions", "smoothgrad": "attributions", "integrated_gradients": "attributions",
    "grad_cam": "cam", "grad_cam_pp": "cam", "guided_grad_cam": "cam", "find_cam_layer": "cam",
    "overlay": "display", "resize": "display", "save_png": "display", "attribution_image": "display",
    "filters": "conv_filters", "filter_grid": "conv_filters",
    "activations": "feature_maps",
    "maximize": "feature_vis", "deep_dream": "dream", "style_transfer": "style", "gram_matrix": "style",
    "graph": "autograd_graph",
    "apply_kernels": "kernels", "LECTURE_KERNELS": "kernels", "receptive_field_box": "kernels",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"striate.viz.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'striate.viz' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__

"""Neural-network building blocks, named as in `torch.nn`.

    import striate.nn as nn
    import striate.nn.functional as F

`nn.Module` and `nn.Parameter` (module.py, parameter.py), the layers (layers/, one file per
family), weight initialisation (`nn.init`), gradient clipping (`nn.utils`) and the stateless
functions (`nn.functional`).
"""

from striate.nn import functional, init, utils
from striate.nn.layers import *  # noqa: F403 - the layer classes, listed in layers.__all__
from striate.nn.layers import __all__ as _layer_names
from striate.nn.module import Module, RemovableHandle

# lazy parameters (issue 21, i21-vision)
from striate.nn.parameter import Parameter, UninitializedBuffer, UninitializedParameter  # noqa: E402

__all__ = ["Module", "Parameter", "RemovableHandle", "functional", "init", "utils", *_layer_names]
__all__ += ["UninitializedBuffer", "UninitializedParameter"]  # issue 21, i21-vision

"""Lazy layers: `LazyLinear`, `LazyConv1d`, `LazyConv2d`, `LazyConvTranspose2d`,
`LazyBatchNorm1d`, `LazyBatchNorm2d` (`torch.nn.Lazy*`).

A lazy layer is built without its input size: `nn.LazyLinear(10)` leaves `in_features` open
and holds `UninitializedParameter`s. The first forward reads the size from the input
(in_features = x.shape[-1]; in_channels / num_features = x.shape[1], or x.shape[0] unbatched),
allocates the weights and initialises them exactly as the ordinary layer's constructor would
*at that moment*, from the global generator; then the module's class becomes the ordinary
layer's (`LazyLinear` -> `Linear`), as PyTorch's `cls_to_become`. So after `st.manual_seed(s)`
a lazy network's weights after its first forward equal PyTorch's.

Until then the parameters cannot be used: an optimizer, `st.save` or any op on them raises an
error that says to run one forward on a dummy batch first. `load_state_dict` with a checkpoint
of an initialised model materializes them to the checkpoint's shapes.
"""

from __future__ import annotations

from typing import Any

from striate.autograd.tensor import Tensor
from striate.nn.layers.conv import Conv1d, Conv2d, ConvTranspose2d
from striate.nn.layers.linear import Linear
from striate.nn.layers.normalization import BatchNorm1d, BatchNorm2d
from striate.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy


class LazyModuleMixin:
    """The machinery of `torch.nn.modules.lazy.LazyModuleMixin`: a forward pre-hook infers the
    shapes and initialises on the first call, then removes itself and switches the class."""

    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # a user's own lazy module: class MyLazy(nn.LazyModuleMixin, nn.Module) (the layers below
        # call their ordinary class's __init__ themselves, then _start_lazy)
        super().__init__(*args, **kwargs)
        self._start_lazy()

    def _start_lazy(self) -> None:
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters)  # type: ignore[attr-defined]

    def has_uninitialized_params(self) -> bool:
        """True while any parameter or buffer of this module awaits its shape."""
        tensors = list(self._parameters.values()) + list(self._buffers.values())  # type: ignore[attr-defined]
        return any(is_lazy(t) for t in tensors)

    def reset_parameters(self) -> None:
        # skipped while constructing (the ordinary layer's __init__ calls it on placeholder
        # weights) and while uninitialised, so building a lazy layer draws no random numbers
        if self.__dict__.get("_constructing") or self.has_uninitialized_params():
            return
        if self.cls_to_become is not None:
            self.cls_to_become.reset_parameters(self)

    def initialize_parameters(self, input: Tensor) -> None:
        raise TypeError(f"{type(self).__name__} must implement initialize_parameters(input)")

    def _infer_parameters(self, module: Any, args: tuple) -> None:
        if not args or not isinstance(args[0], Tensor):
            raise TypeError(
                f"{type(self).__name__}: the first forward of a lazy layer needs a Tensor input to infer "
                f"its size, got {type(args[0]).__name__ if args else 'no arguments'}"
            )
        self.initialize_parameters(args[0])
        if self.has_uninitialized_params():
            raise RuntimeError(f"module {type(self).__name__} has not been fully initialized")
        self._initialize_hook.remove()
        del self.__dict__["_initialize_hook"]
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become


def _set_lazy(module: Any, names: tuple[str, ...], factory: type, dtype: Any) -> None:
    """Replace the placeholder parameters/buffers `names` by uninitialized ones, in place (the
    state_dict key order stays the ordinary layer's)."""
    registry = module._parameters if factory is UninitializedParameter else module._buffers
    for name in names:
        registry[name] = factory(dtype=dtype)


class LazyLinear(LazyModuleMixin, Linear):
    """`Linear` whose `in_features` is the last dimension of the first input.

        >>> fc = nn.LazyLinear(10)          # in_features=0 until the first forward
        >>> fc(st.randn(4, 84)).shape       # now a Linear(84, 10), weights as Linear(84, 10)'s
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        self.__dict__["_constructing"] = True
        Linear.__init__(self, 0, out_features, bias, device, dtype)
        del self.__dict__["_constructing"]
        _set_lazy(self, ("weight", "bias") if bias else ("weight",), UninitializedParameter, dtype)
        self._start_lazy()

    def initialize_parameters(self, input: Tensor) -> None:
        if input.ndim == 0:
            raise ValueError("LazyLinear: the input must have at least one dimension (its features)")
        self.in_features = int(input.shape[-1])
        if self.has_uninitialized_params():
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    """In-channels from the first input: dim 1 of a batched input, dim 0 of an unbatched one."""

    def _lazy_conv_init(self, base: Any, out_channels: int, groups: int, bias: bool, dtype: Any,
                        **settings: Any) -> None:
        self.__dict__["_constructing"] = True
        # a placeholder in_channels (= groups) passes the ordinary layer's checks; it is reset to
        # 0 (PyTorch's value before initialisation) and the weights replaced right after
        base.__init__(self, groups, out_channels, groups=groups, bias=bias, dtype=dtype, **settings)
        del self.__dict__["_constructing"]
        self.in_channels = 0
        _set_lazy(self, ("weight", "bias") if bias else ("weight",), UninitializedParameter, dtype)
        self._start_lazy()

    def initialize_parameters(self, input: Tensor) -> None:
        n = self._dims  # type: ignore[attr-defined]
        if input.ndim not in (n + 1, n + 2):
            raise ValueError(
                f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {type(self).__name__}, "
                f"but got input of size: {tuple(input.shape)}"
            )
        self.in_channels = int(input.shape[1] if input.ndim == n + 2 else input.shape[0])
        if self.in_channels % self.groups != 0:  # type: ignore[attr-defined]
            raise ValueError(
                f"{type(self).__name__}: in_channels ({self.in_channels}) of the input must be divisible "
                f"by groups ({self.groups})"  # type: ignore[attr-defined]
            )
        if not self.has_uninitialized_params():
            return
        out, groups, kernel = self.out_channels, self.groups, self.kernel_size  # type: ignore[attr-defined]
        if self.transposed:  # type: ignore[attr-defined]
            self.weight.materialize((self.in_channels, out // groups, *kernel))  # type: ignore[attr-defined]
        else:
            self.weight.materialize((out, self.in_channels // groups, *kernel))  # type: ignore[attr-defined]
        if self.bias is not None:  # type: ignore[attr-defined]
            self.bias.materialize((out,))  # type: ignore[attr-defined]
        self.reset_parameters()


class _LazyForwardConv(_LazyConvMixin):
    """The constructor of LazyConv1d / LazyConv2d: Conv1d's / Conv2d's without in_channels."""

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        self._lazy_conv_init(self.cls_to_become, out_channels, groups, bias, dtype, kernel_size=kernel_size,
                             stride=stride, padding=padding, dilation=dilation, padding_mode=padding_mode,
                             device=device)


class LazyConv1d(_LazyForwardConv, Conv1d):
    """`Conv1d` whose `in_channels` comes from the first input."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyForwardConv, Conv2d):
    """`Conv2d` whose `in_channels` comes from the first input.

        >>> conv = nn.LazyConv2d(6, kernel_size=5)   # Conv2d(?, 6, 5) until the first forward
    """

    cls_to_become = Conv2d


class LazyConvTranspose2d(_LazyConvMixin, ConvTranspose2d):
    """`ConvTranspose2d` whose `in_channels` comes from the first input."""

    cls_to_become = ConvTranspose2d

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        self._lazy_conv_init(ConvTranspose2d, out_channels, groups, bias, dtype, kernel_size=kernel_size,
                             stride=stride, padding=padding, output_padding=output_padding,
                             dilation=dilation, padding_mode=padding_mode, device=device)


class _LazyBatchNormMixin(LazyModuleMixin):
    """num_features = dim 1 of the first input; weight/bias and running statistics lazy."""

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        base = self.cls_to_become
        self.__dict__["_constructing"] = True
        base.__init__(self, 1, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)  # type: ignore[misc]
        del self.__dict__["_constructing"]
        self.num_features = 0
        if affine:
            _set_lazy(self, ("weight", "bias") if bias else ("weight",), UninitializedParameter, dtype)
        if track_running_stats:
            _set_lazy(self, ("running_mean", "running_var"), UninitializedBuffer, dtype)
        self._start_lazy()

    def initialize_parameters(self, input: Tensor) -> None:
        if input.ndim < 2:
            raise ValueError(f"{type(self).__name__}: expected an input with a channel dimension "
                             f"(N, C, ...), got shape {tuple(input.shape)}")
        self.num_features = int(input.shape[1])
        if not self.has_uninitialized_params():
            return
        for tensor in list(self._parameters.values()) + list(self._buffers.values()):  # type: ignore[attr-defined]
            if is_lazy(tensor):
                tensor.materialize((self.num_features,))
        self.reset_parameters()


class LazyBatchNorm1d(_LazyBatchNormMixin, BatchNorm1d):
    """`BatchNorm1d` whose `num_features` comes from the first input."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNormMixin, BatchNorm2d):
    """`BatchNorm2d` whose `num_features` comes from the first input."""

    cls_to_become = BatchNorm2d


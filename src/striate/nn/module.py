"""`nn.Module`: the base class of every layer and network.

(Over 400 lines on purpose: PyTorch's Module API -- registration, traversal, hooks, modes,
dtype moves, state dicts, repr -- is one class body; splitting it would scatter one class.)

A module owns three ordered registries, filled by plain attribute assignment:

* `_parameters`: `Parameter`s (learnable weights),
* `_buffers`: tensors that are state but not learned (BatchNorm's running statistics),
* `_modules`: child modules.

Everything else follows from walking them in registration order: `parameters()`,
`state_dict()` keys (`"layer1.0.weight"`, `"layer1.1.running_mean"`, ...), `train()`/`eval()`,
`repr`. Names, key order and return values follow `torch.nn.Module`; one deliberate difference:
`load_state_dict` checks every key and shape first and changes nothing when anything is wrong.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from striate.autograd.tensor import Tensor, _resolve_dtype, wrap
from striate.dtypes import of_numpy
from striate.nn.backward_hooks import BackwardHook
from striate.nn.parameter import Parameter, is_lazy

_hook_ids = itertools.count()


class RemovableHandle:
    """Returned by `register_forward_hook` and friends; `handle.remove()` unregisters the hook.

    Usable as a context manager: the hook is removed when the `with` block ends.
    """

    def __init__(self, *registries: dict) -> None:
        self.id = next(_hook_ids)
        self._registries = registries

    def remove(self) -> None:
        for registry in self._registries:
            if isinstance(registry, set):
                registry.discard(self.id)
            else:
                registry.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class _IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"

    __str__ = __repr__


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    first = lines.pop(0)
    rest = [(" " * spaces) + line if line.strip() else "" for line in lines]
    return first + "\n" + "\n".join(rest)


def _as_array(value: Any, key: str) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, np.ndarray):
        arr = value
    elif isinstance(value, (int, float, bool, np.generic, list, tuple)):
        arr = np.asarray(value)
    else:
        raise TypeError(
            f"load_state_dict: the value for {key!r} is a {type(value).__name__}; expected a "
            "striate Tensor or a NumPy array (convert torch tensors with .numpy())"
        )
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"load_state_dict: the value for {key!r} has dtype {arr.dtype}, not a number type")
    return arr


def _add_hook(hooks: dict, takes_kwargs: set, hook: Callable, prepend: bool,
              with_kwargs: bool) -> RemovableHandle:
    """Register `hook` in the ordered dict `hooks` (first when `prepend`); a handle removes it."""
    handle = RemovableHandle(hooks, takes_kwargs)
    hooks[handle.id] = hook
    if with_kwargs:
        takes_kwargs.add(handle.id)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _assign(owner: Module, name: str, value: Any, arr: np.ndarray) -> None:
    """load_state_dict(assign=True) for one entry: the value itself replaces the module's tensor."""
    if name in owner._parameters:
        old = owner._parameters[name]
        if isinstance(value, Parameter):
            value.requires_grad_(old.requires_grad)
            owner._parameters[name] = value
        else:
            owner._parameters[name] = Parameter(value if isinstance(value, Tensor) else arr,
                                                requires_grad=old.requires_grad)
    else:
        owner._buffers[name] = value if isinstance(value, Tensor) else wrap(arr, False)


class Module:
    """Base class for all neural-network modules: subclass it and define `forward`.

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)      # registered as a child module

            def forward(self, x):
                return self.fc(x)

    `net(x)` runs the forward pre-hooks, `forward`, then the forward hooks.
    """

    training: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments {args or ''}{kwargs or ''}: "
                "nn.Module.__init__ takes none"
            )
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", OrderedDict())
        setattr_(self, "_buffers", OrderedDict())
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_modules", OrderedDict())
        setattr_(self, "_forward_hooks", OrderedDict())
        setattr_(self, "_forward_hooks_with_kwargs", set())
        setattr_(self, "_forward_pre_hooks", OrderedDict())
        setattr_(self, "_forward_pre_hooks_with_kwargs", set())
        setattr_(self, "_backward_hooks", OrderedDict())      # full backward hooks (nn.backward_hooks)
        setattr_(self, "_backward_pre_hooks", OrderedDict())

    # ------------------------------------------------------------------ forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f'Module [{type(self).__name__}] is missing the required "forward" function: '
            "subclasses of nn.Module must define forward(self, ...)"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_hooks or self._forward_pre_hooks or self._backward_hooks
                or self._backward_pre_hooks):
            return self.forward(*args, **kwargs)
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "a forward pre-hook registered with with_kwargs=True must return None or "
                            f"a tuple (args, kwargs), got {result!r}"
                        )
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward_hook = None
        if self._backward_hooks or self._backward_pre_hooks:
            backward_hook = BackwardHook(self, self._backward_hooks, self._backward_pre_hooks)
            args = backward_hook.setup_input_hook(args)
        output = self.forward(*args, **kwargs)
        for hook_id, hook in list(self._forward_hooks.items()):
            if hook_id in self._forward_hooks_with_kwargs:
                result = hook(self, args, kwargs, output)
            else:
                result = hook(self, args, output)
            if result is not None:
                output = result
        if backward_hook is not None:
            output = backward_hook.setup_output_hook(output)
        return output

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """`hook(module, args)` runs before `forward`; returning a value replaces the inputs."""
        return _add_hook(self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs, hook, prepend,
                         with_kwargs)

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False) -> RemovableHandle:
        """`hook(module, args, output)` runs after `forward`; returning a value replaces the output."""
        return _add_hook(self._forward_hooks, self._forward_hooks_with_kwargs, hook, prepend, with_kwargs)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """`hook(module, grad_output)` runs when dL/d(output) is known; returning a tuple replaces it."""
        return _add_hook(self._backward_pre_hooks, set(), hook, prepend, False)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """`hook(module, grad_input, grad_output)` runs when dL/d(inputs) are known; returning a
        tuple replaces grad_input (see `striate.nn.backward_hooks` for the one-output limit)."""
        return _add_hook(self._backward_hooks, set(), hook, prepend, False)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._discard(name, keep="_parameters")  # a replaced parameter keeps its place
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(nn.Parameter or None expected)"
                )
            params[name] = None
            return
        modules = self.__dict__.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._discard(name, keep="_modules")
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(nn.Module or None expected)"
                )
            modules[name] = value
            return
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)"
                )
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def _discard(self, name: str, keep: str = "") -> None:
        """Forget `name` everywhere but in the registry `keep` (where a replacement keeps its
        place in the order, as in PyTorch)."""
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            members = d.get(registry)
            if members is not None and name in members:
                return members[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in ("_parameters", "_buffers", "_modules"):
            members = self.__dict__[registry]
            if name in members:
                del members[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        keys = list(super().__dir__())
        keys += list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(k for k in set(keys) if not k[0].isdigit())

    def _check_name(self, name: Any, kind: str, registry: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got {name!r}')
        if hasattr(self, name) and name not in self.__dict__[registry]:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, a declared-but-absent one, like a Linear without bias)."""
        self._check_name(name, "parameter", "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(nn.Parameter or None required); wrap it: nn.Parameter(tensor)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: state saved in `state_dict` (unless `persistent=False`) but not learned."""
        self._check_name(name, "buffer", "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under `name` (what `self.name = module` does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module", "_modules")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The module at a dotted path, e.g. `net.get_submodule("layer1.0")`."""
        module = self
        if target == "":
            return module
        for item in target.split("."):
            child = module._modules.get(item) if isinstance(module, Module) else None
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule `{item}` (in {target!r})")
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        param = module._parameters.get(name)
        if param is None:
            raise AttributeError(f"{type(module).__name__} has no parameter `{name}` (looking up {target!r})")
        return param

    def get_buffer(self, target: str) -> Tensor:
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        buf = module._buffers.get(name)
        if buf is None:
            raise AttributeError(f"{type(module).__name__} has no buffer `{name}` (looking up {target!r})")
        return buf

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(name, module) for this module and every descendant, depth first, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub_prefix, remove_duplicate)

    def modules(self, remove_duplicate: bool = True) -> Iterator[Module]:
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        memo: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in module.__dict__[registry].items():
                if value is None or (remove_duplicate and id(value) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """("layer.weight", Parameter) pairs in registration order; a shared parameter once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active, BatchNorm uses batch statistics) for this module and
        all descendants; `train(False)` is `eval()`."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients (`.grad = None`, or zeros when `set_to_none=False`)."""
        for param in self.parameters():
            if param.grad is not None:
                if set_to_none:
                    param.grad = None
                else:
                    param.grad.array[...] = 0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every child (recursively) then on this module, e.g. to re-initialise."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ dtype conversion
    def _apply_to_floats(self, dtype: np.dtype) -> Module:
        for module in self.modules():
            for registry in (module._parameters, module._buffers):
                for tensor in registry.values():
                    if is_lazy(tensor):  # a lazy layer's weights get the dtype when materialized
                        tensor.set_lazy_dtype(dtype)
                        continue
                    if tensor is None or tensor.array.dtype.kind != "f" or tensor.array.dtype == dtype:
                        continue
                    # keep the same Parameter object, so an optimizer built earlier still holds it
                    tensor.array = tensor.array.astype(dtype)
                    tensor._version += 1
                    if tensor.grad is not None:
                        tensor.grad.array = tensor.grad.array.astype(dtype)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """`module.to(st.float64)` converts floating parameters and buffers; `to('cpu')` keeps
        them; any other device is a clear error (striate computes on the CPU only)."""
        from striate.device import parse_to

        dtype = parse_to(args, kwargs, "Module")
        if dtype is None:
            return self
        dt = _resolve_dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, got {of_numpy(dt)}")
        return self._apply_to_floats(dt)

    def float(self) -> Module:
        return self._apply_to_floats(np.dtype(np.float32))

    def double(self) -> Module:
        return self._apply_to_floats(np.dtype(np.float64))

    def cpu(self) -> Module:
        return self

    def cuda(self, device: Any = None) -> Module:
        """Always an error: striate has no CUDA backend (see `st.cuda.is_available()`)."""
        from striate.device import check_device

        check_device("cuda", "Module.cuda()")
        return self

    # ------------------------------------------------------------------ state dict
    def _state_items(self, prefix: str, keep_vars: bool) -> Iterator[tuple[str, Tensor, Module, str]]:
        """(key, tensor, owner, local name) in PyTorch's order: own parameters, own persistent
        buffers, then each child recursively; a module reachable twice appears twice."""
        for name, param in self._parameters.items():
            if param is not None:
                yield prefix + name, param, self, name
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                yield prefix + name, buf, self, name
        for name, module in self._modules.items():
            if module is not None:
                yield from module._state_items(prefix + name + ".", keep_vars)

    def state_dict(self, *, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict:
        """Every parameter and persistent buffer by dotted name, e.g.
        `{"layer1.0.weight": ..., "layer1.1.running_mean": ..., "fc.bias": ...}`.

        Values share memory with the module (detached tensors; the Parameters themselves with
        `keep_vars=True`): copy them (`{k: v.clone() ...}`) to keep a snapshot while training.
        """
        if destination is None:
            destination = OrderedDict()
        for key, tensor, _, _ in self._state_items(prefix, keep_vars):
            # an uninitialized lazy parameter is kept as it is (PyTorch's rule)
            destination[key] = tensor if keep_vars or is_lazy(tensor) else wrap(tensor.array, False)
        return destination

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy values into this module's parameters and buffers, by key.

        Every key and every shape is checked before anything is copied: with `strict=True`
        (default) a missing or unexpected key raises, and a shape mismatch always raises; in
        both cases the module is left exactly as it was (PyTorch may have copied some tensors by
        then). Values may be striate Tensors or NumPy arrays; they are cast to the dtype of the
        tensor they replace. Returns `(missing_keys, unexpected_keys)`.

        `assign=True` puts the state dict's tensors themselves into the module instead of copying
        (their dtype and memory kept; a Parameter keeps the module's `requires_grad`), as PyTorch.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"state_dict must be a mapping (e.g. a dict), got {type(state_dict).__name__}")
        owners = {key: (owner, name) for key, _, owner, name in self._state_items("", False)}
        expected = OrderedDict((key, tensor) for key, tensor, _, _ in self._state_items("", False))
        missing = [k for k in expected if k not in state_dict]
        unexpected = [k for k in state_dict if k not in expected]
        errors = []
        arrays = {}
        for key, tensor in expected.items():
            if key not in state_dict:
                continue
            if is_lazy(state_dict[key]):
                continue  # an uninitialized value from a lazy model: nothing to copy (PyTorch's rule)
            arr = _as_array(state_dict[key], key)
            if is_lazy(tensor):
                arrays[key] = arr  # a lazy layer's parameter takes the checkpoint's shape
                continue
            if arr.shape != tensor.array.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(arr.shape)} from "
                    f"checkpoint, the shape in current model is {tuple(tensor.array.shape)}."
                )
            arrays[key] = arr
        if strict:
            if unexpected:
                keys = ", ".join(f'"{k}"' for k in unexpected)
                errors.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
            if missing:
                keys = ", ".join(f'"{k}"' for k in missing)
                errors.insert(0, f"Missing key(s) in state_dict: {keys}. ")
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__} (nothing was changed):\n\t"
                + "\n\t".join(errors)
            )
        if assign:
            for key, arr in arrays.items():
                _assign(*owners[key], state_dict[key], arr)
            return _IncompatibleKeys(missing, unexpected)
        for key, arr in arrays.items():
            tensor = expected[key]
            if is_lazy(tensor):
                tensor.materialize(arr.shape)
            if arr is not tensor.array:
                tensor.array[...] = arr
                tensor._version += 1
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """The settings printed inside this module's parentheses; layers override it."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(module), 2) for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

"""`striate.compat`: which PyTorch names a program ported to striate (imports changed only) finds.

A curated list of the PyTorch and torchvision names CNN programs use (`torch_names`,
`nn_names`: a few hundred, written in code, never scraped at import time) is checked against
striate at run time: does the name exist, and does striate's signature (`inspect`) accept every
parameter PyTorch's has? Hand-written notes (`notes`) add the known differences (CPU only,
pickle-free files, ...). `python -m striate.compat --markdown > docs/compat.md` writes the table
the documentation shows; a test regenerates it, so the table cannot drift from the code.

Status: "✓" the name exists and takes PyTorch's parameters; "partial" it exists but lacks some
of them (named in the note) or a note marks a difference a port can hit; "missing" striate has
no such name.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, NamedTuple

from striate.compat.nn_names import NN_NAMES, TORCHVISION_NAMES
from striate.compat.notes import NOTES
from striate.compat.torch_names import TORCH_NAMES, VALUE

__all__ = ["ALL_NAMES", "VALUE_NAMES_OK", "Entry", "check", "markdown", "resolve", "striate_name"]

ALL_NAMES: dict[str, tuple[str, ...] | str | None] = {**TORCH_NAMES, **NN_NAMES, **TORCHVISION_NAMES}
VALUE_NAMES_OK = (VALUE,)       # entries that are constants, not callables

# Where each PyTorch namespace lives in striate, longest prefix first.
_PREFIXES = (
    ("torchvision.transforms.", "striate.data.transforms."),
    ("torchvision.datasets.", "striate.data.datasets."),
    ("torchvision.utils.", "striate.data.utils."),
    ("torchvision.models.", "striate.models."),
    ("torch.", "striate."),
)
# Section headings of the table, by PyTorch prefix (the first that matches).
SECTIONS = (
    ("torch.nn.functional.", "torch.nn.functional"),
    ("torch.nn.init.", "torch.nn.init, torch.nn.utils"),
    ("torch.nn.utils.", "torch.nn.init, torch.nn.utils"),
    ("torch.nn.Module.", "torch.nn.Module methods"),
    ("torch.nn.", "torch.nn layers"),
    ("torch.optim.", "torch.optim"),
    ("torch.utils.data.", "torch.utils.data"),
    ("torch.Tensor.", "torch.Tensor methods"),
    ("torch.", "torch"),
    ("torchvision.", "torchvision"),
)
# PyTorch parameters not compared: speed knobs of its CUDA/fused kernels and arguments
# deprecated since 2018; names starting with "_" (private) are skipped too.
NOT_COMPARED = ("foreach", "capturable", "differentiable", "fused", "size_average", "reduce")
MARKS = {"ok": "✓", "partial": "partial", "missing": "missing"}


class Entry(NamedTuple):
    pytorch: str
    striate: str
    status: str          # "ok", "partial", "missing"
    note: str


def striate_name(pytorch: str) -> str:
    """The striate name a PyTorch name maps to (`torch.nn.Conv2d` -> `striate.nn.Conv2d`)."""
    for prefix, replacement in _PREFIXES:
        if pytorch.startswith(prefix):
            return replacement + pytorch[len(prefix):]
    raise ValueError(f"{pytorch!r} is not a torch or torchvision name")


def resolve(dotted: str) -> Any:
    """The object a dotted striate name refers to, or raise LookupError. Attributes come first
    (`striate.device` is the class, not the module of that name); a submodule is imported only
    when its package has no such attribute (`striate.utils.data` before anything imported it)."""
    parts = dotted.split(".")
    obj: Any = importlib.import_module(parts[0])
    for i, attr in enumerate(parts[1:], start=1):
        if hasattr(obj, attr):
            obj = getattr(obj, attr)
            continue
        if not inspect.ismodule(obj):
            raise LookupError(dotted)
        try:
            obj = importlib.import_module(".".join(parts[:i + 1]))
        except ModuleNotFoundError:
            raise LookupError(dotted) from None
    return obj


def _missing_parameters(pytorch_params: tuple[str, ...], obj: Any) -> list[str]:
    """PyTorch's parameters that striate's `obj` does not take: by name, or at the same
    position under another name (`where(condition, x, y)`), or in its *args (`zeros(*size)`)."""
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        params = [p for p in inspect.signature(target).parameters.values() if p.name != "self"]
    except (TypeError, ValueError):
        return []                     # not inspectable (a NumPy ufunc, a builtin): not compared
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return []
    names = {p.name for p in params}
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    keyword_only_from = pytorch_params.index("*") if "*" in pytorch_params else len(pytorch_params)
    lacking = []
    for i, name in enumerate(pytorch_params):
        if name == "*" or name in names or name in NOT_COMPARED or name.startswith("_"):
            continue
        if i < keyword_only_from:          # PyTorch takes it by position too
            if i < len(positional) and positional[i] not in pytorch_params:
                continue
            if varargs and i == len(positional):
                continue
        lacking.append(name)
    return lacking


def check_one(pytorch: str) -> Entry:
    """Look one PyTorch name up in striate."""
    target = striate_name(pytorch)
    note = NOTES.get(pytorch)
    texts = [note.text] if note else []
    try:
        obj = resolve(target)
    except LookupError:
        return Entry(pytorch, target, "missing", "; ".join(texts))
    params = ALL_NAMES[pytorch]
    lacking = [] if params is None or params == VALUE else _missing_parameters(params, obj)
    if lacking:
        texts.insert(0, "no parameter " + ", ".join(f"`{p}`" for p in lacking))
    partial = bool(lacking) or bool(note and note.partial)
    return Entry(pytorch, target, "partial" if partial else "ok", "; ".join(texts))


def check() -> list[Entry]:
    """Every name of the curated list, looked up in striate now."""
    return [check_one(name) for name in ALL_NAMES]


def section(pytorch: str) -> str:
    return next(title for prefix, title in SECTIONS if pytorch.startswith(prefix))


def markdown(entries: list[Entry] | None = None) -> str:
    """The compatibility table as Markdown: a summary, then one table per namespace."""
    entries = check() if entries is None else entries
    counts = {s: sum(e.status == s for e in entries) for s in MARKS}
    lines = [
        "# PyTorch names in striate",
        "",
        "Generated by `python -m striate.compat --markdown > docs/compat.md` from the list in",
        "`src/striate/compat/` (do not edit by hand: a test regenerates it).",
        "A port changes only its imports:",
        "",
        "```python",
        "import striate as torch                      # import torch",
        "import striate.nn as nn                      # import torch.nn as nn",
        "import striate.nn.functional as F            # import torch.nn.functional as F",
        "import striate.optim as optim                # import torch.optim as optim",
        "from striate.data import datasets, transforms   # from torchvision import datasets, transforms",
        "```",
        "",
        f"{len(entries)} names: {counts['ok']} ✓ (exists and takes PyTorch's parameters), "
        f"{counts['partial']} partial (exists; what differs is in the note), {counts['missing']} missing.",
        "Parameters are compared with PyTorch 2.13's by name, or by position where striate names them",
        "differently; not compared: `out=`, `layout=`, `memory_format=`, `sparse_grad=`, private `_...`",
        "arguments and " + ", ".join(f"`{p}`" for p in NOT_COMPARED) + " (CUDA/fused-kernel knobs and "
        "arguments deprecated since PyTorch 0.4).",
    ]
    for title in dict.fromkeys(section(e.pytorch) for e in entries):
        lines += ["", f"## {title}", "", "| PyTorch | striate | status | note |", "|---|---|---|---|"]
        for e in entries:
            if section(e.pytorch) == title:
                note = e.note.replace("|", "\\|")
                lines.append(f"| `{e.pytorch}` | `{e.striate}` | {MARKS[e.status]} | {note} |")
    return "\n".join(lines) + "\n"

"""striate.compat: the table in docs/compat.md is what the code says today, every ✓ name exists,
and the PyTorch parameter lists written in striate.compat are PyTorch's."""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from striate import compat
from striate.compat import ALL_NAMES, VALUE_NAMES_OK, markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "compat.md"
IGNORED = {"out", "layout", "memory_format", "sparse_grad"}


def test_docs_compat_md_is_up_to_date():
    assert DOC.read_text() == markdown(), (
        "docs/compat.md is stale: regenerate it with `python -m striate.compat --markdown > docs/compat.md`")


def test_command_line_prints_the_table():
    out = subprocess.run([sys.executable, "-m", "striate.compat", "--markdown"], capture_output=True,
                         text=True, check=True).stdout
    assert out == markdown()
    listed = subprocess.run([sys.executable, "-m", "striate.compat", "--status", "missing"],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    assert listed and all(line.startswith("missing") for line in listed)


def _lookup(dotted: str):
    """An independent lookup: attributes from the top package down, importing a submodule only
    where there is no attribute of that name."""
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for i, attr in enumerate(parts[1:], start=1):
        obj = getattr(obj, attr) if hasattr(obj, attr) else importlib.import_module(".".join(parts[:i + 1]))
    return obj


def test_every_checked_name_exists_and_every_missing_one_does_not():
    entries = compat.check()
    assert len(entries) == len(ALL_NAMES) >= 300
    for e in entries:
        if e.status == "missing":
            with pytest.raises((AttributeError, ImportError)):
                _lookup(e.striate)
        else:
            obj = _lookup(e.striate)
            if ALL_NAMES[e.pytorch] not in VALUE_NAMES_OK:
                assert callable(obj), e


def test_status_follows_the_parameters():
    def takes(a, b=1, *, c=None):
        pass

    def star(*size, dtype=None):
        pass

    def anything(x, **kwargs):
        pass

    missing = compat._missing_parameters
    assert missing(("input", "b", "*", "c"), takes) == []
    assert missing(("input", "other", "*", "c"), takes) == []          # same place, another name
    assert missing(("input", "b", "*", "c", "d"), takes) == ["d"]
    assert missing(("input", "*", "b"), takes) == []
    assert missing(("*", "weights"), takes) == ["weights"]              # keyword-only: by name only
    assert missing(("size", "*", "dtype", "device"), star) == ["device"]
    assert missing(("input", "whatever"), anything) == []
    assert missing(("input", "foreach", "_stacklevel"), takes) == []    # not compared
    assert compat.check_one("torch.Tensor.cuda").status == "partial"    # a hand note: CPU only


def test_the_table_has_a_row_per_name_and_the_notes():
    text = markdown()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(ALL_NAMES)
    assert re.search(r"\| `torch.save` \| `striate.save` \| partial \| .*never pickle", text)
    assert "| `torch.nn.Conv2d` | `striate.nn.Conv2d` | ✓ |" in text


def test_recorded_parameters_are_pytorchs():
    torch = pytest.importorskip("torch")
    assert torch.__version__.startswith("2.13"), "the lists were recorded from torch 2.13"
    checked, mismatches = 0, []
    for name, recorded in ALL_NAMES.items():
        if not name.startswith("torch.") or not isinstance(recorded, tuple):
            continue
        obj = _lookup(name)
        target = obj.__init__ if inspect.isclass(obj) else obj
        try:
            params = inspect.signature(target).parameters.values()
        except (TypeError, ValueError):
            continue                    # a builtin: recorded from its docstring
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
            continue                    # (*args, **kwargs): recorded by hand from the documentation
        actual = [p.name for p in params if p.name != "self" and p.name not in IGNORED
                  and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        mismatches += [] if [p for p in recorded if p != "*"] == actual else [(name, recorded, actual)]
        checked += 1
    assert not mismatches
    assert checked > 150

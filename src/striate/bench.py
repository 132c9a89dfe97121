"""`striate bench`: the honest benchmark, which lives in the repository's benchmarks/.

Benchmarks are not part of the library (importing striate must not set up a benchmark), so the
code is `benchmarks/honest.py` (striate against PyTorch left as its users run it, in one process
and in separate fresh processes); this module loads it from the source checkout that striate
runs from (`pip install -e .`), for `striate bench` and the smoke tests
(`from striate import bench; bench.main([...])`).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_SOURCE = Path(__file__).resolve().parents[2] / "benchmarks" / "honest.py"


def _load():
    if not _SOURCE.is_file():
        raise ImportError(
            f"striate bench runs the benchmarks of a source checkout, and {_SOURCE} is not there: "
            "clone the repository and install it with `pip install -e '.[test]'`"
        )
    spec = importlib.util.spec_from_file_location("striate_benchmarks_honest", _SOURCE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


_module = _load()
globals().update({name: value for name, value in vars(_module).items() if not name.startswith("__")})

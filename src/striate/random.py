"""The global random state behind `st.manual_seed`, `st.randn`, dropout and initialisation.

striate draws from NumPy's PCG64 generator, so a seed reproduces striate's own runs exactly;
it cannot reproduce PyTorch's random stream (a different generator), so tests that compare
with PyTorch copy weights and inputs across instead of seeding both.
"""

from __future__ import annotations

import numpy as np

_state = {"generator": np.random.default_rng(0), "seed": 0}


def manual_seed(seed: int) -> np.random.Generator:
    """Seed striate's global generator (weights, dropout masks, `st.randn`, shuffling)."""
    _state["generator"] = np.random.default_rng(int(seed))
    _state["seed"] = int(seed)
    return _state["generator"]


seed = manual_seed


def initial_seed() -> int:
    return _state["seed"]


def default_generator() -> np.random.Generator:
    return _state["generator"]


def get_rng_state() -> dict:
    """The generator's full state (JSON-serialisable), for exact resume."""
    return _state["generator"].bit_generator.state


def set_rng_state(state: dict) -> None:
    gen = np.random.default_rng()
    gen.bit_generator.state = state
    _state["generator"] = gen

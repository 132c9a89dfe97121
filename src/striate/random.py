"""The random stream behind `st.manual_seed`: PyTorch's CPU generator, value for value.

PyTorch's CPU generator is a 32-bit Mersenne Twister (mt19937) seeded by the reference
`init_genrand` with the seed's low 32 bits; `random()` is one 32-bit output and `random64()`
two of them, the first as the high word. NumPy's `MT19937` bit generator is the same engine,
so striate keeps one and reads its raw outputs; `striate.sampling` turns them into uniform,
normal, integer, Bernoulli and permutation samples with PyTorch's exact formulas. After
`st.manual_seed(n)`, `st.rand`, `st.randn`, `st.randint`, `st.randperm`, `st.normal`, the
default initialisation of every layer and dropout masks equal PyTorch's CPU values bit for bit
(the tests compare the first 10,000 values of each).

Draws PyTorch never makes (striate's data transforms, the trainer's input jitter, loader seeds)
use `default_generator()`, a `np.random.Generator` over the *same* engine: one stream, one seed,
one state to checkpoint.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

# c10's default seed. PyTorch reseeds its CPU generator from entropy when it is imported; striate
# keeps this fixed start so that a script without `manual_seed` still repeats its own numbers.
DEFAULT_SEED = 67280421310721
_MT_STATE_WORDS = 624
_UINT64 = (1 << 64) - 1


def _genrand_key(seed32: int) -> list[int]:
    """mt19937's `init_genrand`: the 624-word state for a 32-bit seed."""
    key = [seed32]
    for i in range(1, _MT_STATE_WORDS):
        prev = key[-1]
        key.append((1812433253 * (prev ^ (prev >> 30)) + i) & 0xFFFFFFFF)
    return key


class Generator:
    """A CPU random generator with `torch.Generator`'s methods and PyTorch's stream.

    `random32(n)` / `random64(n)` are the engine's raw draws; `numpy` is a
    `np.random.Generator` over the same engine for draws that need no PyTorch parity.
    """

    def __init__(self, device: Any = "cpu") -> None:
        if str(device) != "cpu":
            raise ValueError(f"striate runs on the CPU only; a Generator for {device!r} does not exist")
        self._engine = np.random.MT19937()
        self.numpy = np.random.Generator(self._engine)
        self.manual_seed(DEFAULT_SEED)

    @property
    def device(self) -> str:
        return "cpu"

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from `seed` (any int; PyTorch keeps it modulo 2**64 and seeds
        the engine with its low 32 bits); forgets a cached normal sample, as PyTorch does."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}")
        seed = int(seed)
        if not -(1 << 63) <= seed <= _UINT64:
            raise ValueError(f"seed must be within [-2**63, 2**64 - 1], got {seed}")
        self._seed = seed & _UINT64
        key = np.array(_genrand_key(self._seed & 0xFFFFFFFF), dtype=np.uint32)
        self._engine.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": _MT_STATE_WORDS}}
        # Box-Muller makes two normals; PyTorch's scalar path keeps the second for the next draw.
        self.next_double_normal: float | None = None
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy and return the seed used."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def random32(self, n: int) -> np.ndarray:
        """n raw 32-bit outputs (PyTorch's `random()`), as uint64."""
        return self._engine.random_raw(n)

    def random64(self, n: int) -> np.ndarray:
        """n 64-bit values from pairs of outputs, high word first (PyTorch's `random64()`)."""
        raw = self._engine.random_raw(2 * n)
        return (raw[0::2] << np.uint64(32)) | raw[1::2]

    def get_state(self) -> dict[str, Any]:
        """The generator's full state as plain JSON-serialisable values (for exact resume)."""
        st = self._engine.state["state"]
        return {"engine": "mt19937", "key": [int(v) for v in st["key"]], "pos": int(st["pos"]),
                "seed": self._seed, "next_double_normal": self.next_double_normal}

    def set_state(self, state: dict[str, Any]) -> Generator:
        if not isinstance(state, dict) or state.get("engine") != "mt19937":
            kind = state.get("bit_generator") if isinstance(state, dict) else type(state).__name__
            raise ValueError(
                f"not a striate random state (found {kind!r}): states saved before striate's generator "
                "followed PyTorch's (PCG64) cannot be restored; start a new run or resume with that version"
            )
        key = np.asarray(state["key"], dtype=np.uint64)
        if key.shape != (_MT_STATE_WORDS,) or key.max(initial=0) > 0xFFFFFFFF:
            raise ValueError("corrupt random state: the mt19937 key must be 624 32-bit words")
        pos = int(state["pos"])
        if not 0 <= pos <= _MT_STATE_WORDS:
            raise ValueError(f"corrupt random state: position {pos} outside [0, 624]")
        self._engine.state = {"bit_generator": "MT19937",
                              "state": {"key": key.astype(np.uint32), "pos": pos}}
        self._seed = int(state.get("seed", 0)) & _UINT64
        nxt = state.get("next_double_normal")
        self.next_double_normal = None if nxt is None else float(nxt)
        return self

    def __repr__(self) -> str:
        return f"<striate.Generator seed={self._seed}>"


_default = Generator()
# A DataLoader worker thread gets its own generator (seeded base_seed + worker id), as each of
# PyTorch's worker processes has its own global generator: `st.rand` and striate's transforms
# inside a worker draw from it and leave the main thread's stream alone.
_thread_local = threading.local()


def _current() -> Generator:
    """The global generator of this thread: a DataLoader worker's own, else the process's."""
    return getattr(_thread_local, "generator", None) or _default


def _set_thread_generator(gen: Generator | None) -> None:
    """Make `gen` this thread's global generator (None: back to the process's)."""
    _thread_local.generator = gen


def generator() -> Generator:
    """The global generator (PyTorch's `torch.default_generator`)."""
    return _current()


def default_generator() -> np.random.Generator:
    """A NumPy view of the global stream, for draws that need no PyTorch parity."""
    return _current().numpy


def manual_seed(seed: int) -> Generator:
    """Seed the global generator: weights, dropout masks, `st.rand`/`st.randn`, shuffling."""
    return _current().manual_seed(seed)


def seed() -> int:
    return _current().seed()


def initial_seed() -> int:
    return _current().initial_seed()


def get_rng_state() -> dict[str, Any]:
    """The global generator's full state (JSON-serialisable), for exact resume."""
    return _current().get_state()


def set_rng_state(state: dict[str, Any]) -> None:
    _current().set_state(state)


def resolve(gen: Generator | None) -> Generator:
    """The generator a sampling call uses: the one given, else the global one."""
    if gen is None:
        return _current()
    if not isinstance(gen, Generator):
        raise TypeError(f"generator must be a striate.Generator, got {type(gen).__name__}")
    return gen

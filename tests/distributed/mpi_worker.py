"""Run under `mpirun -np R python tests/distributed/mpi_worker.py SCENARIO OUT [options]`.

Scenarios (tests/distributed/mpi_cases.py builds the same model and data in the test process):
  suite    every training case of the tests in one launch (MPI start-up costs seconds on a busy
           machine); rank 0 writes each case's weights and losses to OUT/<case>.npz, and
           the 1-epoch checkpoint of the float32 case to OUT/two-ranks-epoch1.safetensors;
           --resume CHECKPOINT also continues that (one-process) checkpoint to 2 epochs
  raise    rank 1 raises in its third step: the job must end non-zero with a message
  die      rank 1 is killed (SIGKILL) in its third step: the job must end, not hang
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mpi_cases import build  # noqa: E402

import striate as st  # noqa: E402
from striate.distributed import from_environment  # noqa: E402
from striate.train import LambdaCallback, Trainer  # noqa: E402

# case name: (dtype, batch norm, synchronised batch norm)
CASES = {"float32": ("float32", False, False), "float64": ("float64", False, False),
         "float64-blocking": ("float64", False, False),
         "float64-bn": ("float64", True, False), "float32-syncbn": ("float32", True, True),
         "float64-syncbn": ("float64", True, True)}


def train(comm, dtype="float32", bn=False, sync_bn=False, epochs=2, callbacks=(), resume=None,
          overlap=True):
    model, opt, loader = build(dtype, bn)
    trainer = Trainer(model, opt, loader, epochs=epochs, progress=False, callbacks=list(callbacks),
                      distributed=comm, sync_batchnorm=sync_bn)
    if not overlap:  # the blocking all-reduce after the backward instead of the overlapped one
        trainer._dist.overlapped = None
    if resume:
        trainer.load_checkpoint(resume)
    trainer.fit()
    return trainer


def save(comm, trainer, path: Path) -> None:
    if comm.is_main:
        np.savez(path, **{k: v.numpy() for k, v in trainer.model.state_dict().items()},
                 __loss=np.array(trainer.history["loss"]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["suite", "raise", "die"])
    parser.add_argument("out")
    parser.add_argument("--resume", default=None, help="a one-process checkpoint to continue from")
    args = parser.parse_args()
    st.config.set_num_threads(1)
    comm = from_environment()
    out = Path(args.out)
    if args.scenario in ("raise", "die"):
        def fail(trainer, step, logs):
            if comm.rank == 1 and step == 3:
                if args.scenario == "die":
                    os.kill(os.getpid(), signal.SIGKILL)
                raise RuntimeError("rank 1 fails on purpose in step 3")
        save(comm, train(comm, epochs=50, callbacks=[LambdaCallback(on_batch_end=fail)]), out)
        return 0
    out.mkdir(parents=True, exist_ok=True)
    for name, (dtype, bn, sync_bn) in CASES.items():
        save(comm, train(comm, dtype, bn, sync_bn, overlap=name != "float64-blocking"), out / f"{name}.npz")
    train(comm, epochs=1).save_checkpoint(out / "two-ranks-epoch1.safetensors")
    if args.resume:
        save(comm, train(comm, resume=args.resume), out / "resumed.npz")
    return 0


if __name__ == "__main__":
    sys.exit(main())

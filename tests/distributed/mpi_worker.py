"""Run under `mpirun -np R python tests/distributed/mpi_worker.py SCENARIO OUT [options]`.

Scenarios (the test file builds the same model and data in one process to compare):
  train    a few steps of data-parallel training; rank 0 writes the weights to OUT (.npz)
  raise    rank 1 raises in its third step: the job must end non-zero with a message
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mpi_cases import build  # noqa: E402

import striate as st  # noqa: E402
from striate.distributed import from_environment  # noqa: E402
from striate.train import LambdaCallback, Trainer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["train", "raise"])
    parser.add_argument("out")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--bn", action="store_true")
    parser.add_argument("--sync-bn", action="store_true")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    st.config.set_num_threads(1)
    comm = from_environment()
    model, opt, loader = build(args.dtype, args.bn)
    callbacks = []
    if args.scenario == "raise":
        def fail(trainer, step, logs):
            if comm.rank == 1 and step == 3:
                raise RuntimeError("rank 1 fails on purpose in step 3")
        callbacks.append(LambdaCallback(on_batch_end=fail))
    trainer = Trainer(model, opt, loader, epochs=args.epochs, progress=False, callbacks=callbacks,
                      distributed=comm, sync_batchnorm=args.sync_bn)
    trainer.fit()
    if comm.is_main:
        np.savez(args.out, **{k: v.numpy() for k, v in trainer.model.state_dict().items()},
                 __loss=np.array(trainer.history["loss"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

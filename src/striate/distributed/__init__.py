"""`st.distributed`: data-parallel training over MPI (mpi4py), on one machine or many.

    mpirun -np 4 striate train --model resnet18_cifar --dataset cifar10 --batch-size 256
    st.train.fit(model, loader, distributed=True)           # inside a script run by mpirun
    model = st.distributed.DistributedDataParallel(net)      # for a training loop of your own

Everything here imports without mpi4py; MPI is initialised only when a communicator of a job
started by mpirun/mpiexec/srun is first asked for (`from_environment()`).
"""

from striate.distributed.comm import (
    Communicator,
    from_environment,
    launched_by_mpi,
    mpirun_path,
    single_process,
)
from striate.distributed.ddp import DistributedDataParallel, GradientBuckets, broadcast_module
from striate.distributed.loader import ShardedDataLoader, shard_bounds
from striate.distributed.sync_batchnorm import SyncBatchNorm, convert_sync_batchnorm
from striate.distributed.training import DistributedTraining, stop_all_on_error

__all__ = [
    "Communicator",
    "DistributedDataParallel",
    "DistributedTraining",
    "GradientBuckets",
    "ShardedDataLoader",
    "SyncBatchNorm",
    "broadcast_module",
    "convert_sync_batchnorm",
    "from_environment",
    "launched_by_mpi",
    "mpirun_path",
    "shard_bounds",
    "single_process",
    "stop_all_on_error",
]

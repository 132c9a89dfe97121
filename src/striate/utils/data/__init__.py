"""`st.utils.data`: torch.utils.data's names with PyTorch's semantics and random streams.

    import striate.utils.data as data
    from striate.utils.data import DataLoader, Dataset, TensorDataset, random_split

The batches are striate Tensors. striate's own datasets (`st.data.datasets.MNIST`,
`FashionMNIST`, `Digits`, ...) work here as in torch. `st.data.DataLoader` is striate's own
seeded, exactly resumable loader (the Trainer's); this one is PyTorch's.
"""

from striate.utils.data import sampler
from striate.utils.data.collate import default_collate, default_convert
from striate.utils.data.dataloader import DataLoader
from striate.utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from striate.utils.data.distributed import DistributedSampler
from striate.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from striate.utils.data.worker import WorkerInfo, get_worker_info

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
           "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "WorkerInfo", "default_collate", "default_convert",
           "get_worker_info", "random_split", "sampler"]

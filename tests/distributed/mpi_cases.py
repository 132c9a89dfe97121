"""The model, optimizer and data the MPI tests train, built the same way in every process."""

from __future__ import annotations

import numpy as np

import striate as st
import striate.nn as nn
from striate.data import DataLoader
from striate.data.datasets import ArrayDataset

N_TRAIN, BATCH = 320, 64  # 5 global batches per epoch


class ToDtype(nn.Module):
    """Cast the (float32) batches the loader yields to the model's dtype."""

    def __init__(self, dtype: str) -> None:
        super().__init__()
        self.dtype = dtype

    def forward(self, x):
        return x.double() if self.dtype == "float64" else x


def build(dtype: str = "float32", bn: bool = False):
    from striate.data.datasets import Digits

    x, y = Digits(train=True).arrays()
    x = ((x[:N_TRAIN] - 8.0) / 8.0).astype(np.float32) if x.max() > 1.5 else x[:N_TRAIN]
    y = y[:N_TRAIN]
    st.manual_seed(0)
    layers = [ToDtype(dtype), nn.Conv2d(1, 8, 3, padding=1)]
    layers += [nn.BatchNorm2d(8)] if bn else []
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10)]
    model = nn.Sequential(*layers)
    if dtype == "float64":
        model = model.double()
    opt = st.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(ArrayDataset(x, y), batch_size=BATCH, shuffle=True, seed=0)
    return model, opt, loader

"""A small CNN trained on the embedded 8x8 digits in about a second, shared by the viz tests."""

from __future__ import annotations

import functools

import numpy as np

import striate as st
import striate.nn as nn
import striate.nn.functional as F


@functools.lru_cache(maxsize=1)
def trained_digits_cnn():
    """(model in eval mode, normalised test images, labels, accuracy on them)."""
    st.manual_seed(0)
    train = st.data.datasets.Digits(train=True)
    test = st.data.datasets.Digits(train=False)
    x, y = train.arrays()
    xt, yt = test.arrays()
    mean, std = float(x.mean()), float(x.std())
    x, xt = (x - mean) / std, (xt - mean) / std
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(32 * 16, 10))
    opt = st.optim.Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    for _ in range(4):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 64):
            idx = order[i:i + 64]
            loss = F.cross_entropy(model(st.tensor(x[idx])), st.tensor(y[idx].astype(np.int64)))
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with st.no_grad():
        acc = float((model(st.tensor(xt)).numpy().argmax(1) == yt).mean())
    return model, xt.astype(np.float32), yt, acc, (float(x.min()), float(x.max()))

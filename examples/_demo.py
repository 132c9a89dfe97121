"""What the example scripts share: a small learnable batch and a few training steps."""

import numpy as np

import striate as st
import striate.nn as nn


def digits_like_batch(batch_size: int, channels: int, size: int, num_classes: int = 10,
                      seed: int = 0) -> tuple[st.Tensor, st.Tensor]:
    """A learnable stand-in for a batch of digits: class k is a fixed random blob image plus noise."""
    rng = np.random.default_rng(seed)
    templates = rng.random((num_classes, channels, size, size)) > 0.7
    labels = np.arange(batch_size) % num_classes
    images = templates[labels] + 0.3 * rng.standard_normal((batch_size, channels, size, size))
    return st.tensor(images.astype(np.float32)), st.tensor(labels)


def train_steps(model: nn.Module, images: st.Tensor, labels: st.Tensor, steps: int, lr: float,
                verbose: bool) -> list[float]:
    """`steps` steps of Adam with cross-entropy on one batch; returns the losses."""
    criterion = nn.CrossEntropyLoss()
    optimizer = st.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if verbose:
            print(f"step {step + 1:2d}/{steps}  loss {loss.item():.4f}")
    return losses

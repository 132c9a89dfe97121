# ruff: noqa: UP008 - the slide's super(ConvNet, self).__init__() is kept as written
"""Seed 002's MNIST ConvNet ("Now Let's Develop it with PyTorch"), running on striate.

The class is the slide's code (its lines 35-57) with only the imports changed: the slide relies on
`import torch.nn as nn`; here `import striate.nn as nn`. The class body uses no `torch.` name.
28x28x1 -> conv 5x5 pad 2 -> 28x28x16 -> pool -> 14x14x16 -> conv -> 14x14x32 -> pool -> 7x7x32 -> 10.

Below the class, a few training steps on a small digits-like batch (one noisy template image
per class) print the loss falling:

    python examples/seed002_convnet.py
"""

import numpy as np

import striate as st
import striate.nn as nn


# Convolutional neural network (two convolutional layers)
class ConvNet(nn.Module):
    def __init__(self, num_classes=10):
        super(ConvNet, self).__init__()
        self.layer1 = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=5, stride=1, padding=2),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2))
        self.layer2 = nn.Sequential(
            nn.Conv2d(16, 32, kernel_size=5, stride=1, padding=2),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2))
        self.fc = nn.Linear(7*7*32, num_classes)

    def forward(self, x):
        out = self.layer1(x)
        out = self.layer2(out)
        out = out.reshape(out.size(0), -1)
        out = self.fc(out)

        return out


def digits_like_batch(batch_size: int, channels: int, size: int, num_classes: int = 10,
                      seed: int = 0) -> tuple[st.Tensor, st.Tensor]:
    """A learnable stand-in for a batch of digits: class k is a fixed random blob image plus noise."""
    rng = np.random.default_rng(seed)
    templates = rng.random((num_classes, channels, size, size)) > 0.7
    labels = np.arange(batch_size) % num_classes
    images = templates[labels] + 0.3 * rng.standard_normal((batch_size, channels, size, size))
    return st.tensor(images.astype(np.float32)), st.tensor(labels)


def main(steps: int = 10, batch_size: int = 32, lr: float = 1e-3, verbose: bool = True) -> list[float]:
    """Train the slide's ConvNet for `steps` steps of Adam on one batch; return the losses."""
    st.manual_seed(0)
    model = ConvNet(num_classes=10)
    criterion = nn.CrossEntropyLoss()
    optimizer = st.optim.Adam(model.parameters(), lr=lr)
    images, labels = digits_like_batch(batch_size, channels=1, size=28)
    model.train()
    losses = []
    for step in range(steps):
        outputs = model(images)
        loss = criterion(outputs, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if verbose:
            print(f"step {step + 1:2d}/{steps}  loss {loss.item():.4f}")
    return losses


if __name__ == "__main__":
    main()

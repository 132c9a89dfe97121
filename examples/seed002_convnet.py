# ruff: noqa: UP008 - the slide's super(ConvNet, self).__init__() is kept as written
"""Seed 002's MNIST ConvNet ("Now Let's Develop it with PyTorch"), running on striate.

The class is the slide's code (its lines 35-57) with only the imports changed: the slide relies on
`import torch.nn as nn`; here `import striate.nn as nn`. The class body uses no `torch.` name.
28x28x1 -> conv 5x5 pad 2 -> 28x28x16 -> pool -> 14x14x16 -> conv -> 14x14x32 -> pool -> 7x7x32 -> 10.

Below the class, a few training steps on a small digits-like batch (one noisy template image
per class) print the loss falling:

    python examples/seed002_convnet.py
"""

import striate as st
import striate.nn as nn
from _demo import digits_like_batch, train_steps


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


def main(steps: int = 10, batch_size: int = 32, lr: float = 1e-3, verbose: bool = True) -> list[float]:
    """Train the slide's ConvNet for `steps` steps of Adam on one batch; return the losses."""
    st.manual_seed(0)
    images, labels = digits_like_batch(batch_size, channels=1, size=28)
    return train_steps(ConvNet(num_classes=10), images, labels, steps, lr, verbose)


if __name__ == "__main__":
    main()

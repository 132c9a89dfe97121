'''LeNet in PyTorch.'''

import striate as st
import striate.nn as nn
import striate.nn.functional as F
from _demo import digits_like_batch, train_steps

# Seed 002's "LeNet In PyTorch" slide, running on striate. The slide's docstring and class are
# kept as written; the imports changed (`import torch.nn as nn` -> `import striate.nn as nn`,
# `import torch.nn.functional as F` -> `import striate.nn.functional as F`). One line had to
# change: the slide prints `return out` at the indentation of `def forward` (its line 26),
# which Python rejects ("'return' outside function"); here it is inside forward. The class body
# uses no `torch.` name. The slide's LeNet takes 3x32x32 (CIFAR-10 sized) images:
# 32 -> conv 5x5 -> 28 -> pool -> 14 -> conv 5x5 -> 10 -> pool -> 5, so fc1 sees 16*5*5.
# Below the class, a few training steps on a small digits-like batch print the loss falling:
#     python examples/seed002_lenet.py
# ruff: noqa: UP008 - the slide's super(LeNet, self).__init__() is kept as written


class LeNet(nn.Module):
    def __init__(self):
        super(LeNet, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1   = nn.Linear(16*5*5, 120)
        self.fc2   = nn.Linear(120, 84)
        self.fc3   = nn.Linear(84, 10)

    def forward(self, x):
        out = F.relu(self.conv1(x))
        out = F.max_pool2d(out, 2)
        out = F.relu(self.conv2(out))
        out = F.max_pool2d(out, 2)
        out = out.view(out.size(0), -1)
        out = F.relu(self.fc1(out))
        out = F.relu(self.fc2(out))
        out = self.fc3(out)

        return out


def main(steps: int = 10, batch_size: int = 32, lr: float = 3e-3, verbose: bool = True) -> list[float]:
    """Train the slide's LeNet for `steps` steps of Adam on one batch; return the losses."""
    st.manual_seed(0)
    images, labels = digits_like_batch(batch_size, channels=3, size=32)
    return train_steps(LeNet(), images, labels, steps, lr, verbose)


if __name__ == "__main__":
    main()

"""A grid of the first 64 training digits, as torchvision code draws one (imports changed only).

    python examples/digits_grid.py [OUT.png]      # default: docs/images/digits_grid.png
"""

import sys

import striate as st
from striate.data import datasets, transforms
from striate.data.utils import make_grid, save_image

train = datasets.Digits(train=True, transform=transforms.Resize(32))
images = st.stack([train[i][0] for i in range(64)])       # (64, 1, 32, 32), values 0..1
grid = make_grid(images, nrow=8, padding=2, normalize=True, pad_value=1.0)
print("grid", tuple(grid.shape))
save_image(images, sys.argv[1] if len(sys.argv) > 1 else "docs/images/digits_grid.png", nrow=8, padding=2,
           normalize=True, pad_value=1.0)

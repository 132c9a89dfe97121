"""Eight torchvision-style augmentations of one photograph, as a grid (imports changed only).

    python examples/augment_grid.py [OUT.png]      # default: docs/images/augment_grid.png
Needs Pillow and scikit-image (its sample photograph).
"""

import sys

from PIL import Image
from skimage import data

import striate as st
import striate.data.transforms as T
from striate.data.utils import save_image

augment = T.Compose([T.RandomResizedCrop(128), T.RandomRotation(10), T.ColorJitter(0.4, 0.4, 0.4, 0.1),
                     T.ToTensor()])
photo = Image.fromarray(data.astronaut())
st.manual_seed(0)   # torch.manual_seed(0) + torchvision picks the same crops, angles and colours
batch = st.stack([augment(photo) for _ in range(8)])
save_image(batch, sys.argv[1] if len(sys.argv) > 1 else "docs/images/augment_grid.png", nrow=4)
print("saved", tuple(batch.shape))

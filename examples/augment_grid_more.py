"""The transforms issue 21 added last, on one photograph: each row is one transform applied eight
times after `st.manual_seed(0)` (torchvision draws the same after `torch.manual_seed(0)`).

    python examples/augment_grid_more.py [OUT.png]      # default: docs/images/augment_grid_more.png
Rows: RandomPerspective(0.5), GaussianBlur(15, (0.1, 4)), RandomErasing(value='random'),
RandomGrayscale(0.5) + RandomApply([ColorJitter], 0.5). Needs Pillow and scikit-image.
"""

import sys

from PIL import Image
from skimage import data

import striate as st
import striate.data.transforms as T
from striate.data.utils import save_image

photo = Image.fromarray(data.astronaut()).resize((96, 96))
rows = [
    T.Compose([T.RandomPerspective(0.5, p=1.0), T.ToTensor()]),
    T.Compose([T.GaussianBlur(15, (0.1, 4.0)), T.ToTensor()]),
    T.Compose([T.ToTensor(), T.RandomErasing(p=1.0, value="random")]),
    T.Compose([T.RandomGrayscale(0.5), T.RandomApply([T.ColorJitter(0.5, 0.5, 0.5, 0.2)], p=0.5),
               T.ToTensor()]),
]
st.manual_seed(0)
batch = st.stack([row(photo) for row in rows for _ in range(8)])
out = sys.argv[1] if len(sys.argv) > 1 else "docs/images/augment_grid_more.png"
save_image(batch.clamp(0, 1), out, nrow=8)  # the 'random' erasing noise is standard normal
print("saved", tuple(batch.shape))

"""What `striate visualize` and `striate report` read from a run folder: the model, its test
images (normalised as in training) and class names; the image a user names, prepared the same way."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class RunView:
    folder: Path
    cfg: Any
    model: Any

    @property
    def classes(self) -> list[str]:
        n = self.cfg.num_classes or 10
        return [self.cfg.classes[i] if i < len(self.cfg.classes) else str(i) for i in range(n)]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.cfg.in_channels, self.cfg.input_side, self.cfg.input_side)

    def test_set(self) -> tuple[np.ndarray, np.ndarray]:
        from striate.train import runs

        return runs.prepare(self.cfg, train=False)

    def image(self, path: str | None, index: int = 0) -> tuple[np.ndarray, str]:
        """(1, C, H, W) normalised input and a caption: the file at `path` or test image `index`."""

        if path is None:
            x, y = self.test_set()
            if not 0 <= index < len(x):
                raise SystemExit(f"error: --index {index} out of range: the test set has {len(x)} images")
            return x[index:index + 1], f"test image {index} ({self.classes[int(y[index])]})"
        from striate.train.run_inputs import prepare_images

        return prepare_images([path], self.cfg), Path(path).name  # the run's size, channels, polarity


def load_run(folder: str) -> RunView:
    """The run's best model in eval mode; a one-line error (SystemExit) when the folder is not a run."""
    from striate.train import runs
    from striate.train.run_config import NotARunError

    path = Path(folder)
    try:
        cfg, model = runs.load_model(path)
    except NotARunError:
        raise  # the command line's own run-folder error (exit code 5)
    except (FileNotFoundError, ValueError, KeyError) as e:
        raise SystemExit(f"error: {e}") from None
    return RunView(path, cfg, model)


def probabilities(model: Any, x: np.ndarray, batch: int = 500) -> np.ndarray:
    """Softmax outputs for a stack of inputs, in batches, no graph."""
    from striate.autograd.function import no_grad
    from striate.autograd.tensor import _make
    from striate.ops.activation import softmax

    out = []
    with no_grad():
        for i in range(0, len(x), batch):
            out.append(softmax(model(_make(x[i:i + batch], False)), dim=1).numpy())
    return np.concatenate(out)

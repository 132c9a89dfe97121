"""emg2qwerty sEMG typing sessions (Sivakumar et al. 2024) read from their HDF5 files.

A session file holds a group `emg2qwerty` with

- `timeseries`: a compound dataset of T records with fields `emg_left` and `emg_right` (16
  electrodes of each wristband, float, 2 kHz, high-pass filtered) and `time` (unix seconds);
- JSON attributes `keystrokes` (a list of {"key", "start", "end"}: the keylogger's presses) and
  `prompts` (the sentences shown), plus `session_name`, `user`, `condition`, `duration_mins`.

`EMG2QWERTY(root, split)` lists the split's sessions from a split config (JSON: {"train":
[{"user": ..., "session": ...}], "val": [...], "test": [...]}; `root/split.json` when present,
else the course's single-user split shipped with striate) and reads `root/<session>.hdf5`.
Training items are windows (4 s = 8000 samples, with 1800 samples of past and 200 of future
context as in the paper); validation and test items are whole sessions. An item is
`(emg (T, 2, 16) float32 or transform(emg), labels int64)`, the labels being the keys pressed in
the unpadded window (`striate.data.datasets.emg_keys`). Needs h5py: pip install 'striate[emg]'.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from striate.data.datasets.base import DataFileError, DatasetNotFoundError
from striate.data.datasets.emg_keys import CHARS, keys_to_text, text_to_labels

SAMPLE_RATE = 2000
ELECTRODES = 16
KEYSTROKE_SLACK_S = 1.0
FIELDS = ("emg_left", "emg_right", "time")
BUILTIN_CONFIGS = {"single_user": "emg2qwerty_single_user.json"}


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise ImportError("reading emg2qwerty sessions needs h5py: pip install 'striate[emg]'") from None
    return h5py


@dataclass(frozen=True)
class Keystroke:
    key: str  # the vocabulary character
    start: float
    end: float


class EMGSession:
    """One session file, checked on open; the signal is read lazily, window by window."""

    def __init__(self, path: str | os.PathLike) -> None:
        h5py = _h5py()
        self.path = Path(path)
        if not self.path.is_file():
            raise DatasetNotFoundError(f"{self.path}: no such session file")
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as e:
            raise DataFileError(
                self.path,
                f"not a readable HDF5 file ({e}); the file is corrupt "
                "or truncated: copy or download it again",
            ) from None
        try:
            self._open()
        except BaseException:
            self._file.close()
            raise

    def _open(self) -> None:
        group = self._file.get("emg2qwerty")
        if group is None:
            raise DataFileError(self.path, "no group 'emg2qwerty': not an emg2qwerty session file")
        series = group.get("timeseries")
        if series is None or series.dtype.fields is None:
            raise DataFileError(self.path, "no compound dataset 'emg2qwerty/timeseries'")
        for name in FIELDS:
            if name not in series.dtype.fields:
                raise DataFileError(
                    self.path,
                    f"timeseries has no field {name!r} (it has "
                    f"{', '.join(series.dtype.fields)}); the file is incomplete",
                )
        for name in FIELDS[:2]:
            shape = series.dtype.fields[name][0].shape
            if shape != (ELECTRODES,):
                raise DataFileError(
                    self.path, f"field {name!r} has {shape} values per sample, expected ({ELECTRODES},)"
                )
        self.timeseries = series
        self.metadata = {k: v for k, v in group.attrs.items() if k not in ("keystrokes", "prompts")}
        self.prompts = self._json_attr(group, "prompts", required=False) or []
        self.time = np.asarray(series["time"], dtype=np.float64)  # 8 bytes a sample: small
        if len(self.time) < 2 or np.any(np.diff(self.time) < 0):
            raise DataFileError(self.path, "timestamps are not increasing (or fewer than 2 samples)")
        self.keystrokes = self._read_keystrokes(self._json_attr(group, "keystrokes", required=True))

    def _json_attr(self, group: Any, name: str, required: bool) -> Any:
        if name not in group.attrs:
            if required:
                raise DataFileError(self.path, f"no attribute {name!r} in group 'emg2qwerty' (the labels)")
            return None
        try:
            return json.loads(group.attrs[name])
        except (TypeError, ValueError) as e:
            raise DataFileError(self.path, f"attribute {name!r} is not valid JSON ({e})") from None

    def _read_keystrokes(self, raw: Any) -> list[Keystroke]:
        if not isinstance(raw, list):
            raise DataFileError(self.path, "attribute 'keystrokes' is not a list")
        # a keylogger and the bands start and stop a moment apart: allow a second either side
        t0, t1 = self.time[0] - KEYSTROKE_SLACK_S, self.time[-1] + KEYSTROKE_SLACK_S
        out = []
        for i, k in enumerate(raw):
            if not isinstance(k, dict) or not {"key", "start", "end"} <= k.keys():
                raise DataFileError(self.path, f"keystroke {i} is not a {{key, start, end}} record: {k!r}")
            if not t0 <= float(k["start"]) <= t1:
                raise DataFileError(
                    self.path,
                    f"keystroke {i} ({k['key']!r}) at t={k['start']} lies outside "
                    f"the signal [{self.time[0]}, {self.time[-1]}] (+-{KEYSTROKE_SLACK_S} s): "
                    "the keystrokes do not match this recording",
                )
            char = keys_to_text([k["key"]])
            if char:
                out.append(Keystroke(char, float(k["start"]), float(k["end"])))
        return out

    def __len__(self) -> int:
        return len(self.time)

    def __enter__(self) -> EMGSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def emg(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Samples [start, stop) as float32 (T, 2, 16): left band then right band."""
        try:
            rec = self.timeseries[start:stop]
        except OSError as e:
            raise DataFileError(
                self.path, f"cannot read samples {start}:{stop} ({e}); the file is corrupt"
            ) from None
        return np.stack([rec["emg_left"], rec["emg_right"]], axis=1).astype(np.float32, copy=False)

    def text(self, start_t: float = -np.inf, end_t: float = np.inf) -> str:
        """The keys pressed with start_t <= press time <= end_t, as vocabulary text."""
        return "".join(k.key for k in self.keystrokes if start_t <= k.start <= end_t)


def load_split_config(config: str | os.PathLike | dict | None, root: Path) -> dict:
    """A split config: a dict, a JSON file, a built-in name ('single_user'), or None for
    `root/split.json` if present, else 'single_user'."""
    if isinstance(config, dict):
        return config
    if config is None:
        config = root / "split.json" if (root / "split.json").is_file() else "single_user"
    if str(config) in BUILTIN_CONFIGS:
        text = resources.files("striate.data").joinpath("files", BUILTIN_CONFIGS[str(config)]).read_text()
        return json.loads(text)
    try:
        return json.loads(Path(config).read_text())
    except FileNotFoundError:
        raise DatasetNotFoundError(
            f"split config {config}: no such file (or built-in name: {', '.join(BUILTIN_CONFIGS)})"
        ) from None
    except ValueError as e:
        raise DataFileError(config, f"not valid JSON ({e})") from None


class EMG2QWERTY:
    """The sessions of one split, as training windows or whole sessions.

    root: folder holding `<session>.hdf5` files (and optionally `split.json`).
    split: 'train', 'val' or 'test'. user: keep only this subject's sessions (None: all).
    transform: applied to each (T, 2, 16) float32 window. config: see `load_split_config`.
    window_length / padding / stride: samples; default 8000 with (1800, 200) context for
    'train' and whole sessions (window_length=None) otherwise. jitter: random window offsets
    (training) drawn from `seed`.
    """

    classes = list(CHARS)

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        user: int | str | None = None,
        transform: Callable[[np.ndarray], Any] | None = None,
        *,
        config: Any = None,
        window_length: int | None | str = "auto",
        padding: Sequence[int] | str = "auto",
        stride: int | None = None,
        jitter: bool = False,
        seed: int | None = None,
    ) -> None:
        self.root = Path(root)
        cfg = load_split_config(config, self.root)
        if split not in cfg:
            raise ValueError(f"split {split!r} is not in the split config (it has {', '.join(cfg)})")
        entries = [e for e in cfg[split] if user is None or str(e["user"]) == str(user)]
        if not entries:
            raise ValueError(f"split {split!r} has no sessions for user {user}")
        missing = [e["session"] for e in entries if not (self.root / f"{e['session']}.hdf5").is_file()]
        if missing:
            raise DatasetNotFoundError(
                f"{len(missing)} of the {len(entries)} {split} sessions are not in {self.root} (first: "
                f"{missing[0]}.hdf5); get emg2qwerty's data or write synthetic sessions with "
                "`python -m striate.data.emg_synthetic DIR`"
            )
        self.split, self.transform = split, transform
        train = split == "train"
        self.window_length = (8000 if train else None) if window_length == "auto" else window_length
        self.padding = (
            tuple((1800, 200) if train and self.window_length else (0, 0))
            if padding == "auto"
            else tuple(padding)
        )
        self.stride = stride or self.window_length
        self.jitter = jitter
        self._rng = np.random.default_rng(seed)
        self.sessions = [EMGSession(self.root / f"{e['session']}.hdf5") for e in entries]
        self._index = [(s, w) for s, sess in enumerate(self.sessions) for w in range(self._windows(sess))]

    def _windows(self, session: EMGSession) -> int:
        if self.window_length is None:
            return 1
        return max(len(session) - self.window_length, 0) // self.stride + 1

    def __len__(self) -> int:
        return len(self._index)

    def __getitem__(self, i: int) -> tuple[Any, np.ndarray]:
        s, w = self._index[i]
        session = self.sessions[s]
        if self.window_length is None:
            start, stop = 0, len(session)
        else:
            start = w * self.stride
            leftover = len(session) - (start + self.window_length)
            if self.jitter and leftover > 0:
                start += int(self._rng.integers(0, min(self.stride, leftover)))
            stop = min(start + self.window_length, len(session))
        lo, hi = max(start - self.padding[0], 0), min(stop + self.padding[1], len(session))
        emg = session.emg(lo, hi)
        labels = text_to_labels(session.text(session.time[start], session.time[stop - 1]))
        return (self.transform(emg) if self.transform else emg), labels

    def close(self) -> None:
        for s in self.sessions:
            s.close()

    def __repr__(self) -> str:
        return (
            f"EMG2QWERTY(root={str(self.root)!r}, split={self.split!r}, sessions={len(self.sessions)}, "
            f"items={len(self)}, window_length={self.window_length}, padding={self.padding})"
        )

"""Synthetic sEMG typing sessions written in emg2qwerty's exact file layout.

For users without the real data, and for tests: `write_synthetic_dataset(root)` writes a few
session files and a `split.json`, which `st.data.datasets.EMG2QWERTY(root, split)` reads with
the same code as the real files.

The signal model, per band (wristband) of 16 electrodes around the forearm at 2 kHz:

    emg[t, c] = sum_k  env(t - t_k) * g_k[c] * n_k(t)        keystroke-locked bursts
              + sigma * white(t, c)                          electrode noise
              + d_c * sin(2 pi f_d t + phi_c)                baseline drift (f_d < 1 Hz)

Each key k has a spatial pattern g_k: a bump around the ring of electrodes centred on a
key-specific electrode (left-hand keys on the left band, right-hand keys on the right, a
weaker copy on the other band), and its burst n_k is band-pass noise at a key-specific
frequency; env is a 60 ms rise/decay envelope locked to the press. A session shifts all
patterns by a random electrode offset (-1, 0, +1: the band is put on slightly rotated) and a
random gain, which is what band-rotation augmentation and spectrogram normalisation are for.

    python -m striate.data.emg_synthetic DIR [--train 4 --val 1 --test 1 --seconds 60 --seed 0
                                              --alphabet 'abc ' --noise 0.3]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from striate.data.datasets.emg2qwerty import ELECTRODES, SAMPLE_RATE, _h5py
from striate.data.datasets.emg_keys import MODIFIERS
from striate.io_atomic import atomic_path, atomic_write_text

SENTENCES = (
    "the quick brown fox jumps over the lazy dog",
    "pack my box with five dozen liquor jugs",
    "how vexingly quick daft zebras jump",
    "sphinx of black quartz judge my vow",
    "a wizard's job is to vex chumps quickly in fog",
    "the five boxing wizards jump quickly",
    "we promptly judged antique ivory buckles for the next prize",
    "jackdaws love my big sphinx of quartz",
    "typing on a keyboard moves the muscles of the forearm",
    "each key press makes a short burst",
    "the electrodes sit in a ring around the wrist",
    "a network learns to read the keys from the signal",
    "connectionist temporal classification needs no alignment",
    "character error rate counts edits",
    "more channels and more data lower the error",
    "a lower sampling rate keeps fewer frequencies",
)
LEFT_HAND = set("qwertasdfgzxcvb12345`~!@#$%") | {"Key.shift"}
_KEY_NAMES = {c: name for name, c in MODIFIERS}


def _key_name(char: str) -> str:
    return _KEY_NAMES.get(char, char)


def key_patterns(keys: list[str], rng: np.random.Generator) -> dict[str, tuple[np.ndarray, float]]:
    """Per key: a (2, 16) spatial gain pattern and a burst centre frequency in Hz."""
    ring = np.arange(ELECTRODES)
    out = {}
    for key in keys:
        centre, width = rng.uniform(0, ELECTRODES), rng.uniform(1.2, 2.5)
        dist = np.minimum(np.abs(ring - centre), ELECTRODES - np.abs(ring - centre))
        bump = np.exp(-0.5 * (dist / width) ** 2)
        main = 0 if key in LEFT_HAND or key.lower() in LEFT_HAND else 1
        pattern = np.zeros((2, ELECTRODES))
        pattern[main], pattern[1 - main] = bump, 0.25 * np.roll(bump, ELECTRODES // 2)
        out[key] = (pattern, float(rng.uniform(60, 500)))
    return out


def _burst(n: int, freq: float, rng: np.random.Generator) -> np.ndarray:
    """Band-pass noise around `freq` (a narrow band in the FFT domain), unit RMS, length n."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spec *= np.exp(-0.5 * ((f - freq) / (0.35 * freq)) ** 2)
    x = np.fft.irfft(spec, n)
    return x / (x.std() + 1e-12)


def synthesize_session(
    text: str,
    patterns: dict,
    rng: np.random.Generator,
    start_time: float = 1.6e9,
    noise: float = 0.3,
    drift: float = 0.5,
    keys_per_second: float = 4.0,
):
    """(emg (T, 2, 16) float32, time (T,) float64, keystrokes) for typing `text`."""
    gaps = np.maximum(rng.exponential(1 / keys_per_second, len(text)), 0.12)
    press = 0.5 + np.cumsum(gaps)
    n = int((press[-1] + 1.0) * SAMPLE_RATE) if len(text) else SAMPLE_RATE
    t = np.arange(n) / SAMPLE_RATE
    offset, gain = int(rng.integers(-1, 2)), rng.uniform(0.7, 1.4)
    emg = noise * rng.standard_normal((n, 2, ELECTRODES))
    emg += drift * np.sin(
        2 * np.pi * rng.uniform(0.05, 0.5, (2, ELECTRODES)) * t[:, None, None]
        + rng.uniform(0, 2 * np.pi, (2, ELECTRODES))
    )
    burst_len = int(0.12 * SAMPLE_RATE)
    env = np.exp(-0.5 * ((np.arange(burst_len) / SAMPLE_RATE - 0.03) / 0.02) ** 2)
    keystrokes = []
    for char, p in zip(text, press):
        pattern, freq = patterns[char]
        i0 = int((p - 0.03) * SAMPLE_RATE)
        seg = slice(i0, min(i0 + burst_len, n))
        m = seg.stop - seg.start
        amp = gain * rng.uniform(0.8, 1.2)
        emg[seg] += amp * (env[:m] * _burst(m, freq, rng))[:, None, None] * np.roll(pattern, offset, axis=1)
        keystrokes.append({"key": _key_name(char), "start": start_time + p, "end": start_time + p + 0.08})
    return emg.astype(np.float32), start_time + t, keystrokes


def write_session(
    path: str | os.PathLike,
    emg: np.ndarray,
    time: np.ndarray,
    keystrokes: list,
    prompts: list,
    user: int | str,
    session_name: str,
) -> None:
    """Write one session file in emg2qwerty's layout (atomically)."""
    h5py = _h5py()
    dtype = np.dtype(
        [("emg_left", "<f4", (ELECTRODES,)), ("emg_right", "<f4", (ELECTRODES,)), ("time", "<f8")]
    )
    rec = np.empty(len(time), dtype=dtype)
    rec["emg_left"], rec["emg_right"], rec["time"] = emg[:, 0], emg[:, 1], time
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        g = f.create_group("emg2qwerty")
        g.create_dataset("timeseries", data=rec)
        g.attrs.update(
            {
                "keystrokes": json.dumps(keystrokes),
                "prompts": json.dumps(prompts),
                "session_name": session_name,
                "user": str(user),
                "condition": "on_keyboard",
                "duration_mins": float((time[-1] - time[0]) / 60),
            }
        )


def _session_text(rng: np.random.Generator, seconds: float, alphabet: str | None) -> list[str]:
    """Prompts (sentences) enough for about `seconds` of typing at 4 keys/s."""
    prompts, n = [], 0
    while n < seconds * 4:
        s = SENTENCES[int(rng.integers(len(SENTENCES)))]
        if alphabet is not None:
            s = "".join(c for c in s if c in alphabet)
        prompts.append(s)
        n += len(s) + 1
    return prompts


def write_synthetic_dataset(
    root: str | os.PathLike,
    train: int = 4,
    val: int = 1,
    test: int = 1,
    seconds: float = 60.0,
    seed: int = 0,
    user: int = 1000,
    alphabet: str | None = None,
    noise: float = 0.3,
) -> Path:
    """Write `train + val + test` sessions of about `seconds` each and `root/split.json`.

    alphabet: restrict the typed text to these characters (e.g. "abcdefgh " for a quick test);
    default all lower-case letters, space, the apostrophe and enter at each sentence's end."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    keys = sorted(set("".join(SENTENCES)) | {"\u23ce"})
    patterns = key_patterns(keys, np.random.default_rng(seed + 7919))  # fixed per user
    split: dict = {"user": f"synthetic-{user}", "train": [], "val": [], "test": []}
    t0 = 1.6e9
    for part, count in (("train", train), ("val", val), ("test", test)):
        for i in range(count):
            prompts = _session_text(rng, seconds, alphabet)
            text = "".join(
                p + ("\u23ce" if alphabet is None or "\u23ce" in alphabet else "") for p in prompts
            )
            emg, time, strokes = synthesize_session(text, patterns, rng, start_time=t0, noise=noise)
            name = f"synthetic-{user}-{part}-{i:02d}"
            prompt_records = [{"start": t0, "end": float(time[-1]), "payload": {"text": p}} for p in prompts]
            write_session(root / f"{name}.hdf5", emg, time, strokes, prompt_records, user, name)
            split[part].append({"user": user, "session": name})
            t0 = float(time[-1]) + 600.0
    atomic_write_text(root / "split.json", json.dumps(split, indent=1) + "\n")
    return root


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m striate.data.emg_synthetic",
        description="Write synthetic sEMG typing sessions (emg2qwerty layout) and split.json.",
    )
    p.add_argument("root", help="output folder")
    p.add_argument("--train", type=int, default=4, help="training sessions (default 4)")
    p.add_argument("--val", type=int, default=1, help="validation sessions (default 1)")
    p.add_argument("--test", type=int, default=1, help="test sessions (default 1)")
    p.add_argument("--seconds", type=float, default=60.0, help="length of each session (default 60)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--alphabet", default=None, help="only type these characters (default: all of the text)")
    p.add_argument(
        "--noise", type=float, default=0.3, help="electrode noise std, bursts peak near 1 (default 0.3)"
    )
    a = p.parse_args(argv)
    root = write_synthetic_dataset(
        a.root, a.train, a.val, a.test, a.seconds, a.seed, alphabet=a.alphabet, noise=a.noise
    )
    print(f"wrote {a.train + a.val + a.test} sessions and split.json to {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

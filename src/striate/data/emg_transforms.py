"""Transforms for sEMG windows (emg2qwerty's pre-processing and augmentation), on NumPy arrays.

A raw window is (T, bands=2, electrodes=16) at 2 kHz; `LogSpectrogram` turns it into
(frames, 2, 16, freq). Random transforms take `seed=` (their own generator) or use striate's
global one (`st.manual_seed`); compose them with `st.data.transforms.Compose`:

    >>> import striate.data.transforms as T, striate.data.emg_transforms as E
    >>> train = T.Compose([E.RandomBandRotation(), E.TemporalAlignmentJitter(120),
    ...                    E.LogSpectrogram(), E.SpecAugment(3, 25, 2, 4)])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.random import default_generator


class EMGTransform:
    """Base: one window in, one window out (not batched); randomness as in st.data.transforms."""

    batched = False

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def generator(self, rng: np.random.Generator | None = None) -> np.random.Generator:
        if rng is not None:
            return rng
        return self._rng if self._rng is not None else default_generator()

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


def _check_window(x: np.ndarray, name: str, min_ndim: int = 2) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim < min_ndim:
        raise ValueError(f"{name} expects a window (T, bands, electrodes[, ...]), got shape {x.shape}")
    return x


class LogSpectrogram(EMGTransform):
    """log10 power spectrogram per channel, torchaudio's Spectrogram(normalized=True, center=False):

        S[m, ..., f] = |sum_n w[n] x[m*hop + n, ...] exp(-2 pi i f n / n_fft)|^2 / sum_n w[n]^2
        out = log10(S + 1e-6),   w = periodic Hann window of n_fft,   f = 0 .. n_fft/2

    (T, ...) -> (frames, ..., n_fft // 2 + 1), frames = (T - n_fft) // hop + 1. The paper's
    n_fft 64, hop 16 at 2 kHz give 33 bins of 31.25 Hz at 125 frames a second."""

    def __init__(self, n_fft: int = 64, hop_length: int = 16) -> None:
        super().__init__()
        if n_fft < 2 or hop_length < 1:
            raise ValueError(
                f"LogSpectrogram needs n_fft >= 2 and hop_length >= 1, got {n_fft}, {hop_length}"
            )
        self.n_fft, self.hop_length = int(n_fft), int(hop_length)

    def frames(self, samples: int) -> int:
        return max((samples - self.n_fft) // self.hop_length + 1, 0)

    def __call__(self, x: Any, rng: Any = None) -> np.ndarray:
        x = _check_window(x, "LogSpectrogram", 1)
        if len(x) < self.n_fft:
            raise ValueError(
                f"LogSpectrogram: a window of {len(x)} samples is shorter than n_fft={self.n_fft}"
            )
        n = np.arange(self.n_fft)
        window = 0.5 - 0.5 * np.cos(2 * np.pi * n / self.n_fft)
        frames = np.lib.stride_tricks.sliding_window_view(x, self.n_fft, axis=0)[:: self.hop_length]
        spec = np.fft.rfft(frames.astype(np.float64) * window, axis=-1)  # (frames, ..., freq)
        power = (spec.real**2 + spec.imag**2) / np.sum(window**2)
        return np.log10(power + 1e-6).astype(np.float32)


class SpecAugment(EMGTransform):
    """SpecAugment (Park et al. 2019) on (frames, ..., freq): up to `n_time_masks` time masks of
    width < `time_mask_param` frames and up to `n_freq_masks` frequency masks of width <
    `freq_mask_param` bins, set to `mask_value`; drawn independently per channel (iid) as
    torchaudio does for (bands, electrodes) inputs."""

    def __init__(
        self,
        n_time_masks: int = 0,
        time_mask_param: int = 0,
        n_freq_masks: int = 0,
        freq_mask_param: int = 0,
        mask_value: float = 0.0,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed)
        self.n_time_masks, self.time_mask_param = n_time_masks, time_mask_param
        self.n_freq_masks, self.freq_mask_param = n_freq_masks, freq_mask_param
        self.mask_value = mask_value

    @staticmethod
    def _mask(x: np.ndarray, axis: int, param: int, value: float, rng: np.random.Generator) -> None:
        size = x.shape[axis]
        channels = x.shape[1:-1]
        width = rng.integers(0, max(param, 1), channels)  # torchaudio: uniform in [0, param)
        start = (rng.random(channels) * np.maximum(size - width, 0)).astype(np.int64)
        pos = np.arange(size).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
        lo = start[None, ..., None]  # (1, *channels, 1): the same span along the other axis
        hi = lo + width[None, ..., None]
        x[np.broadcast_to((pos >= lo) & (pos < hi), x.shape)] = value

    def __call__(self, x: Any, rng: np.random.Generator | None = None) -> np.ndarray:
        x = np.array(_check_window(x, "SpecAugment", 3), copy=True)
        g = self.generator(rng)
        for _ in range(int(g.integers(self.n_time_masks + 1))):
            self._mask(x, 0, self.time_mask_param, self.mask_value, g)
        for _ in range(int(g.integers(self.n_freq_masks + 1))):
            self._mask(x, x.ndim - 1, self.freq_mask_param, self.mask_value, g)
        return x


class RandomBandRotation(EMGTransform):
    """Rotate each band's electrodes (axis 2 of (T, bands, electrodes, ...)) by an offset drawn
    from `offsets`, independently per band: the band put on a little rotated."""

    def __init__(self, offsets: Sequence[int] = (-1, 0, 1), seed: int | None = None) -> None:
        super().__init__(seed)
        self.offsets = tuple(int(o) for o in offsets) or (0,)

    def __call__(self, x: Any, rng: np.random.Generator | None = None) -> np.ndarray:
        x = _check_window(x, "RandomBandRotation", 3)
        g = self.generator(rng)
        return np.stack(
            [
                np.roll(x[:, b], self.offsets[int(g.integers(len(self.offsets)))], axis=1)
                for b in range(x.shape[1])
            ],
            axis=1,
        )


class TemporalAlignmentJitter(EMGTransform):
    """Shift the right band against the left by a random offset in [-max_offset, max_offset]
    samples (the two wristbands' clocks are not perfectly aligned); the window shortens by |offset|."""

    def __init__(self, max_offset: int, seed: int | None = None) -> None:
        super().__init__(seed)
        if max_offset < 0:
            raise ValueError(f"TemporalAlignmentJitter: max_offset must be >= 0, got {max_offset}")
        self.max_offset = int(max_offset)

    def __call__(self, x: Any, rng: np.random.Generator | None = None) -> np.ndarray:
        x = _check_window(x, "TemporalAlignmentJitter", 3)
        if x.shape[1] != 2:
            raise ValueError(f"TemporalAlignmentJitter needs 2 bands on axis 1, got shape {x.shape}")
        off = int(self.generator(rng).integers(-self.max_offset, self.max_offset + 1))
        n = len(x) - abs(off)
        left = x[max(off, 0) : max(off, 0) + n, 0]
        right = x[max(-off, 0) : max(-off, 0) + n, 1]
        return np.stack([left, right], axis=1)


class ChannelSubset(EMGTransform):
    """Keep `n` of each band's electrodes, evenly spaced around the ring (or the given indices):
    (T, bands, 16, ...) -> (T, bands, n, ...). For the study of CER against channel count."""

    def __init__(
        self, n: int | None = None, indices: Sequence[int] | None = None, electrodes: int = 16
    ) -> None:
        super().__init__()
        if (n is None) == (indices is None):
            raise ValueError("ChannelSubset: give either n or indices")
        if indices is None:
            if not 1 <= n <= electrodes:
                raise ValueError(f"ChannelSubset: n must be in 1..{electrodes}, got {n}")
            indices = np.floor(np.arange(n) * electrodes / n).astype(int)
        self.indices = tuple(int(i) for i in indices)

    def __call__(self, x: Any, rng: Any = None) -> np.ndarray:
        x = _check_window(x, "ChannelSubset", 3)
        if max(self.indices) >= x.shape[2]:
            raise ValueError(
                f"ChannelSubset: electrode {max(self.indices)} asked, the window has {x.shape[2]}"
            )
        return x[:, :, list(self.indices)]


class Resample(EMGTransform):
    """Resample along time from `orig_rate` to `new_rate` Hz (new_rate must divide orig_rate):
    a windowed-sinc low-pass at 0.9 of the new Nyquist frequency, then keep every k-th sample."""

    def __init__(self, orig_rate: int = 2000, new_rate: int = 1000, taps_per_factor: int = 16) -> None:
        super().__init__()
        if new_rate <= 0 or orig_rate % new_rate:
            raise ValueError(f"Resample: new_rate must divide orig_rate={orig_rate}, got {new_rate}")
        self.orig_rate, self.new_rate = int(orig_rate), int(new_rate)
        self.factor = self.orig_rate // self.new_rate
        k = np.arange(-taps_per_factor * self.factor, taps_per_factor * self.factor + 1)
        cutoff = 0.9 / self.factor  # relative to the original Nyquist
        taps = cutoff * np.sinc(cutoff * k) * np.hamming(len(k))
        self._taps = taps / taps.sum()

    def __call__(self, x: Any, rng: Any = None) -> np.ndarray:
        x = _check_window(x, "Resample", 1)
        if self.factor == 1:
            return x
        flat = x.reshape(len(x), -1).astype(np.float64)
        pad = len(self._taps) // 2
        padded = np.pad(flat, ((pad, pad), (0, 0)), mode="reflect" if len(x) > pad else "edge")
        windows = np.lib.stride_tricks.sliding_window_view(padded, len(self._taps), axis=0)[:: self.factor]
        out = windows[: -(-len(x) // self.factor)] @ self._taps[::-1]
        return out.reshape((len(out),) + x.shape[1:]).astype(x.dtype)

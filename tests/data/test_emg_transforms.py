"""sEMG transforms: the spectrogram against torch.stft, the augmentations' invariants."""

import numpy as np
import pytest

from striate.data import emg_transforms as E
from striate.data.transforms import Compose

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("n_fft,hop,samples", [(64, 16, 8200), (32, 8, 1000), (8, 2, 64), (64, 16, 64)])
def test_log_spectrogram_equals_torchaudio_definition(n_fft, hop, samples):
    x = np.random.default_rng(0).standard_normal((samples, 2, 3))
    out = E.LogSpectrogram(n_fft, hop)(x.astype(np.float32))
    # torchaudio.transforms.Spectrogram(n_fft, hop_length=hop, normalized=True, center=False):
    # |STFT with a periodic Hann window|^2 / sum(window^2)
    w = torch.hann_window(n_fft, dtype=torch.float64)
    xt = torch.from_numpy(x.astype(np.float32).astype(np.float64)).permute(1, 2, 0).reshape(-1, samples)
    power = (
        torch.stft(xt, n_fft, hop, window=w, center=False, return_complex=True).abs() ** 2 / w.pow(2).sum()
    )
    ref = torch.log10(power + 1e-6).reshape(2, 3, n_fft // 2 + 1, -1).permute(3, 0, 1, 2).numpy()
    assert out.shape == ref.shape == ((samples - n_fft) // hop + 1, 2, 3, n_fft // 2 + 1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="shorter than n_fft"):
        E.LogSpectrogram(n_fft, hop)(x[: n_fft - 1])


def test_spec_augment_masks_spans_per_channel():
    spec = np.ones((200, 2, 16, 33), np.float32)
    out = E.SpecAugment(3, 25, 2, 4, seed=0)(spec)
    assert out.shape == spec.shape and spec.min() == 1  # input untouched
    masked_time = (out == 0).all(axis=3)  # (T, 2, 16): whole frames masked per channel
    masked_freq = (out == 0).all(axis=0)  # (2, 16, F)
    assert masked_time.any() and masked_freq.any()
    assert not np.array_equal(masked_time[:, 0, 0], masked_time[:, 1, 5]) or not masked_time[:, 0, 0].any()
    for c in range(16):  # each time mask is a run shorter than 25 frames, at most 3 per channel
        runs = np.diff(np.concatenate([[0], masked_time[:, 0, c].astype(int), [0]]))
        starts, ends = np.flatnonzero(runs == 1), np.flatnonzero(runs == -1)
        assert len(starts) <= 3 and ((ends - starts) <= 3 * 24).all()
    assert np.array_equal(E.SpecAugment(0, 0, 0, 0, seed=1)(spec), spec)


def test_band_rotation_rolls_each_band_by_an_allowed_offset():
    x = np.broadcast_to(np.arange(16.0), (50, 2, 16)).copy()
    seen = set()
    rot = E.RandomBandRotation((-1, 0, 1), seed=0)
    for _ in range(30):
        out = rot(x)
        for b in range(2):
            offset = int((-out[0, b, 0]) % 16)  # np.roll by o puts electrode -o first
            assert np.array_equal(out[:, b], np.roll(x[:, b], offset if offset < 8 else offset - 16, axis=1))
            seen.add(offset if offset < 8 else offset - 16)
    assert seen == {-1, 0, 1}


def test_temporal_jitter_shifts_right_against_left():
    t = np.arange(1000.0)
    x = np.stack([np.broadcast_to(t[:, None], (1000, 16)), np.broadcast_to(t[:, None], (1000, 16))], axis=1)
    jit = E.TemporalAlignmentJitter(120, seed=0)
    offsets = set()
    for _ in range(20):
        out = jit(x)
        off = int(out[0, 0, 0] - out[0, 1, 0])
        assert abs(off) <= 120 and len(out) == 1000 - abs(off)
        assert np.all(out[:, 0, 0] - out[:, 1, 0] == off)
        offsets.add(off)
    assert len(offsets) > 5
    assert np.array_equal(E.TemporalAlignmentJitter(0)(x), x)


def test_channel_subset_and_resample():
    x = np.random.default_rng(1).standard_normal((4000, 2, 16)).astype(np.float32)
    assert E.ChannelSubset(4)(x).shape == (4000, 2, 4)
    np.testing.assert_array_equal(E.ChannelSubset(4)(x), x[:, :, [0, 4, 8, 12]])
    np.testing.assert_array_equal(E.ChannelSubset(indices=[3, 5])(x), x[:, :, [3, 5]])
    with pytest.raises(ValueError, match="1..16"):
        E.ChannelSubset(17)
    t = np.arange(8000) / 2000
    low, high = np.sin(2 * np.pi * 40 * t), np.sin(2 * np.pi * 400 * t)  # 400 Hz is above 500 Hz's Nyquist
    out = E.Resample(2000, 500)((low + high)[:, None, None])
    assert out.shape == (2000, 1, 1)
    np.testing.assert_allclose(
        out[100:-100, 0, 0], low[::4][100:-100], atol=2e-3
    )  # passband kept, alias removed
    assert E.Resample(2000, 2000)(x) is x
    with pytest.raises(ValueError, match="must divide"):
        E.Resample(2000, 300)


def test_compose_pipeline_shapes():
    x = np.random.default_rng(2).standard_normal((10000, 2, 16)).astype(np.float32)
    pipe = Compose(
        [
            E.ChannelSubset(8),
            E.Resample(2000, 1000),
            E.RandomBandRotation(seed=0),
            E.TemporalAlignmentJitter(60, seed=0),
            E.LogSpectrogram(32, 8),
            E.SpecAugment(3, 25, 2, 2, seed=0),
        ]
    )
    out = pipe(x)
    assert out.shape[1:] == (2, 8, 17) and 615 <= out.shape[0] <= 622

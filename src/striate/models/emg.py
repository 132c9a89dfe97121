"""sEMG typing decoders trained with CTC (the emg2qwerty course project).

All take a log spectrogram batch in time-first layout (T, N, bands=2, electrodes, freq), as
`striate.emg.batches` builds it, and return per-frame log-probabilities over the 98 keys and
the CTC blank (T', N, 99) for `F.ctc_loss`; `model.output_lengths(input_lengths)` gives T' per
example.

- `tds_conv_ctc`: the paper's baseline (Sivakumar et al. 2024, after Hannun et al. 2019):
  spectrogram normalisation (batch norm per electrode), a rotation-invariant MLP per band (the
  MLP applied to the band rotated by -1, 0, +1 electrodes, averaged), time-depth-separable
  convolution blocks (a (1 x k) convolution over time per channel group, ReLU, residual, layer
  norm; then a two-layer fully connected block, residual, layer norm), linear + log-softmax.
- `rnn_ctc`: spectrogram norm, an MLP over all electrodes (or the rotation-invariant one),
  frames averaged 4 at a time, a (bi)directional LSTM or GRU.
- `cnn_gru_ctc`: that front end, TDS convolution blocks, then a GRU: a CNN + RNN hybrid.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import striate as st
import striate.nn as nn
import striate.nn.functional as F
from striate.autograd.tensor import Tensor
from striate.data.datasets.emg_keys import NUM_CLASSES

BANDS = 2


class SpectrogramNorm(nn.Module):
    """Batch norm per (band, electrode) channel over (batch, freq, time): (T, N, B, C, F) in and out."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.batch_norm = nn.BatchNorm2d(channels)

    def forward(self, x: Tensor) -> Tensor:
        t, n, bands, c, f = x.shape
        if bands * c != self.channels:
            raise ValueError(f"SpectrogramNorm({self.channels}) got {bands} bands x {c} electrodes")
        # BatchNorm2d on the free view (T*N, B*C, F, 1): per channel over the same (N, F, T)
        # elements as on (N, B*C, F, T), without two transposing copies
        return self.batch_norm(x.reshape(t * n, bands * c, f, 1)).reshape(t, n, bands, c, f)


class RotationInvariantMLP(nn.Module):
    """MLP on one band (T, N, C, F) rotated by each offset, mean over offsets -> (T, N, features[-1])."""

    def __init__(
        self, in_features: int, mlp_features: Sequence[int], offsets: Sequence[int] = (-1, 0, 1)
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for out in mlp_features:
            layers += [nn.Linear(in_features, out), nn.ReLU()]
            in_features = out
        self.mlp = nn.Sequential(*layers)
        self.offsets = tuple(offsets) or (0,)

    def forward(self, x: Tensor) -> Tensor:
        c = x.shape[2]
        rolled = [
            st.cat([x[:, :, c - o % c :], x[:, :, : c - o % c]], dim=2) if o % c else x for o in self.offsets
        ]  # torch.roll(x, o, dims=2) as two slices (no scatter-add backward)
        y = st.stack(rolled, dim=2).flatten(3)  # (T, N, rotations, C*F)
        return self.mlp(y).mean(dim=2)


class MultiBandRotationInvariantMLP(nn.Module):
    """One RotationInvariantMLP per band: (T, N, B, C, F) -> (T, N, B, features[-1])."""

    def __init__(self, in_features: int, mlp_features: Sequence[int], num_bands: int = BANDS) -> None:
        super().__init__()
        self.mlps = nn.ModuleList([RotationInvariantMLP(in_features, mlp_features) for _ in range(num_bands)])

    def forward(self, x: Tensor) -> Tensor:
        return st.stack([mlp(x[:, :, b]) for b, mlp in enumerate(self.mlps)], dim=2)


class TDSConv2dBlock(nn.Module):
    """(T, N, channels*width) -> (T - kernel_width + 1, N, channels*width): a (1 x k) convolution
    over time mixing the `channels` groups, ReLU, the input's last frames added, layer norm."""

    def __init__(self, channels: int, width: int, kernel_width: int) -> None:
        super().__init__()
        self.channels, self.width, self.kernel_width = channels, width, kernel_width
        self.conv2d = nn.Conv2d(channels, channels, kernel_size=(1, kernel_width))
        self.layer_norm = nn.LayerNorm(channels * width)

    def forward(self, x: Tensor) -> Tensor:
        t, n, c = x.shape
        y = x.permute(1, 2, 0).reshape(n, self.channels, self.width, t)
        y = F.relu(self.conv2d(y))
        y = y.reshape(n, c, -1).permute(2, 0, 1)
        return self.layer_norm(y + x[t - y.shape[0] :])


class TDSFullyConnectedBlock(nn.Module):
    """Linear, ReLU, Linear, residual, layer norm over the features."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.fc_block = nn.Sequential(
            nn.Linear(num_features, num_features), nn.ReLU(), nn.Linear(num_features, num_features)
        )
        self.layer_norm = nn.LayerNorm(num_features)

    def forward(self, x: Tensor) -> Tensor:
        return self.layer_norm(self.fc_block(x) + x)


class TDSConvEncoder(nn.Sequential):
    """TDSConv2dBlock + TDSFullyConnectedBlock per entry of block_channels."""

    def __init__(
        self, num_features: int, block_channels: Sequence[int] = (24, 24, 24, 24), kernel_width: int = 32
    ) -> None:
        blocks: list[nn.Module] = []
        for channels in block_channels:
            if num_features % channels:
                raise ValueError(f"block_channels {channels} must divide num_features {num_features}")
            blocks += [
                TDSConv2dBlock(channels, num_features // channels, kernel_width),
                TDSFullyConnectedBlock(num_features),
            ]
        super().__init__(*blocks)
        self.shrink = len(block_channels) * (kernel_width - 1)


class _FrontEnd(nn.Module):
    """Spectrogram norm, then either the paper's rotation-invariant MLP per band (flattened:
    (T, N, B, C, F) -> (T, N, B*mlp[-1])) or, with rotation_invariant=False, one MLP over all
    bands' features ((T, N, B*C*F) -> (T, N, mlp[-1])). On the synthetic sessions the plain MLP
    leaves CTC's blank-only start several times sooner (measured with PyTorch twins of both)."""

    def __init__(
        self, electrodes: int, freq: int, mlp_features: Sequence[int], rotation_invariant: bool = True
    ) -> None:
        super().__init__()
        self.spec_norm = SpectrogramNorm(BANDS * electrodes)
        if rotation_invariant:
            self.mlp = MultiBandRotationInvariantMLP(electrodes * freq, mlp_features)
            self.num_features = BANDS * mlp_features[-1]
        else:
            layers: list[nn.Module] = []
            width = BANDS * electrodes * freq
            for out in mlp_features:
                layers += [nn.Linear(width, out), nn.ReLU()]
                width = out
            self.mlp = nn.Sequential(*layers)
            self.num_features = width
        self.rotation_invariant = rotation_invariant

    def forward(self, x: Tensor) -> Tensor:
        x = self.spec_norm(x)
        return self.mlp(x).flatten(2) if self.rotation_invariant else self.mlp(x.flatten(2))


class TDSConvCTC(nn.Module):
    """The emg2qwerty baseline; default sizes are the paper's (5.3M parameters)."""

    def __init__(
        self,
        electrodes: int = 16,
        freq: int = 33,
        mlp_features: Sequence[int] = (384,),
        block_channels: Sequence[int] = (24, 24, 24, 24),
        kernel_width: int = 32,
        num_classes: int = NUM_CLASSES,
    ) -> None:
        super().__init__()
        self.front = _FrontEnd(electrodes, freq, mlp_features)
        self.encoder = TDSConvEncoder(self.front.num_features, block_channels, kernel_width)
        self.classifier = nn.Linear(self.front.num_features, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(self.classifier(self.encoder(self.front(x))), dim=-1)

    def output_lengths(self, lengths: np.ndarray) -> np.ndarray:
        return np.asarray(lengths) - self.encoder.shrink

    def context_frames(self) -> int:
        """Input frames consumed before the first emission (the receptive field minus one)."""
        return self.encoder.shrink


def _pool_time(x: Tensor, stride: int) -> Tensor:
    """Average each `stride` consecutive frames of (T, N, F) (a ragged tail dropped)."""
    if stride == 1:
        return x
    t, n, f = x.shape
    t = t // stride * stride
    return x[:t].reshape(t // stride, stride, n, f).mean(dim=1)


class RNNCTC(nn.Module):
    """Front end, then an LSTM or GRU over time (bidirectional by default), linear + log-softmax.

    time_stride averages that many frames before the recurrence (4: 32 ms steps at 125 frames
    a second, still several per key press): 4x fewer sequential steps, and CTC's blank-only
    start is left sooner with fewer frames per key."""

    def __init__(
        self,
        kind: str = "lstm",
        electrodes: int = 16,
        freq: int = 33,
        mlp_features: Sequence[int] = (384,),
        hidden_size: int = 128,
        num_layers: int = 2,
        bidirectional: bool = True,
        dropout: float = 0.0,
        time_stride: int = 4,
        rotation_invariant: bool = False,
        num_classes: int = NUM_CLASSES,
    ) -> None:
        super().__init__()
        self.time_stride = time_stride
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}.get(kind)
        if rnn is None:
            raise ValueError(f"kind must be 'lstm' or 'gru', got {kind!r}")
        self.front = _FrontEnd(electrodes, freq, mlp_features, rotation_invariant)
        self.rnn = rnn(
            self.front.num_features,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
        )
        self.classifier = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(_pool_time(self.front(x), self.time_stride))
        return F.log_softmax(self.classifier(out), dim=-1)

    def output_lengths(self, lengths: np.ndarray) -> np.ndarray:
        return np.asarray(lengths) // self.time_stride

    def context_frames(self) -> int:
        return 0


class CNNGRUCTC(nn.Module):
    """Front end, TDS convolution blocks (local patterns), frames averaged by time_stride, then a
    GRU (long context): a hybrid."""

    def __init__(
        self,
        electrodes: int = 16,
        freq: int = 33,
        mlp_features: Sequence[int] = (384,),
        block_channels: Sequence[int] = (24, 24),
        kernel_width: int = 16,
        hidden_size: int = 128,
        num_layers: int = 1,
        bidirectional: bool = True,
        time_stride: int = 4,
        rotation_invariant: bool = False,
        num_classes: int = NUM_CLASSES,
    ) -> None:
        super().__init__()
        self.time_stride = time_stride
        self.front = _FrontEnd(electrodes, freq, mlp_features, rotation_invariant)
        self.encoder = TDSConvEncoder(self.front.num_features, block_channels, kernel_width)
        self.rnn = nn.GRU(
            self.front.num_features, hidden_size, num_layers=num_layers, bidirectional=bidirectional
        )
        self.classifier = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(_pool_time(self.encoder(self.front(x)), self.time_stride))
        return F.log_softmax(self.classifier(out), dim=-1)

    def output_lengths(self, lengths: np.ndarray) -> np.ndarray:
        return (np.asarray(lengths) - self.encoder.shrink) // self.time_stride

    def context_frames(self) -> int:
        return self.encoder.shrink


def tds_conv_ctc(**kwargs) -> TDSConvCTC:
    """The emg2qwerty paper's TDS-conv CTC baseline (see TDSConvCTC for the sizes)."""
    return TDSConvCTC(**kwargs)


def lstm_ctc(**kwargs) -> RNNCTC:
    """Rotation-invariant MLP front end + bidirectional LSTM decoder."""
    return RNNCTC("lstm", **kwargs)


def gru_ctc(**kwargs) -> RNNCTC:
    """Rotation-invariant MLP front end + bidirectional GRU decoder."""
    return RNNCTC("gru", **kwargs)


def cnn_gru_ctc(**kwargs) -> CNNGRUCTC:
    """Rotation-invariant MLP, TDS convolutions, then a GRU."""
    return CNNGRUCTC(**kwargs)


EMG_MODELS = {"tds_conv": tds_conv_ctc, "lstm": lstm_ctc, "gru": gru_ctc, "cnn_gru": cnn_gru_ctc}

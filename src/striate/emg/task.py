"""Train and test an sEMG typing decoder with CTC: `striate train --task emg`.

One run: training windows (4 s, past context = the receptive field) -> transforms (channel subset,
resampling, augmentation, log spectrogram) -> batches padded over time (T, N, 2, C, F) ->
model log-probabilities (T', N, 99) -> `F.ctc_loss` (blank 98) -> Adam with a cosine schedule.
After each epoch the validation sessions are decoded whole (greedy CTC decoding) and scored
by character error rate; the best epoch's weights are tested on the test sessions. The run
folder holds config.json, checkpoints/best.safetensors, history.json and result.json.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

import striate as st
import striate.nn.functional as F
from striate.data import emg_transforms as E
from striate.data.datasets.emg2qwerty import EMG2QWERTY, SAMPLE_RATE
from striate.data.datasets.emg_keys import BLANK, labels_to_text
from striate.data.transforms import Compose
from striate.io_atomic import atomic_write_text
from striate.models.emg import EMG_MODELS
from striate.text import cer, greedy_decode


@dataclass
class EMGConfig:
    data_root: str
    model: str = "tds_conv"
    epochs: int = 10
    batch_size: int = 16
    lr: float = 1e-3
    clip_grad: float | None = None
    augment: bool = False
    seed: int = 0
    split_config: str | None = None
    window_seconds: float = 4.0
    channels: int = 16
    sampling_rate: int = 2000
    train_fraction: float = 1.0
    size: str = "small"

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> EMGConfig:
        # `striate train` leaves flags the user did not give unset: this config's defaults apply
        # (an image model named with --model is refused by check(), not silently replaced)
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: getattr(args, k) for k in names if getattr(args, k, None) is not None})

    def check(self) -> None:
        if self.model not in EMG_MODELS:
            raise ValueError(
                f"--model {self.model!r} is not an sEMG decoder; choose one of {', '.join(EMG_MODELS)}"
            )
        if not 0 < self.train_fraction <= 1:
            raise ValueError(f"--train-fraction must be in (0, 1], got {self.train_fraction}")
        if not 1 <= self.channels <= 16:
            raise ValueError(f"--channels must be in 1..16 (electrodes per band), got {self.channels}")
        if SAMPLE_RATE % self.sampling_rate or 16 % (SAMPLE_RATE // self.sampling_rate):
            raise ValueError(
                f"--sampling-rate {self.sampling_rate}: 2000 / rate must divide 16 "
                "(2000, 1000, 500, 250 or 125 Hz)"
            )


def spectrogram_for(cfg: EMGConfig) -> E.LogSpectrogram:
    """The paper's 64-sample FFT and 16-sample hop at 2 kHz, scaled so frames stay at 125 Hz."""
    factor = SAMPLE_RATE // cfg.sampling_rate
    return E.LogSpectrogram(n_fft=64 // factor, hop_length=16 // factor)


def make_transform(cfg: EMGConfig, train: bool) -> Compose:
    factor = SAMPLE_RATE // cfg.sampling_rate
    steps: list[Any] = []
    if cfg.channels < 16:
        steps.append(E.ChannelSubset(cfg.channels))
    if factor > 1:
        steps.append(E.Resample(SAMPLE_RATE, cfg.sampling_rate))
    if train and cfg.augment:
        steps += [
            E.RandomBandRotation(seed=cfg.seed),
            E.TemporalAlignmentJitter(120 // factor, seed=cfg.seed + 1),
        ]
    steps.append(spectrogram_for(cfg))
    if train and cfg.augment:
        steps.append(E.SpecAugment(3, 25, 2, max(4 // factor, 1), seed=cfg.seed + 2))
    return Compose(steps)


def build_model(cfg: EMGConfig) -> Any:
    freq = spectrogram_for(cfg).n_fft // 2 + 1
    small = cfg.size == "small"
    sizes: dict[str, dict[str, Any]] = {
        "tds_conv": {"mlp_features": (64,), "block_channels": (16, 16), "kernel_width": 8} if small else {},
        "lstm": {"mlp_features": (128,), "hidden_size": 64, "num_layers": 1}
        if small
        else {"hidden_size": 256},
        "gru": {"mlp_features": (128,), "hidden_size": 64, "num_layers": 1}
        if small
        else {"hidden_size": 256},
        "cnn_gru": {"mlp_features": (128,), "block_channels": (16,), "kernel_width": 8, "hidden_size": 64}
        if small
        else {"hidden_size": 256},
    }
    return EMG_MODELS[cfg.model](electrodes=cfg.channels, freq=freq, **sizes[cfg.model])


def collate(
    items: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[st.Tensor, np.ndarray, np.ndarray, np.ndarray]:
    """(spectrogram (T_i, 2, C, F), labels) items -> inputs (T, N, 2, C, F) zero-padded over time,
    input lengths, targets (N, S) padded with blanks, target lengths."""
    lengths = np.array([len(x) for x, _ in items], dtype=np.int64)
    target_lengths = np.array([len(y) for _, y in items], dtype=np.int64)
    inputs = np.zeros((lengths.max(), len(items)) + items[0][0].shape[1:], dtype=np.float32)
    targets = np.full((len(items), max(int(target_lengths.max()), 1)), BLANK, dtype=np.int64)
    for i, (x, y) in enumerate(items):
        inputs[: len(x), i] = x
        targets[i, : len(y)] = y
    return st.from_numpy(inputs), lengths, targets, target_lengths


def ctc_step(model: Any, batch: tuple) -> st.Tensor:
    inputs, lengths, targets, target_lengths = batch
    log_probs = model(inputs)
    out_lengths = model.output_lengths(lengths)
    if out_lengths.min() <= 0:
        raise ValueError("a window is shorter than the model's receptive field; use longer windows")
    return F.ctc_loss(
        log_probs,
        st.from_numpy(targets),
        st.from_numpy(out_lengths),
        st.from_numpy(target_lengths),
        blank=BLANK,
        reduction="mean",
        zero_infinity=True,
    )


def evaluate_cer(model: Any, dataset: EMG2QWERTY) -> float:
    """CER (%) over the dataset's items (whole sessions): total edits / total reference keys."""
    model.eval()
    predictions, references = [], []
    with st.no_grad():
        for i in range(len(dataset)):
            x, y = dataset[i]
            inputs, lengths, _, _ = collate([(x, y)])
            emissions = model(inputs)
            best = greedy_decode(emissions, model.output_lengths(lengths), blank=BLANK)[0]
            predictions.append(labels_to_text(best))
            references.append(labels_to_text(y))
    model.train()
    return 100.0 * cer(predictions, references)


def context_samples(model: Any) -> int:
    """Past context of a training window, in 2 kHz samples: the model's receptive field (frames
    it consumes without emitting, 16 samples each), so that its emissions cover the labelled
    window and not the context (whose keys are not in the labels). The paper's 4-block TDS
    encoder consumes 124 frames = 1984 samples (its config pads 1800)."""
    return 16 * model.context_frames()


def _datasets(cfg: EMGConfig, context: int) -> tuple[EMG2QWERTY, EMG2QWERTY | None, EMG2QWERTY]:
    common = {"config": cfg.split_config}
    train = EMG2QWERTY(
        cfg.data_root,
        "train",
        transform=make_transform(cfg, True),
        window_length=int(cfg.window_seconds * SAMPLE_RATE),
        padding=(context, 0),
        jitter=cfg.augment,
        seed=cfg.seed,
        **common,
    )
    try:
        val = EMG2QWERTY(cfg.data_root, "val", transform=make_transform(cfg, False), **common)
    except ValueError:  # a split without validation sessions: keep the last epoch
        val = None
    test = EMG2QWERTY(cfg.data_root, "test", transform=make_transform(cfg, False), **common)
    return train, val, test


def _train_items(cfg: EMGConfig, n: int) -> np.ndarray:
    keep = max(1, int(round(cfg.train_fraction * n)))
    return np.sort(np.random.default_rng(cfg.seed).permutation(n)[:keep])


def _epoch(
    model: Any,
    opt: Any,
    train: EMG2QWERTY,
    items: np.ndarray,
    cfg: EMGConfig,
    rng: np.random.Generator,
    quiet: bool,
) -> float:
    order = rng.permutation(items)
    batches = [order[i : i + cfg.batch_size] for i in range(0, len(order), cfg.batch_size)]
    if not quiet:
        from tqdm import tqdm

        batches = tqdm(batches, leave=False, unit="batch", desc="train")
    total = 0.0
    for idx in batches:
        loss = ctc_step(model, collate([train[int(i)] for i in idx]))
        opt.zero_grad()
        loss.backward()
        if cfg.clip_grad:
            st.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad)
        opt.step()
        total += float(loss.item()) * len(idx)
    return total / len(items)


def train_and_test(
    cfg: EMGConfig, out: str | Path = "runs", quiet: bool = False, log: Any = print
) -> dict[str, Any]:
    """Train, pick the best validation epoch, test; returns result.json's contents."""
    cfg.check()
    st.manual_seed(cfg.seed)
    model = build_model(cfg)
    train, val, test = _datasets(cfg, context_samples(model))
    items = _train_items(cfg, len(train))
    opt = st.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = st.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.epochs, 1))
    folder = Path(out) / f"emg-{cfg.model}-{time.strftime('%Y%m%d-%H%M%S')}-s{cfg.seed}"
    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "config.json", json.dumps(asdict(cfg), indent=1) + "\n")
    rng = np.random.default_rng(cfg.seed)
    history, best, start = [], float("inf"), time.perf_counter()
    n_params, n_val = sum(p.numel() for p in model.parameters()), len(val.sessions) if val else 0
    log(
        f"{cfg.model}: {n_params:,} parameters, {len(items)} training windows "
        f"from {len(train.sessions)} sessions; {n_val} val, {len(test.sessions)} test"
    )
    st.save(model.state_dict(), folder / "checkpoints" / "best.safetensors")  # epochs=0: the untrained model
    for epoch in range(1, cfg.epochs + 1):
        t0 = time.perf_counter()
        loss = _epoch(model, opt, train, items, cfg, rng, quiet)
        sched.step()
        val_cer = evaluate_cer(model, val) if val else float("nan")
        history.append(
            {"epoch": epoch, "train_loss": loss, "val_cer": val_cer, "seconds": time.perf_counter() - t0}
        )
        if val is None or val_cer <= best:
            best = val_cer if val else best
            st.save(model.state_dict(), folder / "checkpoints" / "best.safetensors")
        if not quiet:
            log(
                f"epoch {epoch}/{cfg.epochs}  CTC loss {loss:.3f}  val CER {val_cer:.1f}%  "
                f"({history[-1]['seconds']:.1f} s)"
            )
        atomic_write_text(folder / "history.json", json.dumps(history, indent=1) + "\n")
    model.load_state_dict(st.load(folder / "checkpoints" / "best.safetensors"))
    result = {
        "test_cer": evaluate_cer(model, test),
        "best_val_cer": best if val else None,
        "epochs": cfg.epochs,
        "seconds": time.perf_counter() - start,
        "run": str(folder),
    }
    atomic_write_text(folder / "result.json", json.dumps(result, indent=1) + "\n")
    for ds in (train, val, test):
        if ds is not None:
            ds.close()
    return result


def run_from_args(args: argparse.Namespace) -> int:
    """`striate train --task emg ...` and the sweep's per-setting runs: one-line errors, exit 2."""
    from striate.data.datasets.base import DataFileError, DatasetNotFoundError

    try:
        cfg = EMGConfig.from_args(args)
        result = train_and_test(cfg, out=args.out, quiet=args.quiet)
    except (ValueError, DataFileError, DatasetNotFoundError, ImportError) as e:
        print(f"striate train: error: {e}", flush=True)
        return 2
    print(f"run folder: {result['run']}")
    print(f"test CER: {result['test_cer']:.1f}%")
    return 0

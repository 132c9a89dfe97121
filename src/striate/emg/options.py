"""Command-line options of the sEMG task, shared by `striate train --task emg` and `striate sweep`
(argparse only: building the parser imports nothing heavy)."""

from __future__ import annotations

import argparse

MODELS = ("tds_conv", "lstm", "gru", "cnn_gru")
SAMPLING_RATES = (2000, 1000, 500, 250, 125)  # 2000 / rate must divide the paper's hop of 16


def add_emg_arguments(p: argparse.ArgumentParser, standalone: bool = False) -> None:
    """The sEMG options; `standalone` also adds those `striate train` already has."""
    g = p.add_argument_group("sEMG typing (--task emg)")
    if standalone:
        g.add_argument("--model", default="tds_conv", choices=MODELS, help="decoder (default tds_conv)")
        g.add_argument("--data-root", required=True, help="folder of session .hdf5 files (+ split.json)")
        g.add_argument("--epochs", type=int, default=10, help="passes over the training windows (default 10)")
        g.add_argument("--batch-size", type=int, default=16, help="windows per batch (default 16)")
        g.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
        g.add_argument("--clip-grad", type=float, default=None, help="clip the global gradient norm")
        g.add_argument(
            "--augment",
            action="store_true",
            help="band rotation, temporal jitter and SpecAugment on the training windows",
        )
        g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        g.add_argument("--out", default="runs", help="folder for run folders (default ./runs)")
        g.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    g.add_argument(
        "--split-config",
        default=None,
        help="split JSON or 'single_user' (default: DATA_ROOT/split.json if present, else "
        "the course's single-user split of subject 89335547)",
    )
    g.add_argument("--window-seconds", type=float, default=4.0, help="training window length (default 4 s)")
    g.add_argument(
        "--channels", type=int, default=16, help="electrodes kept per band, evenly spaced (default 16)"
    )
    g.add_argument(
        "--sampling-rate",
        type=int,
        default=2000,
        choices=SAMPLING_RATES,
        help="resample the 2 kHz signal to this rate in Hz (default 2000)",
    )
    g.add_argument(
        "--train-fraction", type=float, default=1.0, help="fraction of the training windows used (default 1)"
    )
    g.add_argument(
        "--size",
        default="small",
        choices=["small", "paper"],
        help="model size: small (CPU-friendly, default) or paper (emg2qwerty's 5.3M-parameter TDS)",
    )

"""`striate sweep`: CER against the number of electrodes, the amount of training data or the
sampling rate (the course project's directions 3-5), one training run per value.

    striate sweep --over channels --values 16,8,4,2 --data-root DIR --epochs 10
    striate sweep --over train-fraction --values 1,0.5,0.25 --data-root DIR
    striate sweep --over sampling-rate --values 2000,1000,500,250 --data-root DIR

Writes OUT/sweep-<over>-<time>/ with sweep.json, sweep.csv, sweep.md (the table) and sweep.png
(CER against the swept value; needs matplotlib: pip install 'striate[plots]'), and prints the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from striate.emg.options import add_emg_arguments
from striate.io_atomic import atomic_path, atomic_write_text

SWEEPS: dict[str, tuple[str, type, str, str]] = {
    # --over: (EMGConfig field, type, default values, axis label)
    "channels": ("channels", int, "16,8,4,2", "electrodes per band"),
    "train-fraction": ("train_fraction", float, "1,0.5,0.25,0.125", "fraction of the training windows"),
    "sampling-rate": ("sampling_rate", int, "2000,1000,500,250", "sampling rate (Hz)"),
}


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sweep",
        help="sEMG typing: CER against channels, training data or sampling rate",
        description="Train one sEMG decoder per value of a setting and write a table and "
        "a PNG plot of test CER against it.",
    )
    p.add_argument("--over", required=True, choices=list(SWEEPS), help="the setting to vary")
    p.add_argument(
        "--values",
        default=None,
        help="comma-separated values (defaults: "
        + "; ".join(f"{k}: {v[2]}" for k, v in SWEEPS.items())
        + ")",
    )
    add_emg_arguments(p, standalone=True)


def _values(over: str, text: str | None) -> list:
    field, kind, default, _ = SWEEPS[over]
    try:
        values = [kind(v) for v in (text or default).split(",") if v.strip()]
    except ValueError:
        raise ValueError(
            f"--values {text!r}: expected comma-separated {kind.__name__}s for --over {over}"
        ) from None
    if not values:
        raise ValueError("--values: give at least one value")
    return values


def write_plot(path: Path, over: str, rows: list[dict], model: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("the sweep's plot needs matplotlib: pip install 'striate[plots]'") from None
    xs, ys = [r["value"] for r in rows], [r["test_cer"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    ax.plot(xs, ys, "o-", color="tab:blue", label=f"{model}: test CER")
    if any(r.get("best_val_cer") is not None for r in rows):
        ax.plot(
            xs, [r.get("best_val_cer") for r in rows], "s--", color="tab:gray", label="best validation CER"
        )
    for x, y in zip(xs, ys):
        ax.annotate(f"{y:.1f}%", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    if over != "train-fraction" or min(xs) > 0:
        ax.set_xscale("log", base=2)
    ax.set_xticks(xs)
    ax.set_xticklabels([f"{x:g}" for x in xs])
    ax.set_xlabel(SWEEPS[over][3])
    ax.set_ylabel("character error rate (%)")
    ax.set_ylim(0, max(112, max(ys) + 12))  # room for the labels above 100%
    ax.set_title(f"sEMG typing: CER against {SWEEPS[over][3]}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def _table(over: str, rows: list[dict]) -> str:
    lines = [f"| {SWEEPS[over][3]} | test CER | best val CER | epochs | seconds |", "|---|---|---|---|---|"]
    for r in rows:
        val = "-" if r.get("best_val_cer") is None else f"{r['best_val_cer']:.1f}%"
        lines.append(
            f"| {r['value']:g} | {r['test_cer']:.1f}% | {val} | {r['epochs']} | {r['seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from striate.data.datasets.base import DataFileError, DatasetNotFoundError
    from striate.emg.task import EMGConfig, train_and_test

    try:
        values = _values(args.over, args.values)
        base = EMGConfig.from_args(args)
        folder = Path(args.out) / f"sweep-{args.over}-{time.strftime('%Y%m%d-%H%M%S')}"
        rows = []
        for v in values:
            cfg = dataclasses.replace(base, **{SWEEPS[args.over][0]: v})
            print(f"--- {args.over} = {v:g} ---", flush=True)
            result = train_and_test(cfg, out=folder / "runs", quiet=args.quiet)
            rows.append({"value": v, **result})
            print(f"{args.over} = {v:g}: test CER {result['test_cer']:.1f}%", flush=True)
        atomic_write_text(
            folder / "sweep.json",
            json.dumps({"over": args.over, "model": base.model, "rows": rows}, indent=1) + "\n",
        )
        atomic_write_text(
            folder / "sweep.csv",
            "value,test_cer,best_val_cer,epochs,seconds\n"
            + "".join(
                f"{r['value']},{r['test_cer']:.3f},{'' if r['best_val_cer'] is None else r['best_val_cer']},"
                f"{r['epochs']},{r['seconds']:.1f}\n"
                for r in rows
            ),
        )
        table = _table(args.over, rows)
        atomic_write_text(folder / "sweep.md", table)
        write_plot(folder / "sweep.png", args.over, rows, base.model)
    except (ValueError, DataFileError, DatasetNotFoundError, ImportError) as e:
        print(f"striate sweep: error: {e}", flush=True)
        return 2
    print(table, end="")
    print(f"table and plot: {folder / 'sweep.md'}, {folder / 'sweep.png'}")
    return 0

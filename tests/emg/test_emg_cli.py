"""The sEMG task end to end: decoding helpers, a seeded CER drop, `striate train --task emg`
and `striate sweep` on tiny synthetic data."""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("h5py", reason="the sEMG task reads HDF5 sessions: pip install 'striate[emg]'")

from striate.data.emg_synthetic import write_synthetic_dataset  # noqa: E402
from striate.emg.task import EMGConfig, train_and_test  # noqa: E402


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("emg")
    write_synthetic_dataset(root, train=2, val=1, test=1, seconds=15, seed=0, alphabet="abc ", noise=0.03)
    return root


TINY = {"model": "gru", "window_seconds": 1.0, "sampling_rate": 1000, "batch_size": 4, "lr": 1e-2, "seed": 0}


def test_cer_drops_in_a_few_epochs(tiny_root, tmp_path):
    before = train_and_test(EMGConfig(data_root=str(tiny_root), epochs=0, **TINY), out=tmp_path, quiet=True)
    # 3 keys and space, 2 x 15 s of training: CTC leaves its blank-only start after ~35 steps
    after = train_and_test(EMGConfig(data_root=str(tiny_root), epochs=8, **TINY), out=tmp_path, quiet=True)
    assert before["test_cer"] >= 90
    assert after["test_cer"] <= before["test_cer"] - 30, (before, after)


def _cli(*args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run(
        [sys.executable, "-m", "striate.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def test_train_cli_ends_with_test_cer(tiny_root, tmp_path):
    r = _cli(
        "train",
        "--task",
        "emg",
        "--model",
        "tds_conv",
        "--data-root",
        str(tiny_root),
        "--epochs",
        "1",
        "--window-seconds",
        "1",
        "--batch-size",
        "8",
        "--channels",
        "4",
        "--sampling-rate",
        "500",
        "--out",
        str(tmp_path),
        "--quiet",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("test CER: ") and last.endswith("%")
    run = next(tmp_path.glob("emg-tds_conv-*"))
    result = json.loads((run / "result.json").read_text())
    assert f"{result['test_cer']:.1f}%" in last
    assert (run / "checkpoints" / "best.safetensors").is_file() and (run / "config.json").is_file()


def test_train_cli_clear_errors(tmp_path):
    r = _cli("train", "--task", "emg", "--data-root", str(tmp_path), "--epochs", "1", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "sessions are not in" in r.stdout and "emg_synthetic" in r.stdout
    r = _cli("train", "--task", "emg", "--model", "resnet18", "--data-root", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2 and "not an sEMG decoder" in r.stdout


def test_sweep_writes_table_and_plot(tiny_root, tmp_path):
    pytest.importorskip("matplotlib", reason="the sweep's plot needs matplotlib")
    r = _cli(
        "sweep",
        "--over",
        "channels",
        "--values",
        "4,2",
        "--model",
        "tds_conv",
        "--data-root",
        str(tiny_root),
        "--epochs",
        "1",
        "--window-seconds",
        "1",
        "--batch-size",
        "8",
        "--sampling-rate",
        "500",
        "--out",
        str(tmp_path),
        "--quiet",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    folder = next(tmp_path.glob("sweep-channels-*"))
    data = json.loads((folder / "sweep.json").read_text())
    assert [row["value"] for row in data["rows"]] == [4, 2]
    assert "| electrodes per band |" in (folder / "sweep.md").read_text()
    png = (folder / "sweep.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000

"""`striate train / evaluate / predict / summary` end to end in a temporary folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from striate.cli import main


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "striate.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def only_run(folder: Path) -> Path:
    (run,) = [p for p in folder.iterdir() if p.is_dir()]
    return run


def test_train_evaluate_predict(tmp_path, capsys):
    assert main(["train", "--epochs", "3", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].startswith("test accuracy: ")
    run = only_run(tmp_path)
    for name in ["config.json", "history.json", "history.csv", "result.json",
                 "checkpoints/last.safetensors", "checkpoints/best.safetensors"]:
        assert (run / name).exists(), name
    result = json.loads((run / "result.json").read_text())
    assert result["epochs_run"] == 3 and len(result["confusion_matrix"]) == 10

    assert main(["evaluate", str(run)]) == 0
    ev = capsys.readouterr().out
    assert ev.strip().splitlines()[-1] == f"test accuracy: {100 * result['test_accuracy']:.1f}%"

    from striate.train import runs

    x, y, _ = runs.load_arrays("digits", train=False)
    img = tmp_path / "digit.npy"
    np.save(img, x[0, 0])
    assert main(["predict", str(run), str(img), "--topk", "2"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(str(img)) and line.count("%") == 2


def test_predict_png(tmp_path, capsys):
    pytest.importorskip("PIL")
    from PIL import Image

    assert main(["train", "--epochs", "1", "--out", str(tmp_path), "--quiet"]) == 0
    capsys.readouterr()
    png = tmp_path / "seven.png"
    arr = np.zeros((8, 8), np.uint8)
    arr[1, 1:7] = 255
    arr[2:7, 5] = 255
    Image.fromarray(arr).save(png)
    assert main(["predict", str(only_run(tmp_path)), str(png)]) == 0
    assert capsys.readouterr().out.count("%") == 3


def test_nan_loss_exits_nonzero(tmp_path):
    proc = run_cli("train", "--epochs", "2", "--lr", "1e7", "--out", str(tmp_path), "--quiet", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert "learning rate" in proc.stderr and "Traceback" not in proc.stderr


def test_ctrl_c_saves_a_resumable_checkpoint(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "striate.cli", "train", "--epochs", "200", "--out",
                             str(tmp_path)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until the first epoch is done, so training is under way
        runs_ = [p for p in tmp_path.iterdir() if p.is_dir()]
        if runs_ and (runs_[0] / "checkpoints" / "last.safetensors").exists():
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    run = only_run(tmp_path)
    assert (run / "checkpoints" / "interrupted.safetensors").exists()
    assert "resume with: striate train --resume" in err
    # resume with fewer epochs remaining: edit nothing, just check it loads and continues
    cfg = json.loads((run / "config.json").read_text())
    cfg["epochs"] = 2
    (run / "config.json").write_text(json.dumps(cfg))
    done = run_cli("train", "--resume", str(run), "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "resuming" in done.stderr and "test accuracy:" in done.stdout


def test_summary_command(capsys):
    assert main(["summary", "lenet5", "--variant", "classic"]) == 0
    out = capsys.readouterr().out
    assert "156" in out and "122,304" in out


def test_help_texts(capsys):
    for cmd in ["train", "evaluate", "predict", "summary", "bench"]:
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        assert "usage: striate" in capsys.readouterr().out

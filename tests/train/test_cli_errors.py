"""The command line under user errors: one line naming the problem and the fix, a distinct exit
code, no traceback, no empty run folder left behind; and the fixes of issue 20's list
(resume that extends a run, one name per model, predict preprocessing, feedback, file modes)."""

from __future__ import annotations

import io
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import striate as st
from striate import cli
from striate.cli import main

TINY = ["--epochs", "1", "--batch-size", "128", "--quiet"]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    assert main(["train", "--epochs", "3", "--quiet", "--out", str(out)]) == 0
    (folder,) = out.iterdir()
    return folder


def error_of(capsys, argv, code) -> str:
    try:
        got = main(argv)
    except SystemExit as e:  # argparse
        got = e.code
    err = capsys.readouterr().err
    assert got == code, err
    info = ("preparing data", "run folder:")
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(info)]
    assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("argv, code, words", [
    (["--model", "nope"], cli.EXIT_USAGE, ["unknown model 'nope'", "lenet5_modern"]),
    (["--optimizer", "nope"], cli.EXIT_USAGE, ["unknown optimizer", "adam"]),
    (["--dataset", "nope"], cli.EXIT_USAGE, ["unknown dataset", "fashion_mnist"]),
    (["--scheduler", "nope"], cli.EXIT_USAGE, ["unknown scheduler", "cosine"]),
    (["--epochs", "0"], cli.EXIT_USAGE, ["--epochs", "positive"]),
    (["--lr", "x"], cli.EXIT_USAGE, ["--lr", "'x'"]),
    (["--val-fraction", "1"], cli.EXIT_USAGE, ["--val-fraction", "[0, 1)"]),
    (["--model", "unet"], cli.EXIT_USAGE, ["segmentation"]),
    (["--model", "lenet5", "--width", "2"], cli.EXIT_USAGE, ["width", "mnist_convnet's options"]),
    (["--dataset", "mnist", "--data-root", "/nonexistent"], cli.EXIT_DATA, ["--download", "--data-root"]),
    (["--model", "alexnet"], cli.EXIT_MODEL_FIT, ["alexnet", "--resize 227", "lenet5_modern"]),
])
def test_train_errors_are_one_line_and_leave_no_folder(argv, code, words, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("STRIATE_DATA", raising=False)
    monkeypatch.setattr("striate.data.datasets.base.SYSTEM_DATASET_DIR", tmp_path / "none")
    line = error_of(capsys, ["train", *argv, *TINY, "--out", str(tmp_path / "runs")], code)
    for word in words:
        assert word in line, line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_other_commands_errors(tmp_path, capsys, monkeypatch):
    assert "not a striate run folder" in error_of(capsys, ["evaluate", str(tmp_path)], cli.EXIT_RUN)
    assert "not a striate run folder" in error_of(capsys, ["predict", str(tmp_path), "x.png"], cli.EXIT_RUN)
    assert "unknown model" in error_of(capsys, ["summary", "nope"], cli.EXIT_USAGE)
    assert "3x227x227" in error_of(capsys, ["summary", "alexnet", "--input", "big"], cli.EXIT_USAGE)
    monkeypatch.setitem(sys.modules, "torch", None)
    line = error_of(capsys, ["bench", "--quick", "--out", str(tmp_path)], cli.EXIT_DEPENDENCY)
    assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in line


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"striate {st.__version__}"


def test_resume_extends_a_finished_run_and_refuses_what_would_change_it(run, tmp_path, capsys):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(run, folder)
    assert main(["train", "--resume", str(folder), "--epochs", "4", "--lr", "0.0005", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "epochs 3 -> 4" in err and "resuming" in err
    history = json.loads((folder / "history.json").read_text())
    assert len(history) == 4 and history[-1]["lr"] == pytest.approx(0.0005)
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["epochs"] == 4 and cfg["resumes"] == [
        {"at_epoch": 3, "changed": {"epochs": [3, 4], "lr": [0.001, 0.0005]}}]
    line = error_of(capsys, ["train", "--resume", str(folder), "--batch-size", "8", "--model", "lenet5"],
                    cli.EXIT_USAGE)
    assert "--batch-size, --model cannot change" in line and "--epochs" in line
    assert "more than that" in error_of(capsys, ["train", "--resume", str(folder), "--epochs", "2"],
                                         cli.EXIT_USAGE)
    assert json.loads((folder / "config.json").read_text())["epochs"] == 4  # refused: nothing changed


def test_one_name_one_model_and_load_run(tmp_path, capsys):
    assert type(st.models.get_model("lenet5")).__name__ == "LeNet5"  # the 1998 network everywhere
    assert type(st.models.get_model("lenet5_modern")).__name__ == "LeNet"
    assert main(["train", "--model", "lenet5", *TINY, "--out", str(tmp_path)]) == 0
    (folder,) = tmp_path.iterdir()
    spec = json.loads((folder / "config.json").read_text())["model_spec"]
    assert spec == {"name": "lenet5", "kwargs": {"num_classes": 10, "in_channels": 1}}
    model = st.train.load_run(folder)
    fresh = st.models.lenet5()
    fresh.load_state_dict(model.state_dict())  # the run's checkpoint loads into st.models.lenet5()
    assert "test accuracy" in capsys.readouterr().out


def test_old_run_folders_still_load(run, tmp_path):
    import shutil

    folder = tmp_path / "old"
    shutil.copytree(run, folder)
    cfg = json.loads((folder / "config.json").read_text())
    for key in ("model_spec", "resumes", "dark_background", "resize", "download"):
        cfg.pop(key)
    cfg.update(model="lenet5", variant="modern")  # how striate 0.1 wrote them
    (folder / "config.json").write_text(json.dumps(cfg))
    assert type(st.train.load_run(folder)).__name__ == "LeNet"


def test_corrupt_best_checkpoint_falls_back_with_a_warning(run, tmp_path, capsys):
    import shutil

    from striate.train.callbacks import CheckpointFallbackWarning

    folder = tmp_path / "corrupt"
    shutil.copytree(run, folder)
    best = folder / "checkpoints" / "best.safetensors"
    data = bytearray(best.read_bytes())
    data[len(data) // 2] ^= 0x04
    best.write_bytes(bytes(data))
    with pytest.warns(CheckpointFallbackWarning, match="best.safetensors is unreadable"):
        assert main(["evaluate", str(folder)]) == 0
    for name in os.listdir(folder / "checkpoints"):
        (folder / "checkpoints" / name).write_bytes(b"x" * 100)
    assert "no readable checkpoint" in error_of(capsys, ["evaluate", str(folder)], cli.EXIT_RUN)


def test_predict_brings_images_to_the_runs_form(run, tmp_path, capsys):
    pytest.importorskip("PIL")
    from PIL import Image

    x, y, _ = st.train.runs.load_arrays("digits", train=False)
    digit = (x[0, 0] * 255).astype(np.uint8)  # white on black, as trained
    big = np.kron(digit, np.ones((4, 4), np.uint8))  # 32x32
    Image.fromarray(digit).save(tmp_path / "a.png")
    Image.fromarray(255 - big).save(tmp_path / "b.png")  # black on white, another size
    Image.fromarray(np.stack([255 - big] * 3, axis=-1)).save(tmp_path / "c.png")  # RGB
    assert main(["predict", str(run), str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                 str(tmp_path / "c.png"), "--topk", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    classes = [line.split(": ")[1].split()[0] for line in lines]
    assert len(lines) == 3 and classes[0] == classes[1] == classes[2] == str(y[0])
    np.save(tmp_path / "wrong.npy", np.zeros((3, 5, 8, 8), np.float32))
    line = error_of(capsys, ["predict", str(run), str(tmp_path / "wrong.npy")], cli.EXIT_DATA)
    assert "not one image" in line
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert "numeric" in error_of(capsys, ["predict", str(run), str(tmp_path / "obj.npy")], cli.EXIT_DATA)
    (tmp_path / "bad.png").write_bytes(b"not a png")
    assert "cannot read image" in error_of(capsys, ["predict", str(run), str(tmp_path / "bad.png")],
                                           cli.EXIT_DATA)


def test_run_files_follow_the_umask(run):
    umask = os.umask(0o022)
    os.umask(umask)
    for name in ["config.json", "history.json", "result.json", "checkpoints/last.safetensors"]:
        assert (run / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def test_plain_progress_lines_when_not_a_terminal():
    from striate.train.callbacks import ProgressBar
    from striate.train.trainer import Trainer

    stream = io.StringIO()
    model = st.nn.Linear(4, 3)
    data = [(np.ones((2, 4), np.float32), np.array([0, 1]))] * 3
    Trainer(model, st.optim.SGD(model.parameters(), lr=0.1), data, epochs=1,
            callbacks=[ProgressBar(stream, interval=1e-9)], progress=False).fit()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("epoch 1/1  batch 1/3  loss") and lines[-1].startswith("epoch 1/1  loss")


def test_nan_loss_is_reported_once_without_numpy_warnings(tmp_path, capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = error_of(capsys, ["train", "--lr", "1e7", *TINY, "--out", str(tmp_path)], cli.EXIT_NONFINITE)
    assert "learning rate" in line and "removed" in line and not any(tmp_path.iterdir())
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], [str(w.message) for w in caught]

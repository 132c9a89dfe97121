"""`striate train` under Ctrl-C and `st.save` under SIGKILL.

- SIGINT at 20 random moments of a real `python -m striate.cli train` process: every time exit
  130, no traceback, and either nothing written (interrupted before training started) or a run
  folder that `--resume` continues to a test accuracy.
- SIGINT inside each phase in turn (data preparation, the first epoch, a checkpoint save,
  validation, the final test), sent to this process with os.kill at that moment.
- SIGKILL at 20 random moments of a process that saves checkpoints in a loop: the file under
  the real name always loads, and no temporary file survives the next save.

The subprocesses use the NumPy kernels (STRIATE_KERNELS=numpy): loading Numba's cache costs
~2 s of CPU per process and the faults do not depend on the kernels.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import striate as st
from striate.cli import EXIT_INTERRUPTED, main

TINY = ["--epochs", "2", "--batch-size", "128", "--val-fraction", "0.2", "--quiet"]
ENV = {**os.environ, "STRIATE_KERNELS": "numpy", "PYTHONUNBUFFERED": "1"}


def _runs(out: Path) -> list[Path]:
    return [p for p in out.iterdir() if p.is_dir()] if out.exists() else []


def _start_train(out: Path) -> tuple[subprocess.Popen, threading.Event, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "striate.cli", "train", *TINY, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    started, lines = threading.Event(), []

    def read():
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("preparing data"):
                started.set()
        started.set()

    threading.Thread(target=read, daemon=True).start()
    return proc, started, lines


def test_sigint_at_random_moments_exits_130_and_resumes(tmp_path, capsys):
    rng = random.Random(20)
    outcomes = {"nothing written": 0, "resumed": 0}
    procs = []
    for i in range(20):
        out = tmp_path / f"r{i}"
        proc, started, lines = _start_train(out)
        assert started.wait(60), "the CLI never started"
        # from data preparation (0 s) to past the end of this tiny run on a busy machine
        procs.append((proc, out, lines, rng.uniform(0.0, 2.5)))
        time.sleep(procs[-1][3])
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
        stdout = proc.stdout.read()
        err = "".join(lines)
        if proc.returncode == 0:  # finished before the signal arrived: nothing to check
            assert "test accuracy" in stdout
            continue
        if proc.returncode == -signal.SIGINT:
            # the run had finished and the signal landed while the interpreter shut down (Python
            # restores the default SIGINT action there; a shell reports this as 130 as well)
            assert "test accuracy" in stdout, err
            continue
        assert proc.returncode == EXIT_INTERRUPTED, (proc.returncode, err)
        assert "Traceback" not in err, err
        folders = _runs(out)
        if not folders:
            assert "nothing was written" in err or "removed" in err, err
            outcomes["nothing written"] += 1
            continue
        (run,) = folders
        assert f"--resume {run}" in err, err
        assert main(["train", "--resume", str(run), "--quiet"]) == 0
        assert "test accuracy" in capsys.readouterr().out
        outcomes["resumed"] += 1
    print(outcomes)  # pytest -s shows how the 20 moments fell
    assert outcomes["resumed"] >= 5, outcomes  # most moments fall inside training


def _sigint_self(*_args, **_kwargs):
    os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("phase", ["data", "epoch", "save", "validation", "test"])
def test_sigint_in_each_phase(phase, tmp_path, monkeypatch, capsys):
    from striate.io_atomic import atomic_write_bytes as real_write
    from striate.train import runs, trainer

    calls = {"n": 0}

    def once(real, when=lambda *args: True):
        def wrapper(*args, **kwargs):
            if when(*args):
                calls["n"] += 1
                if calls["n"] == 1:
                    _sigint_self()
            return real(*args, **kwargs)
        return wrapper

    if phase == "data":
        monkeypatch.setattr(runs, "load_arrays", once(runs.load_arrays))
    elif phase == "epoch":
        monkeypatch.setattr(trainer.Trainer, "_step", once(trainer.Trainer._step))
    elif phase == "save":
        import striate.io_atomic

        monkeypatch.setattr(striate.io_atomic, "atomic_write_bytes",  # a checkpoint, not config.json
                            once(real_write, lambda path, *rest: str(path).endswith(".safetensors")))
    elif phase == "validation":
        monkeypatch.setattr(trainer, "evaluate", once(trainer.evaluate))
    else:
        monkeypatch.setattr(runs, "test_metrics", once(runs.test_metrics))
    code = main(["train", *TINY, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == EXIT_INTERRUPTED, err
    monkeypatch.undo()
    folders = _runs(tmp_path)
    if phase == "data":
        assert not folders and "nothing was written" in err
        return
    (run,) = folders
    assert list((run / "checkpoints").glob(".*.tmp")) == []
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert "test accuracy" in capsys.readouterr().out


SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    import striate as st
    path = sys.argv[1]
    rng = np.random.default_rng(0)
    state = {"w": st.tensor(rng.standard_normal(1_000_000).astype(np.float32))}  # 4 MB
    i = 0
    while True:
        i += 1
        state["i"] = i
        st.save(state, path)
        print(i, flush=True)
""")


def test_sigkill_during_saves_keeps_last_good_file_and_no_temporary_survives(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    rng = random.Random(21)
    leftovers = 0
    for _ in range(20):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True,
                                env=ENV)
        first = proc.stdout.readline()  # one save done: the file exists
        assert first.strip().isdigit(), first
        time.sleep(rng.uniform(0.0, 0.3))
        proc.kill()
        proc.wait(timeout=30)
        done = [int(v) for v in [first, *proc.stdout.read().split()]]
        leftovers += len(list(tmp_path.glob(".*.tmp")))
        state = st.load(path)  # the file under the real name always loads
        assert state["i"] >= max(done)  # the last completed save (or one that completed unreported)
        assert np.asarray(state["w"]).shape == (1_000_000,)
    st.save({"i": 0}, path)  # the next save removes what killed saves left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.safetensors"]
    print(f"{leftovers} temporary files were left by the 20 kills before the next save")

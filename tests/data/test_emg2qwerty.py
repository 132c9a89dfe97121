"""The emg2qwerty reader on session files the tests write in the documented layout."""

import json

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="the emg2qwerty reader needs h5py (pip install 'striate[emg]')")

from striate.data.datasets import (  # noqa: E402
    EMG2QWERTY,
    DataFileError,
    DatasetNotFoundError,
    emg_keys,  # noqa: E402
)
from striate.data.datasets.emg2qwerty import EMGSession, load_split_config  # noqa: E402
from striate.data.emg_synthetic import write_session, write_synthetic_dataset  # noqa: E402

T0 = 1.6e9


def _session(tmp_path, name="s", n=8000, keystrokes=None, **attrs):
    t = T0 + np.arange(n) / 2000
    emg = np.random.default_rng(0).standard_normal((n, 2, 16)).astype(np.float32)
    if keystrokes is None:
        keystrokes = [
            {"key": k, "start": T0 + 0.5 * (i + 1), "end": T0 + 0.5 * (i + 1) + 0.05}
            for i, k in enumerate(["h", "i", "Key.space", "Key.tab", "Key.shift", "A", "Key.backspace"])
        ]
    path = tmp_path / f"{name}.hdf5"
    write_session(path, emg, t, keystrokes, [], 7, name)
    return path, emg


def test_key_vocabulary_matches_emg2qwerty_labels():
    # emg2qwerty's charset tests: "\n\r\b\x08" -> 95 95 94 94; "aa" -> 0 0; curly quotes and dashes mapped
    assert emg_keys.text_to_labels("\n\r\b\x08").tolist() == [95, 95, 94, 94]
    assert emg_keys.text_to_labels("ab").tolist() == [0, 1]
    assert emg_keys.text_to_labels("\u2019\u201c\u201d\u2014").tolist() == [68, 63, 63, 74]
    assert emg_keys.NUM_CLASSES == 99 and emg_keys.BLANK == 98
    assert emg_keys.keys_to_text(["Key.space", "Key.tab", "Key.shift", "x"]) == " \u21e7x"
    assert emg_keys.labels_to_text([7, 8, 96]) == "hi "
    with pytest.raises(ValueError, match="blank"):
        emg_keys.labels_to_text([98])


def test_session_layout_round_trip(tmp_path):
    path, emg = _session(tmp_path)
    with h5py.File(path) as f:  # the documented layout, field by field
        ts = f["emg2qwerty/timeseries"]
        assert set(ts.dtype.fields) == {"emg_left", "emg_right", "time"}
        assert ts.dtype["emg_left"].shape == (16,)
        assert json.loads(f["emg2qwerty"].attrs["keystrokes"])[0]["key"] == "h"
    with EMGSession(path) as s:
        assert len(s) == 8000
        np.testing.assert_array_equal(s.emg(100, 200), emg[100:200])
        assert s.text() == "hi \u21e7A\u232b"  # Key.tab is not in the vocabulary
        assert s.text(T0 + 0.9, T0 + 1.6) == "i "


def test_windows_and_whole_sessions(tmp_path):
    _session(tmp_path, "a", n=20000)
    cfg = {"train": [{"user": 7, "session": "a"}], "test": [{"user": 7, "session": "a"}]}
    train = EMG2QWERTY(tmp_path, "train", config=cfg, window_length=4000, padding=(500, 100))
    assert len(train) == 5
    x0, y0 = train[0]
    assert x0.shape == (4100, 2, 16) and x0.dtype == np.float32  # no past context at the start
    x1, _ = train[1]
    assert x1.shape == (4600, 2, 16)
    assert emg_keys.labels_to_text(y0) == "hi "  # presses at 0.5, 1.0, 1.5 s; tab at 2.0 s is past the end
    test = EMG2QWERTY(tmp_path, "test", config=cfg)
    x, y = test[0]
    assert len(test) == 1 and x.shape == (20000, 2, 16) and len(y) == 6
    assert EMG2QWERTY(tmp_path, "train", config=cfg, user=7, transform=lambda e: e[:10])[0][0].shape == (
        10,
        2,
        16,
    )
    with pytest.raises(ValueError, match="no sessions for user 8"):
        EMG2QWERTY(tmp_path, "train", config=cfg, user=8)


def test_synthetic_dataset_and_split_json(tmp_path):
    write_synthetic_dataset(tmp_path, train=2, val=1, test=1, seconds=8, seed=3)
    ds = EMG2QWERTY(tmp_path, "train")  # split.json found in root
    assert len(ds.sessions) == 2 and len(ds) >= 2
    x, y = ds[0]
    assert x.shape[1:] == (2, 16) and len(y) > 5
    whole = EMG2QWERTY(tmp_path, "test")
    session = whole.sessions[0]
    assert len(whole[0][1]) == len(session.keystrokes)
    # the bursts are locked to the presses: more power in the 60 ms after a press than before the typing
    press = int((session.keystrokes[0].start - session.time[0]) * 2000)
    burst = session.emg(press - 60, press + 60)
    assert (burst**2).mean() > 1.5 * (session.emg(0, 400) ** 2).mean()


def test_course_split_is_builtin(tmp_path):
    cfg = load_split_config("single_user", tmp_path)
    assert (len(cfg["train"]), len(cfg["val"]), len(cfg["test"])) == (16, 1, 1)
    assert {e["user"] for e in cfg["train"] + cfg["val"] + cfg["test"]} == {89335547}
    with pytest.raises(DatasetNotFoundError, match="16 train sessions are not in"):
        EMG2QWERTY(tmp_path, "train")


def test_corrupt_file(tmp_path):
    path, _ = _session(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])  # truncated
    with pytest.raises(DataFileError, match="corrupt or truncated"):
        EMGSession(path)
    path.write_bytes(b"not hdf5" * 100)
    with pytest.raises(DataFileError, match="not a readable HDF5 file"):
        EMGSession(path)


def test_missing_field_and_attribute(tmp_path):
    path = tmp_path / "bad.hdf5"
    rec = np.zeros(100, dtype=[("emg_left", "<f4", (16,)), ("time", "<f8")])
    rec["time"] = np.arange(100)
    with h5py.File(path, "w") as f:
        f.create_group("emg2qwerty").create_dataset("timeseries", data=rec)
    with pytest.raises(DataFileError, match="no field 'emg_right'"):
        EMGSession(path)
    path2, _ = _session(tmp_path, "nolabels")
    with h5py.File(path2, "a") as f:
        del f["emg2qwerty"].attrs["keystrokes"]
    with pytest.raises(DataFileError, match="no attribute 'keystrokes'"):
        EMGSession(path2)
    with h5py.File(tmp_path / "other.hdf5", "w") as f:
        f.create_group("something")
    with pytest.raises(DataFileError, match="no group 'emg2qwerty'"):
        EMGSession(tmp_path / "other.hdf5")


def test_keystrokes_that_do_not_match_the_signal(tmp_path):
    late = [
        {"key": "a", "start": T0 + 1.0, "end": T0 + 1.1},
        {"key": "b", "start": T0 + 60.0, "end": T0 + 60.1},
    ]
    path, _ = _session(tmp_path, keystrokes=late)  # a 4 s signal, a key at 60 s
    with pytest.raises(DataFileError, match="keystroke 1 .* outside the signal .* do not match"):
        EMGSession(path)
    path, _ = _session(tmp_path, "broken", keystrokes=[{"key": "a"}])
    with pytest.raises(DataFileError, match="not a \\{key, start, end\\} record"):
        EMGSession(path)

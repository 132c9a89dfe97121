"""The run's event log: `events.jsonl` in the run folder, one JSON object per line.

The training process appends (the publisher callback); dashboards read it from any process,
from the start (a page opened mid-run sees the whole history) and then as it grows. A reader
only takes complete lines, so a line being written is picked up on the next read.
"""

from __future__ import annotations

import json
import math
import os
import threading
from pathlib import Path
from typing import Any

EVENTS_FILE = "events.jsonl"


def _finite(value: Any) -> Any:
    """JSON has no NaN/Infinity: such floats become None (the page shows a gap)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class EventWriter:
    """Appends events to `folder/events.jsonl`; thread-safe, flushed after every event."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.path = Path(folder) / EVENTS_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (kept open for the run)
        self._lock = threading.Lock()

    def write(self, event: dict[str, Any]) -> None:
        try:
            line = json.dumps(event, separators=(",", ":"), allow_nan=False)
        except ValueError:  # a NaN somewhere (rare): walk the event once to replace it
            line = json.dumps(_finite(event), separators=(",", ":"), allow_nan=False)
        with self._lock:
            if self._file.closed:
                return
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def read_new(path: Path, offset: int) -> tuple[list[str], int]:
    """Complete lines of `path` after byte `offset`, and the offset after the last of them."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    lines = [ln.decode("utf-8", "replace") for ln in data[:end].split(b"\n") if ln.strip()]
    return lines, offset + end + 1

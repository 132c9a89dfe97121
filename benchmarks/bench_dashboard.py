"""What the live dashboard costs a training run: wall time of LeNet-5 on the embedded digits,
plain, with the publisher callback, and with the publisher + server + one connected browser-like
event-stream client (the whole `striate train --dashboard` with a page open). Target: < 5%.

    python benchmarks/bench_dashboard.py                 # 20 epochs (`striate train`'s run), 5 repeats
    python benchmarks/bench_dashboard.py --epochs 5 --repeats 3

striate is compared with itself here (PyTorch has no counterpart to time). Each repeat runs the
three modes in a rotating order; an overhead is the median over repeats of the ratio to the
plain run of the same repeat. The event-stream client is a separate process, as a browser is. Only
`trainer.fit()` is timed (the data are loaded before). The machine is shared: the load average
is printed at start and end, and numbers move by a few percent from run to run. On a loaded
machine the wall and CPU times of separate runs differ by more than the dashboard costs, so the
publisher also times itself inside each run ("own time": every callback hook plus the layer
hooks of captured steps, over the `fit()` time of the same run), which the load affects in
numerator and denominator alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # this process only
    os.environ.pop(_var, None)

from striate.dashboard import DashboardCallback, DashboardServer, RunSource  # noqa: E402
from striate.train import runs  # noqa: E402

MODES = ("plain", "publisher", "publisher+server+client")


class TimedPublisher(DashboardCallback):
    """The publisher with a stopwatch around each of its hooks (`own` seconds)."""

    own = 0.0

    def _timed(self, hook, *args):
        start = time.perf_counter()
        captured = self._capture
        try:
            return hook(*args)
        finally:
            self.own += time.perf_counter() - start
            if captured is not None and captured is not self._capture:
                self.own += captured.cost  # layer hooks that ran inside the training step

    def on_train_begin(self, trainer):
        self._timed(super().on_train_begin, trainer)

    def on_batch_end(self, trainer, step, logs):
        self._timed(super().on_batch_end, trainer, step, logs)

    def on_epoch_end(self, trainer, epoch, logs):
        self._timed(super().on_epoch_end, trainer, epoch, logs)

    def on_train_end(self, trainer):
        self._timed(super().on_train_end, trainer)

    def _fwd_begin(self, module, args):
        self._timed(super()._fwd_begin, module, args)

    def _fwd_end(self, module, args, output):
        self._timed(super()._fwd_end, module, args, output)


def _blas() -> str:
    from threadpoolctl import threadpool_info

    info = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
            f"{i.get('num_threads')} threads)" for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(info) or "no BLAS found"


CLIENT = """
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=60)
conn.request("GET", "/api/events?run=0&token=" + sys.argv[2])
response = conn.getresponse()
received = 0
while True:
    line = response.readline()
    if not line:
        break
    received += len(line)
print(received)
"""


def _client(port: int, token: str) -> subprocess.Popen:
    """A browser-like reader of the event stream in its own process, as a real page is."""
    return subprocess.Popen([sys.executable, "-c", CLIENT, str(port), token], stdout=subprocess.PIPE,
                            text=True)


def _client_bytes(client: subprocess.Popen) -> int:
    out, _ = client.communicate(timeout=30)
    return int(out.strip() or 0)


def one_run(mode: str, epochs: int, base: Path) -> tuple[float, int, float, float]:
    """Wall seconds of `fit()`, the event log's size, the process's CPU seconds during `fit()`
    (all threads: the server's too) and the publisher's own seconds, for one digits run."""
    folder = Path(tempfile.mkdtemp(dir=base))
    cfg = runs.RunConfig(epochs=epochs)
    trainer = runs.make_trainer(cfg, folder, progress=False)
    cfg.save(folder)
    server, client = None, None
    if mode != "plain":
        publisher = TimedPublisher(folder)
        trainer.callbacks.insert(0, publisher)
    if mode == "publisher+server+client":
        server = DashboardServer([RunSource(folder, publisher)], port=0).start()
        client = _client(server.port, server.token)
        time.sleep(0.5)  # the client is connected and has read the run's start
    t0, c0 = time.perf_counter(), time.process_time()
    trainer.fit()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if server is not None:
        server.stop()
        assert _client_bytes(client) > 0, "the event-stream client received nothing"
    events = folder / "events.jsonl"
    own = publisher.own if mode != "plain" else 0.0
    return seconds, events.stat().st_size if events.exists() else 0, cpu, own


def server_cpu(base: Path, seconds: float = 5.0, rate: float = 20.0) -> float:
    """CPU seconds per second used by the server and one connected client while a writer
    appends `rate` step events per second (no training): the server side's share of a core."""
    from striate.dashboard.events import EventWriter

    folder = Path(tempfile.mkdtemp(dir=base))
    (folder / "config.json").write_text("{}")
    writer = EventWriter(folder)
    server = DashboardServer([RunSource(folder)], port=0).start()
    client = _client(server.port, server.token)
    event = {"t": "step", "step": 0, "loss": 0.5, "acc": 0.9, "lr": 1e-3, "gnorm": 1.0}
    c0, t0 = time.process_time(), time.perf_counter()
    step = 0
    while time.perf_counter() - t0 < seconds:
        step += 1
        writer.write({**event, "step": step})
        time.sleep(1 / rate)
    cpu = time.process_time() - c0
    server.stop()
    writer.close()
    assert _client_bytes(client) > 0, "the client received nothing"
    return cpu / seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20, help="default: the length of `striate train`'s run")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    print(f"load average at start: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"BLAS: {_blas()}")
    print(f"LeNet-5 on digits, {args.epochs} epochs, batch 32, {args.repeats} repeats (rotating order)")
    times: dict[str, list[float]] = {m: [] for m in MODES}
    cpus: dict[str, list[float]] = {m: [] for m in MODES}
    owns: dict[str, list[float]] = {m: [] for m in MODES}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        one_run("plain", 1, Path(tmp))  # warm-up: Numba caches, first-touch allocations
        for r in range(args.repeats):
            order = MODES[r % 3:] + MODES[:r % 3]
            for mode in order:
                seconds, size, cpu, own = one_run(mode, args.epochs, Path(tmp))
                times[mode].append(seconds)
                cpus[mode].append(cpu)
                owns[mode].append(own / seconds)
                sizes[mode] = size
                print(f"  repeat {r + 1} {mode:<24} {seconds:7.3f} s wall {cpu:7.3f} s CPU  "
                      f"publisher's own time {100 * own / seconds:.2f}% of fit", flush=True)
    print("\nOverheads are medians over repeats of (mode / plain of the same repeat) - 1: paired, so a")
    print("slow patch of the shared machine affects both sides of a ratio.")
    print("\n| mode | wall median s | min | max | wall overhead (median of paired) | CPU median s "
          "| CPU overhead (median of paired) | publisher's own time (median, max) | events.jsonl |")
    print("|---|---|---|---|---|---|---|---|---|")
    for mode in MODES:
        ts, cs = times[mode], cpus[mode]
        wall = statistics.median(t / b - 1 for t, b in zip(ts, times["plain"]))
        cpu = statistics.median(c / b - 1 for c, b in zip(cs, cpus["plain"]))
        print(f"| {mode} | {statistics.median(ts):.3f} | {min(ts):.3f} | {max(ts):.3f} | {100 * wall:+.1f}% "
              f"| {statistics.median(cs):.3f} | {100 * cpu:+.1f}% "
              f"| {100 * statistics.median(owns[mode]):.2f}%, {100 * max(owns[mode]):.2f}% "
              f"| {sizes[mode] / 1024:.0f} KiB |")
    with tempfile.TemporaryDirectory() as tmp:
        share = server_cpu(Path(tmp))
    print(f"\nserver + one client + a writer of 20 step events/s, no training: {1000 * share:.1f} ms "
          f"CPU per second ({100 * share:.2f}% of one core)")
    print(f"\nload average at end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

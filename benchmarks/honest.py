"""The honest benchmark: striate against PyTorch as a user meets both (`striate bench` runs it).

    python benchmarks/honest.py                      # every workload, both modes -> benchmarks/results/
    python benchmarks/honest.py --threads 2          # both libraries on 2 threads
    python benchmarks/honest.py --only "LeNet-5 1x28x28 b64" --modes one
    python benchmarks/honest.py --tiny               # batch 2, one round: checks that the code runs

Rules it keeps:
- The peer runs as its users run it: no OMP_WAIT_POLICY, no thread policy, no environment
  variable that changes PyTorch. Threads: by default each library keeps its own default (no call
  to either library's thread setter; both counts are reported); `--threads N` sets N in both.
- Same network in both libraries from the same weights: the parent builds each network in
  striate from a seed, writes its weights and one batch to .npy/.npz files, and every process
  loads them (striate's weights copied into torch's modules).
- Every measurement runs in a fresh process started without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE
  (see machine.py: OpenBLAS reads them once, when NumPy loads it, so the parent, which may have
  imported NumPy already, measures nothing itself).
- Two modes. "one": one process holds both libraries and alternates striate and torch rounds.
  "separate": each round starts a fresh process per library, alternating which goes first.
- A round times `steps` training steps (forward, backward, SGD-momentum step) or inference
  passes (no_grad, eval mode) after warm-up; reported are the median images/s of each library and
  the median over rounds of the per-round ratio striate speed / PyTorch speed (> 1: striate faster).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # siblings (workloads, machine) when loaded by striate.bench
    sys.path.insert(0, str(HERE))

import machine  # noqa: E402
from workloads import WORKLOADS, Workload, find, step_closure  # noqa: E402

LIBS = ("striate", "torch")
KINDS = ("train", "infer")
MODES = ("one", "separate")
TARGETS = {"lecture": 1.0, "shape": 0.9}  # the ratios issue 14 asks for


# ---------------------------------------------------------------------------- child process
def _load_inputs(folder: Path, w: Workload):
    import numpy as np

    stem = folder / w.key.replace(" ", "_")
    weights = np.load(f"{stem}-weights.npz", allow_pickle=False)
    return ({k: weights[k] for k in weights.files}, np.load(f"{stem}-x.npy", allow_pickle=False),
            np.load(f"{stem}-y.npy", allow_pickle=False))


def _stepper(lib: str, w: Workload, folder: Path, kind: str, steps: int):
    """A function running `steps` training steps or inference passes of `w` in `lib`."""
    state, x, y = _load_inputs(folder, w)
    if lib == "torch":
        import torch as L
        import torch.nn.functional as F

        model = w.build(L.nn)
        model.load_state_dict({k: L.from_numpy(v) for k, v in state.items()}, strict=True)
    else:
        import striate as L
        import striate.nn.functional as F

        model = w.build(L.nn)
        model.load_state_dict(state)
    return step_closure(L, model, F, L.from_numpy(x), L.from_numpy(y), kind == "train", steps)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def child(spec: dict) -> dict:
    """Time spec["libs"] on each workload: per kind, `rounds` alternating timed runs each."""
    if spec["threads"] is not None:
        if "striate" in spec["libs"]:
            import striate

            striate.config.set_num_threads(spec["threads"])
        if "torch" in spec["libs"]:
            import torch

            torch.set_num_threads(spec["threads"])
    folder = Path(spec["data"])
    rows: dict[str, Any] = {}
    for key in spec["workloads"]:
        w = find(key)
        rows[key] = {}
        for kind in KINDS:
            runs = {lib: _stepper(lib, w, folder, kind, spec["steps"]) for lib in spec["libs"]}
            for _ in range(spec["warmup"]):
                for fn in runs.values():
                    fn()
            times: dict[str, list[float]] = {lib: [] for lib in runs}
            for r in range(spec["rounds"]):
                for lib in (spec["libs"] if r % 2 == 0 else spec["libs"][::-1]):
                    times[lib].append(_timed(runs[lib]))
            rows[key][kind] = times
    threads = {}
    if "striate" in spec["libs"]:
        import striate

        threads["striate"] = striate.config.get_num_threads()
        threads["striate_blas"] = machine.blas_info()["threads"]
    if "torch" in spec["libs"]:
        import torch

        threads["torch"] = torch.get_num_threads()
    return {"rows": rows, "threads": threads, "numpy_blas": machine.blas_info()}


# ---------------------------------------------------------------------------- parent process
def _require_torch() -> None:
    """The comparison needs PyTorch: say so here, not in a child's traceback."""
    import importlib.util

    try:
        found = importlib.util.find_spec("torch") is not None
    except ValueError:  # sys.modules["torch"] is None: imports of it are blocked
        found = False
    if not found:
        raise ImportError("the benchmarks compare with PyTorch, which is not installed; its CPU-only build: "
                          "pip install torch --index-url https://download.pytorch.org/whl/cpu")


def _spawn(args: list[str], what: str) -> dict:
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], capture_output=True,
                         text=True, env=machine.clean_env())
    if out.returncode:
        raise RuntimeError(f"the benchmark's {what} process failed (exit {out.returncode}):\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_child(spec: dict) -> dict:
    return _spawn(["--child", json.dumps(spec)], f"{'+'.join(spec['libs'])} timing")


def write_inputs(folder: Path, workloads: list[Workload], seed: int = 0) -> None:
    """Each network's weights (built by striate from `seed`) and one batch, as .npz/.npy."""
    import numpy as np

    import striate as st

    for w in workloads:
        stem = folder / w.key.replace(" ", "_")
        st.manual_seed(seed)
        model = w.build(st.nn)
        np.savez(f"{stem}-weights.npz", **{k: v.numpy() for k, v in model.state_dict().items()})
        rng = np.random.default_rng(seed)
        np.save(f"{stem}-x.npy", rng.standard_normal((w.batch, *w.input_shape)).astype(np.float32))
        np.save(f"{stem}-y.npy", rng.integers(0, 10, w.batch))


def _summary(w: Workload, steps: int, times: dict[str, dict[str, list[float]]]) -> dict:
    row: dict[str, Any] = {"workload": w.name, "batch": w.batch, "family": w.family,
                           "target_ratio": TARGETS[w.family]}
    n = w.batch * steps
    for kind in KINDS:
        s, t = times[kind]["striate"], times[kind]["torch"]
        ratios = [b / a for a, b in zip(s, t)]
        row[kind] = {"striate_img_s": n / statistics.median(s), "torch_img_s": n / statistics.median(t),
                     "ratio": statistics.median(ratios), "round_ratios": ratios,
                     "striate_s": s, "torch_s": t}
    return row


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(workloads: list[Workload], modes=MODES, threads: int | None = None, rounds: int = 5,
        process_rounds: int = 3, steps: int = 3, warmup: int = 2, chunks: int = 3,
        sgemm_n: int = 2048, seed: int = 0, checkpoint: Callable[[dict], None] | None = None) -> dict:
    """Both modes on every workload; the result as a JSON-ready dict. rounds: alternating rounds
    in the one process (a fresh one per workload, holding both libraries); process_rounds: pairs
    of fresh processes (each times `chunks` runs and gives their median). `checkpoint` gets the
    partial result after every workload (so that an interrupted run keeps what it measured)."""
    started = time.time()
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "threads_asked": threads,
        "rounds": rounds, "process_rounds": process_rounds, "steps_per_round": steps,
        "warmup": warmup, "separate_chunks": chunks, "complete": False,
        "environment_openblas": machine.environment_overrides(),
        "load_average_before": machine.load_average(), "modes": {}}

    def progress(mode: str, w: Workload, i: int) -> None:
        result["load_average_after"] = machine.load_average()
        result["seconds"] = time.time() - started
        if checkpoint is not None:
            checkpoint(result)
        _log(f"mode {mode}: {w.key} done ({i + 1}/{len(workloads)}), {result['seconds']:.0f} s so far, "
             f"load average {_fmt_load(result['load_average_after'])}")

    _log(f"honest benchmark: machine facts (fresh process, sgemm {sgemm_n}^3) ...")
    result["machine"] = _spawn(["--facts", str(sgemm_n)], "machine facts")
    with tempfile.TemporaryDirectory(prefix="striate-honest-") as tmp:
        write_inputs(Path(tmp), workloads, seed)
        base = {"data": tmp, "threads": threads, "steps": steps, "warmup": warmup}
        if "one" in modes:
            result["modes"]["one"] = []
            for i, w in enumerate(workloads):
                out = _run_child({**base, "libs": list(LIBS), "workloads": [w.key], "rounds": rounds})
                result["threads"] = out["threads"]
                result["modes"]["one"].append(_summary(w, steps, out["rows"][w.key]))
                progress("one", w, i)
        if "separate" in modes:
            result["modes"]["separate"] = []
            for i, w in enumerate(workloads):
                times = {kind: {lib: [] for lib in LIBS} for kind in KINDS}
                for r in range(process_rounds):
                    for lib in (LIBS if r % 2 == 0 else LIBS[::-1]):
                        out = _run_child({**base, "libs": [lib], "workloads": [w.key], "rounds": chunks})
                        result.setdefault("threads_separate", {}).update(out["threads"])
                        for kind in KINDS:
                            times[kind][lib].append(statistics.median(out["rows"][w.key][kind][lib]))
                result["modes"]["separate"].append(_summary(w, steps, times))
                progress("separate", w, i)
    result["complete"] = True
    result["load_average_after"] = machine.load_average()
    result["seconds"] = time.time() - started
    return result


# ---------------------------------------------------------------------------- report
def _fmt_load(load) -> str:
    return ", ".join(f"{v:.2f}" for v in load) if load else "n/a"


def header(result: dict) -> list[str]:
    m = result["machine"]
    blas, tor = m["numpy_blas"], m["torch"]
    env = result["environment_openblas"]
    threads = result.get("threads") or result.get("threads_separate") or {}
    asked = f"both set to {result['threads_asked']}" if result["threads_asked"] else "each library's default"
    return [
        f"Measured {result['date']} on {m['cpu']} ({m['cores']} cores; "
        f"{' '.join(m['cpu_vector_flags'])}), Python {m['python']}, NumPy {m['numpy']}, "
        f"Numba {m['numba']}, PyTorch {tor['version']}, striate {m['striate']}.",
        f"NumPy BLAS: {blas.get('library')} {blas.get('version')}, kernel `{blas.get('kernel')}` "
        f"(threadpoolctl, in a process started without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE; the "
        f"environment {'sets ' + str(env) if env else 'sets neither'}); PyTorch BLAS: {tor['blas']}, "
        f"{'; '.join(tor['config'])}.",
        f"sgemm {m['sgemm_gflops']['n']}^3: NumPy {m['sgemm_gflops']['numpy']:.0f} GFLOP/s, "
        f"PyTorch {m['sgemm_gflops']['torch']:.0f} GFLOP/s.",
        f"Threads: {asked}"
        f" -> striate {threads.get('striate')} (its BLAS {threads.get('striate_blas')}), "
        f"PyTorch {threads.get('torch')}. Load average before {_fmt_load(result['load_average_before'])}, "
        f"after {_fmt_load(result['load_average_after'])} ({result['seconds'] / 60:.1f} min).",
        f"{result['rounds']} alternating rounds in one process / {result['process_rounds']} pairs of "
        f"fresh processes (each the median of {result['separate_chunks']} runs), a run = "
        f"{result['steps_per_round']} steps after {result['warmup']} warm-up steps; ratio = median over "
        "rounds of (striate images/s / PyTorch images/s), > 1: striate faster.",
    ]


def table(rows: list[dict]) -> list[str]:
    lines = ["| workload | batch | train img/s striate | PyTorch | train ratio | infer img/s striate "
             "| PyTorch | infer ratio | target |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = []
        for kind in KINDS:
            k = r[kind]
            mark = "" if k["ratio"] >= r["target_ratio"] else " ✗"
            cells.append(f"{k['striate_img_s']:.0f} | {k['torch_img_s']:.0f} | {k['ratio']:.2f}{mark}")
        lines.append(f"| {r['workload']} | {r['batch']} | {' | '.join(cells)} | >= {r['target_ratio']} |")
    return lines


def markdown(result: dict) -> str:
    lines = header(result)
    titles = {"one": "One process, striate and PyTorch rounds alternating",
              "separate": "Separate processes, a fresh one per library and round, alternating"}
    for mode, rows in result["modes"].items():
        lines += ["", f"### {titles[mode]}", ""] + table(rows)
    lines += ["", "✗: below the ratio issue 14 asks for."]
    if not result.get("complete", True):
        lines += ["", "PARTIAL: the run was interrupted; the rows above are the workloads it finished."]
    return "\n".join(lines) + "\n"


def write(result: dict, path: Path) -> Path:
    """`path` (honest-<date>.json) and the Markdown beside it, atomically."""
    from striate.io_atomic import atomic_write_text

    atomic_write_text(path, json.dumps(result, indent=1))
    atomic_write_text(path.with_suffix(".md"), markdown(result))
    return path


def main(argv: list[str] | None = None, **overrides) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None, help="threads for both (default: each its own)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds in one process (default 5)")
    parser.add_argument("--process-rounds", type=int, default=3,
                        help="pairs of fresh processes per workload in separate mode (default 3)")
    parser.add_argument("--steps", type=int, default=3, help="steps per timed round (default 3)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--only", nargs="+", metavar="WORKLOAD",
                        help="workload keys, e.g. 'LeNet-5 1x28x28 b64' (another batch: '... b128')")
    parser.add_argument("--quick", action="store_true", help="LeNet-5 b64 only, 3 rounds")
    parser.add_argument("--tiny", action="store_true", help="batch 2, 1 round, no warm-up: a smoke test")
    parser.add_argument("--out", default=str(HERE / "results"), help="folder for honest-<date>.json/.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--facts", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name, value in overrides.items():
        setattr(args, name, value)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    if args.facts:
        print(json.dumps(machine.facts(args.facts)))
        return 0
    _require_torch()
    workloads = [find(k) for k in args.only] if args.only else list(WORKLOADS)
    kwargs: dict[str, Any] = {"threads": args.threads, "rounds": args.rounds, "steps": args.steps,
                              "process_rounds": args.process_rounds, "modes": args.modes}
    if args.quick:
        workloads, kwargs["rounds"] = workloads[:1], 3
    if args.tiny:
        from dataclasses import replace

        workloads = [replace(w, batch=2) for w in workloads]
        kwargs.update(rounds=1, process_rounds=1, steps=1, warmup=0, chunks=1, sgemm_n=64)
    path = Path(args.out) / f"honest-{time.strftime('%Y%m%d-%H%M')}.json"
    result = run(workloads, **kwargs, checkpoint=lambda partial: write(partial, path))
    write(result, path)
    print(markdown(result))
    print(f"written: {path}, {path.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""nn.RNN / nn.LSTM / nn.GRU and the sEMG decoders exported to ONNX at the course project's sizes:
onnxruntime against striate (and PyTorch on the same weights, for the bare layers) over long
sequences, where the recurrence accumulates rounding; export and inference times.

    python benchmarks/bench_onnx_recurrent.py            # project sizes (a few minutes)
    python benchmarks/bench_onnx_recurrent.py --quick    # tiny sizes (the smoke test)

Error = max |onnxruntime - reference| / max |reference| over every output (output, h_n, c_n),
the parity harness's scale. Times are one run each after a warm-up, striate, PyTorch and
onnxruntime on the same thread count (striate's default; torch.set_num_threads and onnxruntime's
intra-op threads set to it, as bench_ops does; no environment variable is changed for them).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # this process only
    os.environ.pop(_var, None)

import numpy as np  # noqa: E402


def configs(quick: bool) -> list[dict]:
    """Bare layers at the sEMG project's sizes (768 features in, hidden 128, 2 layers, both
    directions) over 100 and 1000 steps, and the zoo's sEMG decoders on 2000 frames."""
    if quick:
        return [{"kind": k, "input": 6, "hidden": 4, "layers": 2, "T": 12, "N": 2}
                for k in ("LSTM", "GRU", "RNN")]
    layers = [{"kind": k, "input": 768, "hidden": 128, "layers": 2, "T": T, "N": 8}
              for k in ("LSTM", "GRU", "RNN") for T in (100, 1000)]
    decoders = ("lstm_ctc", "gru_ctc", "cnn_gru_ctc", "tds_conv_ctc")
    return layers + [{"kind": k, "T": 2000, "N": 2} for k in decoders]


def _leaves(v):
    return [leaf for x in v for leaf in _leaves(x)] if isinstance(v, tuple) else [v]


def _timed(fn):
    fn()  # warm-up
    start = time.perf_counter()
    out = fn()
    return out, 1e3 * (time.perf_counter() - start)


def _build(cfg: dict):
    """(striate model, example input, PyTorch twin or None)."""
    import striate as st

    st.manual_seed(0)
    if cfg["kind"] in ("LSTM", "GRU", "RNN"):
        import torch

        model = getattr(st.nn, cfg["kind"])(cfg["input"], cfg["hidden"], num_layers=cfg["layers"],
                                            bidirectional=True)
        twin = getattr(torch.nn, cfg["kind"])(cfg["input"], cfg["hidden"], num_layers=cfg["layers"],
                                              bidirectional=True).eval()
        twin.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
        return model.eval(), st.randn(cfg["T"], cfg["N"], cfg["input"]), twin
    from striate.models import emg

    model = getattr(emg, cfg["kind"])().eval()  # the paper's sizes: 16 electrodes x 33 frequencies
    return model, st.randn(cfg["T"], cfg["N"], 2, 16, 33), None


def check(cfg: dict, folder: Path, threads: int) -> dict:
    import onnxruntime as ort

    import striate as st

    model, x, twin = _build(cfg)
    path = folder / "model.onnx"
    start = time.perf_counter()
    proto = st.onnx.export(model, x, path, dynamic_batch=twin is not None)
    export_s = time.perf_counter() - start
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    with st.no_grad():
        ref, t_st = _timed(lambda: [t.numpy() for t in _leaves(model(x))])
    got, t_ort = _timed(lambda: sess.run(None, {"input": x.numpy()}))
    result = {"model": cfg["kind"], "shape": "x".join(map(str, x.shape)), "export_s": export_s,
              "striate_ms": t_st, "ort_ms": t_ort, "error": _error(got, ref), "torch_error": None,
              "torch_ms": None, "ops": sorted({n.op_type for n in proto.graph.node})}
    if twin is not None:
        import torch

        with torch.no_grad():
            expected, result["torch_ms"] = _timed(
                lambda: [t.numpy() for t in _leaves(twin(torch.from_numpy(x.numpy())))])
        result["torch_error"] = _error(got, expected)
    path.unlink()
    return result


def _error(got: list, ref: list) -> float:
    return max(float(np.abs(g - r).max() / np.abs(r).max()) for g, r in zip(got, ref))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    args = parser.parse_args(argv)
    import onnxruntime as ort
    import torch
    from threadpoolctl import threadpool_info

    import striate as st

    st.config.set_num_threads(st.config.default_num_threads())
    threads = st.config.get_num_threads()
    torch.set_num_threads(threads)  # as bench_ops: the same thread count for the three
    blas = ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})"
                     for i in threadpool_info() if i.get("user_api") == "blas")
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, {threads} threads, BLAS {blas}, "
          f"onnxruntime {ort.__version__}, load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print("| model | input | error vs striate | error vs PyTorch | export s | striate ms | PyTorch ms "
          "| onnxruntime ms | operators |")
    print("|---|---|---|---|---|---|---|---|---|")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for cfg in configs(args.quick):
            r = check(cfg, Path(tmp), threads)
            worst = max(worst, r["error"], r["torch_error"] or 0.0)
            torch_err = "" if r["torch_error"] is None else f"{r['torch_error']:.1e}"
            torch_ms = "" if r["torch_ms"] is None else f"{r['torch_ms']:.0f}"
            print(f"| {r['model']} | {r['shape']} | {r['error']:.1e} | {torch_err} | {r['export_s']:.1f} | "
                  f"{r['striate_ms']:.0f} | {torch_ms} | {r['ort_ms']:.0f} | {', '.join(r['ops'])} |",
                  flush=True)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"largest error {worst:.1e}; load average at the end {load}")
    return 0 if worst <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

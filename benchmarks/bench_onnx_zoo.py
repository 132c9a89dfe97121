"""Every model of st.models exported to ONNX at full size and its design resolution: the checker
(full), onnxruntime against striate at batch 1 and 2 (exported at batch 2), export and
inference times, file size and the ONNX operators used.

    python benchmarks/bench_onnx_zoo.py                 # all models (VGG-19 alone writes 550 MB)
    python benchmarks/bench_onnx_zoo.py resnet18 vgg16  # some of them

Error = max |onnxruntime - striate| / max |striate| over the logits (the parity harness's
scale). Batch norm layers get trained-looking running statistics first (fresh ones make eval
mode the identity and hide mistakes). Inference times are one run each after a warm-up, both
on the same threads (striate's pool; onnxruntime's intra-op threads set to the same count).
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


def _randomise(model) -> None:
    rng = np.random.default_rng(0)
    for m in model.modules():
        if getattr(m, "running_mean", None) is not None:
            n = m.running_mean.shape[0]
            m.running_mean._data[...] = rng.uniform(-0.3, 0.3, n)
            m.running_var._data[...] = rng.uniform(0.5, 1.5, n)
            if getattr(m, "weight", None) is not None:
                m.weight._data[...] = rng.uniform(0.6, 1.6, n)


def check(name: str, folder: Path, threads: int) -> dict:
    import onnx
    import onnxruntime as ort

    import striate as st

    st.manual_seed(0)
    kwargs = {"variant": "modern"} if name == "lenet5_modern" else {}
    model = st.models.get_model(name.replace("_modern", ""), **kwargs)
    _randomise(model)
    model.eval()
    shape = st.models.default_input_size(name.replace("_modern", ""))
    path = folder / f"{name}.onnx"
    start = time.perf_counter()
    proto = st.onnx.export(model, st.randn(2, *shape), path)
    export_s = time.perf_counter() - start
    onnx.checker.check_model(str(path), full_check=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    errors, t_st, t_ort = [], 0.0, 0.0
    for n in (1, 2):
        x = st.randn(n, *shape)
        with st.no_grad():
            model(x)
            start = time.perf_counter()
            ref = model(x).numpy()
            t_st = time.perf_counter() - start
        sess.run(None, {"input": x.numpy()})
        start = time.perf_counter()
        got = sess.run(None, {"input": x.numpy()})[0]
        t_ort = time.perf_counter() - start
        errors.append(float(np.abs(got - ref).max() / np.abs(ref).max()))
    size = path.stat().st_size / 1e6
    path.unlink()
    return {"model": name, "input": "x".join(map(str, shape)), "errors": errors, "export_s": export_s,
            "mb": size, "striate_ms": 1e3 * t_st, "ort_ms": 1e3 * t_ort,
            "ops": sorted({node.op_type for node in proto.graph.node}), "nodes": len(proto.graph.node)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="model names (default: all)")
    args = parser.parse_args(argv)
    import onnxruntime as ort
    from threadpoolctl import threadpool_info

    import striate as st

    names = args.models or [*st.models.list_models(), "lenet5_modern"]
    threads = st.config.get_num_threads()
    blas = ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})"
                     for i in threadpool_info() if i.get("user_api") == "blas")
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, {threads} threads, BLAS {blas}, "
          f"onnxruntime {ort.__version__}, load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print("| model | input | error batch 1 | error batch 2 | export s | MB | nodes | striate ms (batch 2) "
          "| onnxruntime ms (batch 2) | operators |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            r = check(name, Path(tmp), threads)
            worst = max(worst, *r["errors"])
            print(f"| {r['model']} | {r['input']} | {r['errors'][0]:.1e} | {r['errors'][1]:.1e} | "
                  f"{r['export_s']:.1f} | {r['mb']:.1f} | {r['nodes']} | {r['striate_ms']:.0f} | "
                  f"{r['ort_ms']:.0f} | {', '.join(r['ops'])} |", flush=True)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"largest error {worst:.1e}; load average at the end {load}")
    return 0 if worst <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

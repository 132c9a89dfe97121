"""Regenerate the README's Speed table from honest-benchmark results (benchmarks/honest.py).

    python benchmarks/speed_table.py benchmarks/results/honest-20261203-1533.json
    python benchmarks/speed_table.py run1.json run2.json run3.json   # median of the runs' ratios
    python benchmarks/speed_table.py run.json --print                # show, do not write

The table goes between the `<!-- speed-table:begin -->` and `<!-- speed-table:end -->` lines of
README.md (written atomically); it says when, on what machine and at what load the runs were
taken. With several runs each ratio is the median of the runs' ratios, the runs' values beside it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

BEGIN, END = "<!-- speed-table:begin -->", "<!-- speed-table:end -->"
README = Path(__file__).resolve().parents[1] / "README.md"
MODES = ("one", "separate")


def _ratio_cell(values: list[float], target: float) -> str:
    med = statistics.median(values)
    text = f"{med:.2f}" if med < target else f"**{med:.2f}**"
    return text + (f" ({', '.join(f'{v:.2f}' for v in values)})" if len(values) > 1 else "")


def _machine_line(runs: list[dict]) -> str:
    first = runs[0]
    m = first["machine"]
    blas = m["numpy_blas"]
    threads = first.get("threads") or first.get("threads_separate") or {}
    asked = f"both set to {first['threads_asked']}" if first["threads_asked"] else "each library's default"
    loads = "; ".join(f"{r['date']}: {r['load_average_before'][0]:.1f} -> {r['load_average_after'][0]:.1f}"
                      for r in runs)
    env = first["environment_openblas"]
    env_text = f"sets {env}" if env else "sets no kernel override"
    return (f"{len(runs)} run{'s' if len(runs) > 1 else ''} of `python benchmarks/honest.py` on {m['cpu']} "
            f"({m['cores']} cores, {' '.join(m['cpu_vector_flags'])}); NumPy {m['numpy']} with OpenBLAS "
            f"kernel `{blas.get('kernel')}` (sgemm {m['sgemm_gflops']['numpy']:.0f} GFLOP/s at "
            f"{m['sgemm_gflops']['n']}^3; the environment {env_text}"
            f", removed for the benchmark), PyTorch {m['torch']['version']} ({m['torch']['blas']}, sgemm "
            f"{m['sgemm_gflops']['torch']:.0f} GFLOP/s); threads {asked}: striate {threads.get('striate')} "
            f"(BLAS {threads.get('striate_blas')}), PyTorch {threads.get('torch')}. 1-minute load average "
            f"before -> after each run (2 cores; above 2 the machine was shared): {loads}."
            + ("" if all(r.get("complete", True) for r in runs) else
               " PARTIAL: a run was interrupted; a row shows the modes and runs that reached it."))


def table(runs: list[dict]) -> str:
    """The Markdown block: a line on the machine, then one row per workload."""
    lines = [_machine_line(runs), "",
             "Ratio = striate images/s / PyTorch images/s, median over rounds (> 1: striate faster; "
             "bold: at or above the target). \"one\": both libraries in one process, alternating; "
             "\"sep.\": each in its own fresh process, alternating.", "",
             "| workload | batch | train img/s striate / PyTorch | train ratio one | train ratio sep. "
             "| infer img/s striate / PyTorch | infer ratio one | infer ratio sep. | target |",
             "|---|---|---|---|---|---|---|---|---|"]
    first = runs[0]["modes"]
    mode0 = next(mode for mode in MODES if mode in first)
    for row in first[mode0]:
        key = (row["workload"], row["batch"])
        cells = []
        for kind in ("train", "infer"):
            k = row[kind]
            cells.append(f"{k['striate_img_s']:.0f} / {k['torch_img_s']:.0f}")
            for mode in MODES:
                values = [m[kind]["ratio"] for r in runs for m in r["modes"].get(mode, [])
                          if (m["workload"], m["batch"]) == key]
                cells.append(_ratio_cell(values, row["target_ratio"]) if values else "-")
        lines.append(f"| {row['workload']} | {row['batch']} | {' | '.join(cells)} "
                     f"| >= {row['target_ratio']} |")
    return "\n".join(lines)


def replace_block(text: str, block: str) -> str:
    if BEGIN not in text or END not in text:
        raise SystemExit(f"speed_table: README has no {BEGIN} ... {END} block; add the two lines "
                         "where the table goes")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{block}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", help="honest-*.json files (same workloads)")
    parser.add_argument("--readme", default=str(README), help="the README to update")
    parser.add_argument("--print", action="store_true", help="print the table, write nothing")
    args = parser.parse_args(argv)
    runs = [json.loads(Path(p).read_text()) for p in args.results]
    block = table(runs)
    if args.print:
        print(block)
        return 0
    from striate.io_atomic import atomic_write_text

    readme = Path(args.readme)
    atomic_write_text(readme, replace_block(readme.read_text(), block))
    print(f"{readme}: Speed table replaced from {len(runs)} run(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

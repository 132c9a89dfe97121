"""A/B of a changed convolution module against its version at a git commit, in one process.

    python benchmarks/profile_ab_module.py --commit 6e1d2bf --only dwsep resnet18 --cpu --threads 1

Loads `src/striate/ops/conv_im2col.py` as it was at the commit (the old Conv2dIm2col), and times
each network's training step and inference with the old and the current class in alternation
(median over rounds of old_time / new_time; > 1: the change is faster). Networks, clocks and
threads as in profile_networks.py (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset there).
"""

from __future__ import annotations

import argparse
import subprocess
import types
from pathlib import Path

import profile_networks as pn


def old_class(commit: str, path: str = "src/striate/ops/conv_im2col.py"):
    """The module at `path` as of `commit`, executed under a private name; its Conv2dIm2col."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=root, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("old_conv_im2col")
    exec(compile(source, f"{commit}:{path}", "exec"), module.__dict__)
    return module.Conv2dIm2col


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--only", nargs="*", default=list(pn.NETWORKS), choices=list(pn.NETWORKS))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--cpu", action="store_true")
    args = parser.parse_args()
    if args.cpu:
        pn.CLOCK["clock"] = pn.time.process_time
    pn.header(args.threads)
    from striate.ops import conv

    new, old = conv._FUNCTIONS["im2col"], old_class(args.commit)
    for name in args.only:
        s, _ = pn.pair(name)
        out = [name]
        for train in (True, False):
            run = pn.step_closure(*s[:3], s[3], s[4], train, 3)

            def with_class(cls, run=run):
                def timed():
                    conv._FUNCTIONS["im2col"] = cls
                    try:
                        run()
                    finally:
                        conv._FUNCTIONS["im2col"] = new
                return timed
            times = pn.ratios({"old": with_class(old), "new": with_class(new)}, args.rounds)
            ratio = pn.median_ratio(times["old"], times["new"])
            out.append(f"{'train' if train else 'infer'} old/new {ratio:.3f}")
        print(" | ".join(out), flush=True)
    print(f"# load average at the end {pn.os.getloadavg()}")


if __name__ == "__main__":
    main()

"""`python -m striate.compat [--markdown]`: the PyTorch compatibility table (see `striate.compat`)."""

from __future__ import annotations

import argparse
import sys

from striate.compat import MARKS, check, markdown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m striate.compat",
                                     description="Which PyTorch names striate has, checked now.")
    parser.add_argument("--markdown", action="store_true", help="print the Markdown table (docs/compat.md)")
    parser.add_argument("--status", choices=sorted(MARKS), help="list only names with this status")
    args = parser.parse_args(argv)
    entries = check()
    if args.markdown:
        sys.stdout.write(markdown(entries))
        return 0
    for e in entries:
        if args.status is None or e.status == args.status:
            print(f"{MARKS[e.status]:8} {e.pytorch:48} {e.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

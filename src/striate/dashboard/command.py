"""`striate dashboard RUN [RUN...]` and the `--dashboard` glue of `striate train`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any


def add_server_options(p: argparse.ArgumentParser, port_help: str) -> None:
    p.add_argument("--port", type=int, default=8765, help=port_help)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; another one needs --allow-remote)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --host (prints a warning: others could reach the page)")


def add_parser(sub) -> None:
    p = sub.add_parser("dashboard", help="serve runs' live dashboards in the browser",
                       description="Serve one or more run folders (finished or still training) as "
                                   "a web page, several side by side; prints the URL to open.")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders written by `striate train`")
    add_server_options(p, "port (default 8765; 0: any free port)")


def start_server(folders: list[Path], publisher: Any = None, host: str = "127.0.0.1",
                 port: int = 8765, allow_remote: bool = False):
    """Start a DashboardServer for `folders` and print its URL; errors become SystemExit lines."""
    from striate.dashboard.server import DashboardServer, RunSource

    try:
        sources = [RunSource(f, publisher if i == 0 else None) for i, f in enumerate(folders)]
        server = DashboardServer(sources, host=host, port=port, allow_remote=allow_remote).start()
    except (OSError, PermissionError) as e:
        raise SystemExit(f"error: {e}") from None
    print(f"dashboard: {server.url}", file=sys.stderr, flush=True)
    return server


def run(args: argparse.Namespace) -> int:
    server = start_server([Path(r) for r in args.runs], host=args.host, port=args.port,
                          allow_remote=args.allow_remote)
    print("serving until Ctrl-C", file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def attach_to_training(trainer, folder: Path, args: argparse.Namespace):
    """`striate train --dashboard`: the publisher goes first among the callbacks (a batch-size
    change must reach the loader before the epoch's checkpoint is written); returns the server."""
    from striate.dashboard.publisher import DashboardCallback

    publisher = DashboardCallback(folder)
    trainer.callbacks.insert(0, publisher)
    return start_server([folder], publisher, host=args.dashboard_host, port=args.port,
                        allow_remote=args.allow_remote)

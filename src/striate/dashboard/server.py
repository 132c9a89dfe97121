"""The dashboard's web server: the standard library's ThreadingHTTPServer, server-sent events.

Security (a training box is often shared):
- binds 127.0.0.1 unless `allow_remote=True` (then a warning is printed);
- answers only requests whose Host header is a loopback name (or the explicit address) with
  the right port (DNS rebinding);
- every /api/ request carries the server's random token (from the URL printed in the
  terminal), in the X-Striate-Token header or, for the event stream, the query; POSTs with a
  foreign Origin are refused, so no cross-site request can change the learning rate;
- routes are an exact table (static files are a fixed list, runs are addressed by index), so
  no path reaches the file system;
- the page never puts data into HTML (textContent only) and every response carries a strict
  Content-Security-Policy;
- request bodies are size-limited before they are read; uploads are decoded with limits.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from striate.dashboard import inputs
from striate.dashboard.controls import ControlError, parse_control
from striate.dashboard.events import EVENTS_FILE, read_new

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
STATIC = {  # URL path -> (package file, content type)
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/static/panels.js": ("panels.js", "text/javascript; charset=utf-8"),
    "/static/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
    "/static/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
MAX_CONTROL_BYTES = 4096
MAX_PAD_BYTES = 256 * 1024
SSE_BATCH = 2000  # lines per event-stream message when replaying a long history


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RunSource:
    """One run folder; `publisher` is the live DashboardCallback when this process trains it."""

    def __init__(self, folder: str | Path, publisher: Any = None) -> None:
        self.folder = Path(folder)
        if not (self.folder / "config.json").exists() and not (self.folder / EVENTS_FILE).exists():
            raise FileNotFoundError(f"{self.folder} is not a striate run folder (no config.json); "
                                    "pass a folder that `striate train` printed")
        self.publisher = publisher
        self._model: tuple[float, Any] | None = None
        self._lock = threading.Lock()

    @property
    def events_path(self) -> Path:
        return self.folder / EVENTS_FILE

    def config(self) -> dict[str, Any]:
        try:
            return json.loads((self.folder / "config.json").read_text())
        except (OSError, ValueError):
            return {}

    def live(self) -> bool:
        return self.publisher is not None and self.publisher.running

    def predict(self, x):
        if self.live():
            return self.publisher.predict(x)
        return self._checkpoint_model_probs(x)

    def _checkpoint_model_probs(self, x):
        from striate.dashboard.probe import predict_probs
        from striate.train.runs import load_model

        last = self.folder / "checkpoints" / "last.safetensors"
        if not last.exists():
            raise RuntimeError("no checkpoint yet: the run has not finished an epoch")
        with self._lock:  # one model per run, reloaded when the checkpoint changes
            mtime = last.stat().st_mtime
            if self._model is None or self._model[0] != mtime:
                self._model = (mtime, load_model(self.folder, "last")[1])
            return predict_probs(self._model[1], x)


class DashboardServer:
    """Serve `sources` on host:port (port 0: any free port) from a background thread."""

    def __init__(self, sources: list[RunSource], host: str = "127.0.0.1", port: int = 8765,
                 allow_remote: bool = False, token: str | None = None) -> None:
        if not is_loopback(host) and not allow_remote:
            raise PermissionError(
                f"refusing to serve the dashboard on {host}: anyone who can reach that address "
                "could watch the run; bind 127.0.0.1 (the default) or pass --allow-remote")
        if not is_loopback(host):
            print(f"warning: the dashboard listens on {host}, reachable from other machines; "
                  "anyone with the URL's token can control the run", file=sys.stderr)
        self.sources, self.host = list(sources), host
        self.token = token or secrets.token_urlsafe(24)
        self.stopping = threading.Event()
        self.streams = 0  # open event streams
        server_class = _server_class(host)
        try:
            self.httpd = server_class((host, port), _Handler)
        except OSError as e:
            raise OSError(f"cannot listen on {host}:{port} ({e.strerror or e}); pass --port 0 "
                          "for any free port, or another port") from None
        self.httpd.app = self
        self.port = int(self.httpd.server_address[1])
        names = ["127.0.0.1", "localhost", "[::1]"] + ([] if is_loopback(host) else [_url_host(host)])
        self.allowed_hosts = {f"{n}:{self.port}" for n in names}
        self.allowed_origins = {f"http://{h}" for h in self.allowed_hosts}
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if is_loopback(self.host) else _url_host(self.host)
        return f"http://{host}:{self.port}/#token={self.token}"

    def start(self) -> DashboardServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="striate-dashboard",
                                        kwargs={"poll_interval": 0.2}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        deadline = time.monotonic() + 1.0  # let open event streams send the run's last lines
        while self.streams and time.monotonic() < deadline:
            time.sleep(0.02)
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _server_class(host: str):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class Server(ThreadingHTTPServer):
        address_family = family
        daemon_threads = True
        allow_reuse_address = True

    return Server


class _Handler(BaseHTTPRequestHandler):
    server_version = "striate-dashboard"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the terminal shows training
        pass

    # ------------------------------------------------------------------ plumbing
    @property
    def app(self) -> DashboardServer:
        return self.server.app

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self._security_headers()
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _security_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self.close_connection = status in (411, 413) or self.close_connection
        self._json(status, {"error": message})

    def _guard(self) -> tuple[str, dict[str, list[str]]] | None:
        """Host check and routing input; None when a response was already sent."""
        if self.headers.get("Host", "") not in self.app.allowed_hosts:
            self._error(403, "unexpected Host header (DNS rebinding protection)")
            return None
        parts = urlsplit(self.path)
        return parts.path, parse_qs(parts.query)

    def _token_ok(self, query: dict[str, list[str]]) -> bool:
        given = self.headers.get("X-Striate-Token") or (query.get("token") or [""])[0]
        return hmac.compare_digest(given.encode(), self.app.token.encode())

    def _source(self, query: dict[str, list[str]]) -> RunSource | None:
        try:
            index = int((query.get("run") or ["0"])[0])
        except ValueError:
            index = -1
        if not 0 <= index < len(self.app.sources):
            self._error(404, "no such run")
            return None
        return self.app.sources[index]

    def _body(self, limit: int) -> bytes | None:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or length is None:
            self._error(411, "send a Content-Length")
            return None
        try:
            n = int(length)
        except ValueError:
            n = -1
        if n < 0 or n > limit:
            self._error(413, f"request body too large (limit {limit} bytes)")
            return None
        return self.rfile.read(n)

    # ------------------------------------------------------------------ routes
    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        routed = self._guard()
        if routed is None:
            return
        path, query = routed
        if path in STATIC:
            name, ctype = STATIC[path]
            body = resources.files("striate.dashboard").joinpath("static", name).read_bytes()
            self._send(200, body, ctype)
            return
        if not path.startswith("/api/"):
            self._error(404, "not found")
            return
        if not self._token_ok(query):
            self._error(403, "missing or wrong token: open the URL printed in the terminal")
            return
        if path == "/api/runs":
            self._json(200, [self._run_info(i, s) for i, s in enumerate(self.app.sources)])
        elif path == "/api/events":
            source = self._source(query)
            if source is not None:
                self._stream(source)
        else:
            self._error(404, "not found")

    def do_POST(self) -> None:
        routed = self._guard()
        if routed is None:
            return
        path, query = routed
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self.app.allowed_origins:
            self._error(403, "cross-site request refused")
            return
        if path not in ("/api/control", "/api/predict"):
            self._error(404, "not found")
            return
        if not self._token_ok(query):
            self._error(403, "missing or wrong token: open the URL printed in the terminal")
            return
        source = self._source(query)
        if source is None:
            return
        if path == "/api/control":
            self._control(source)
        else:
            self._predict(source)

    def _run_info(self, index: int, source: RunSource) -> dict[str, Any]:
        config = source.config()
        return {"id": index, "name": source.folder.name, "live": source.live(),
                "controls": source.live(), "classes": [str(c) for c in config.get("classes", [])],
                "dataset": str(config.get("dataset", "")), "model": str(config.get("model", "")),
                "in_channels": int(config.get("in_channels") or 1),
                "pad_side": inputs.native_side(config)}

    def _control(self, source: RunSource) -> None:
        body = self._body(MAX_CONTROL_BYTES)
        if body is None:
            return
        if not source.live():
            self._error(409, "this run is not trained by this process: controls need "
                             "`striate train --dashboard`")
            return
        try:
            control = parse_control(json.loads(body or b"null"))
        except (ValueError, ControlError) as e:
            self._error(400, str(e))
            return
        source.publisher.submit(control)
        self._json(202, {"queued": control})

    def _predict(self, source: RunSource) -> None:
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        upload = ctype.startswith("image/")
        body = self._body(inputs.MAX_UPLOAD_BYTES if upload else MAX_PAD_BYTES)
        if body is None:
            return
        config = source.config()
        channels = int(config.get("in_channels") or 1)
        try:
            if upload:
                x = inputs.uploaded_image(body, channels, inputs.native_side(config))
            else:
                x = inputs.pad_pixels(json.loads(body or b"null"), channels)
            probs = source.predict(inputs.prepare(x, config))[0]
        except (inputs.InputError, ValueError) as e:
            self._error(400, str(e))
            return
        except (RuntimeError, TimeoutError, FileNotFoundError) as e:
            self._error(503, str(e))
            return
        self._json(200, {"probs": [float(p) for p in probs]})

    def _stream(self, source: RunSource) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self._security_headers()
        self.end_headers()
        self.close_connection = True
        self.app.streams += 1
        try:
            self._stream_lines(source)
        finally:
            self.app.streams -= 1

    def _stream_lines(self, source: RunSource) -> None:
        offset, quiet_since = 0, time.monotonic()
        try:
            while True:
                stopping = self.app.stopping.is_set()  # one last read after the run's "end"
                lines, offset = read_new(source.events_path, offset)
                good = [ln for ln in lines if _is_json(ln)]
                for i in range(0, len(good), SSE_BATCH):
                    self.wfile.write(("data: [" + ",".join(good[i:i + SSE_BATCH]) + "]\n\n").encode())
                if good or time.monotonic() - quiet_since > 15:
                    if not good:
                        self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    quiet_since = time.monotonic()
                if stopping:
                    return
                self.app.stopping.wait(0.15)
        except (BrokenPipeError, ConnectionResetError):
            return


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True

"""The dashboard server's security rules, checked with raw HTTP requests."""

from __future__ import annotations

import http.client
import json
import socket
import struct
import subprocess
import sys
import zlib

import pytest

from striate.dashboard.server import DashboardServer, RunSource


class FakePublisher:
    """Stands in for the training callback: records the controls it is sent."""

    running = True

    def __init__(self) -> None:
        self.controls = []

    def submit(self, control):
        self.controls.append(control)

    def predict(self, x):
        import numpy as np

        return np.full((len(x), 10), 0.1)


EVIL = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / EVIL
    folder.mkdir()
    config = {"dataset": "digits", "in_channels": 1, "input_side": 32, "mean": [0.3], "std": [0.3],
              "classes": [SCRIPT] + [str(i) for i in range(1, 10)]}
    (folder / "config.json").write_text(json.dumps(config))
    first_event = {"t": "run", "step": 0, "classes": config["classes"]}
    (folder / "events.jsonl").write_text(json.dumps(first_event) + "\n")
    publisher = FakePublisher()
    srv = DashboardServer([RunSource(folder, publisher)], port=0).start()
    srv.publisher = publisher
    yield srv
    srv.stop()


def raw(srv, request: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (no client-side normalisation of the path); status and body."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = [int(ln.split(b":")[1]) for ln in head.split(b"\r\n")
                      if ln.lower().startswith(b"content-length")]
            if length and len(body) >= length[0]:
                break
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


def get(srv, path: str, host: str | None = None, headers: str = "") -> tuple[int, bytes]:
    host = host or f"127.0.0.1:{srv.port}"
    return raw(srv, f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Connection: close\r\n\r\n".encode())


def post(srv, path: str, body: bytes, token: str | None, ctype: str = "application/json",
         extra: str = "") -> tuple[int, bytes]:
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nContent-Type: {ctype}\r\n" \
           f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n"
    if token is not None:
        head += f"X-Striate-Token: {token}\r\n"
    return raw(srv, head.encode() + b"\r\n" + body)


def test_host_header_must_be_loopback_with_the_port(server):
    assert get(server, "/")[0] == 200
    assert get(server, "/", host=f"localhost:{server.port}")[0] == 200
    assert get(server, "/", host="evil.example")[0] == 403
    assert get(server, "/", host=f"evil.example:{server.port}")[0] == 403
    assert get(server, "/", host="127.0.0.1:1")[0] == 403


def test_controls_need_the_token(server):
    server.publisher.controls.clear()
    body = json.dumps({"action": "set", "lr": 0.5}).encode()
    assert post(server, "/api/control?run=0", body, None)[0] == 403
    assert post(server, "/api/control?run=0", body, "wrong-token")[0] == 403
    assert post(server, f"/api/control?run=0&token=x{server.token}", body, None)[0] == 403
    assert server.publisher.controls == []
    status, _ = post(server, "/api/control?run=0", body, server.token,
                     extra="Origin: http://evil.example\r\n")
    assert status == 403 and server.publisher.controls == []
    status, reply = post(server, "/api/control?run=0", body, server.token)
    assert status == 202, reply
    assert server.publisher.controls == [{"action": "set", "lr": 0.5}]


def test_reading_run_data_needs_the_token_too(server):
    assert get(server, "/api/runs")[0] == 403
    assert get(server, "/api/events?run=0")[0] == 403
    status, body = get(server, "/api/runs", headers=f"X-Striate-Token: {server.token}\r\n")
    assert status == 200 and json.loads(body)[0]["name"] == EVIL


def test_bad_controls_are_refused_with_a_reason(server):
    for bad in ({"action": "format_disk"}, {"action": "set"}, {"action": "set", "lr": -1},
                {"action": "set", "lr": "1e-3"}, {"action": "set", "batch_size": 2.5},
                {"action": "set", "momentum": 1.0}, [1, 2]):
        status, body = post(server, "/api/control?run=0", json.dumps(bad).encode(), server.token)
        assert status == 400 and json.loads(body)["error"], bad
    status, body = post(server, "/api/control?run=0", b"{not json", server.token)
    assert status == 400


@pytest.mark.parametrize("path", [
    "/../", "/../../../../etc/passwd", "/static/../server.py", "/static/../../cli.py",
    "/static/%2e%2e/server.py", "/%2e%2e/%2e%2e/etc/passwd", "/static/%252e%252e/server.py",
    "/static/..%2fserver.py", "/static/..%252fserver.py", "/static/....//server.py",
    "//etc/passwd", "/static/dashboard.js/../../server.py", "/static/%2fetc%2fpasswd",
    "/static/..\\server.py", "/api/../static/dashboard.js", "/static/index.html%00.js",
])
def test_no_path_traversal(server, path):
    status, body = get(server, path, headers=f"X-Striate-Token: {server.token}\r\n")
    assert status == 404, (path, body[:200])


def test_run_and_class_names_are_data_not_html(server):
    status, page = get(server, "/")
    assert status == 200
    assert b"alert" not in page  # names never enter the HTML; the page shows them with textContent
    status, body = get(server, "/api/runs", headers=f"X-Striate-Token: {server.token}\r\n")
    info = json.loads(body)[0]
    assert info["name"] == EVIL and info["classes"][0] == SCRIPT


def test_every_response_has_a_strict_csp(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for path in ("/", "/static/dashboard.js", "/nope"):
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        csp = r.getheader("Content-Security-Policy")
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
        assert r.getheader("X-Content-Type-Options") == "nosniff"


def test_huge_uploads_are_refused_before_reading(server):
    head = (f"POST /api/predict?run=0 HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"X-Striate-Token: {server.token}\r\nContent-Type: image/png\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\nConnection: close\r\n\r\n").encode()
    status, body = raw(server, head + b"\x89PNG")  # the body is never sent in full
    assert status == 413, body
    pad = json.dumps({"width": 64, "height": 64, "pixels": [0.5] * 200_000}).encode()
    assert post(server, "/api/predict?run=0", pad, server.token)[0] == 413


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (a decompression bomb's first bytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data  # noqa: E731
                                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) \
        + chunk(b"IEND", b"")


def test_uploads_are_decoded_safely(server):
    pytest.importorskip("PIL", reason="uploads are decoded with Pillow (striate[images])")
    status, body = post(server, "/api/predict?run=0", _png_header(5000, 5000), server.token, "image/png")
    assert status == 400 and b"pixels" in body
    status, body = post(server, "/api/predict?run=0", _png_header(60000, 60000), server.token, "image/png")
    assert status == 400 and b"too large" in body
    status, body = post(server, "/api/predict?run=0", b"not an image at all", server.token, "image/png")
    assert status == 400 and b"decode" in body
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.new("L", (20, 20), 128).save(buf, "PNG")
    status, body = post(server, "/api/predict?run=0", buf.getvalue(), server.token, "image/png")
    assert status == 200 and len(json.loads(body)["probs"]) == 10


def test_pad_pixels_are_checked(server):
    for bad in ({"width": 8, "height": 8, "pixels": [0.5] * 63}, {"width": 999, "height": 1, "pixels": []},
                {"width": 2, "height": 1, "pixels": [0.5, 7]}, {"width": 1, "height": 1, "pixels": ["x"]}):
        assert post(server, "/api/predict?run=0", json.dumps(bad).encode(), server.token)[0] == 400
    ok = {"width": 8, "height": 8, "pixels": [0.0] * 64}
    status, body = post(server, "/api/predict?run=0", json.dumps(ok).encode(), server.token)
    assert status == 200 and sum(json.loads(body)["probs"]) == pytest.approx(1.0)


def test_non_loopback_bind_needs_the_explicit_flag(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(PermissionError, match="--allow-remote"):
        DashboardServer([RunSource(tmp_path)], host="0.0.0.0", port=0)
    proc = subprocess.run([sys.executable, "-m", "striate.cli", "dashboard", str(tmp_path),
                           "--host", "0.0.0.0", "--port", "0"], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("striate dashboard: error: refusing to serve the dashboard on 0.0.0.0")


def test_a_folder_that_is_not_a_run_is_a_one_line_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "striate.cli", "dashboard", str(tmp_path / "nope"),
                           "--port", "0"], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "not a striate run folder" in proc.stderr
    assert "Traceback" not in proc.stderr

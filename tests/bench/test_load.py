"""The load generator's `raw` client against a real HTTP/1.1 server on loopback."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from bench.load import RawConnection, run_load


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless told otherwise
    connections: ClassVar[list[int]] = []

    def setup(self) -> None:
        super().setup()
        self.connections.append(self.client_address[1])

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, **extra: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in extra.items():
            self.send_header(name.replace("_", "-"), value)
        if "Transfer_Encoding" not in extra:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/close":
            self._send(200, b'{"bye":true}', Connection="close")
            self.close_connection = True
        elif self.path == "/chunked":
            self._send(200, b"5\r\nhello\r\n0\r\n\r\n", Transfer_Encoding="chunked")
        else:
            self._send(
                200, json.dumps({"path": self.path, "auth": self.headers["Authorization"]}).encode()
            )

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._send(201, body[::-1])


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.connections = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_raw_client_keeps_its_connection_and_sends_bodies(server: str) -> None:
    conn = RawConnection(server, {"Authorization": "Bearer t"})
    try:
        assert conn.request("GET", "/a?x=1", None) == (
            200,
            b'{"path": "/a?x=1", "auth": "Bearer t"}',
        )
        assert conn.request("POST", "/e", "事件".encode()) == (201, "事件".encode()[::-1])
        assert conn.request("GET", "/b", None)[0] == 200
        assert len(_Handler.connections) == 1
    finally:
        conn.close()


def test_raw_client_reconnects_after_the_server_closes(server: str) -> None:
    conn = RawConnection(server, {})
    try:
        assert conn.request("GET", "/close", None) == (200, b'{"bye":true}')
        assert conn.request("GET", "/again", None)[0] == 200
        assert len(_Handler.connections) == 2
    finally:
        conn.close()


def test_raw_client_refuses_an_answer_without_length(server: str) -> None:
    conn = RawConnection(server, {})
    with pytest.raises(http.client.HTTPException, match="Content-Length"):
        conn.request("GET", "/chunked", None)
    assert conn.sock is None  # dropped: the next request starts on a new connection
    assert conn.request("GET", "/ok", None)[0] == 200
    conn.close()


def test_load_with_the_raw_client(server: str) -> None:
    result = run_load(
        server,
        lambda i, k: ("POST", "/events", f"{i}-{k}".encode()),
        concurrency=4,
        duration=0.3,
        warmup=0.1,
        client="raw",
    )
    assert result.requests > 0
    assert result.errors == 0
    assert set(result.statuses) == {201}
    assert len(_Handler.connections) == 4

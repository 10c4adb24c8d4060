"""A closed-loop HTTP load generator: N threads, each with its own keep-alive connection.

Every thread sends its next request as soon as the previous one is answered, first for a
warm-up (not recorded), then for the measured window. Loops are bounded by the clock and every
request by a timeout, so a dead server ends a measurement with exceptions, not a hang.

Three clients: `stdlib` (http.client, the default), `httpx` and `raw`. On a small machine the
client shares the CPU with the server, and httpx spends several times more CPU per request
than http.client: with it, a trivial endpoint measures the client rather than the server.
http.client itself still costs 75 µs of CPU a ping (103 µs a report); `raw` (a plain socket,
each request's head built once) 21 and 44 µs, and measured ping at 5,400–5,500/s where
http.client measured 4,400–4,550/s on the same server.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args
from urllib.parse import urlsplit

import httpx
import numpy as np

from bench.procstat import cpu_seconds, machine_busy_seconds, tree_times, tree_usage

ClientKind = Literal["stdlib", "httpx", "raw"]
#: the clients' names, for command-line choices
CLIENT_KINDS: tuple[str, ...] = get_args(ClientKind)
#: What to send: (worker index, iteration) -> (method, path with query, body or None).
Plan = Callable[[int, int], tuple[str, str, bytes | None]]
#: Inspects the body of a 2xx answer (for instance to count located points); thread-safe.
Check = Callable[[bytes], None]

REQUEST_TIMEOUT = 30.0


class Connection(Protocol):
    def request(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]: ...

    def close(self) -> None: ...


class StdlibConnection:
    """One persistent http.client connection, reopened after a failure."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        url = urlsplit(base_url)
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or 80
        self.headers = headers
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        try:
            self.conn.request(method, path, body=body, headers=self.headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class HttpxConnection:
    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self.client = httpx.Client(
            base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT, limits=limits
        )

    def request(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        response = self.client.request(method, path, content=body)
        return response.status_code, response.content

    def close(self) -> None:
        self.client.close()


class RawConnection:
    """One persistent HTTP/1.1 connection over a plain socket: the head of each (method, path)
    built once, an answer read by its Content-Length. An answer without one (chunked or
    streamed) raises `http.client.HTTPException`: this client is for the API's JSON."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        url = urlsplit(base_url)
        self.address = (url.hostname or "127.0.0.1", url.port or 80)
        fields = {"Host": f"{self.address[0]}:{self.address[1]}", **headers}
        self.fields = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
        self.heads: dict[tuple[str, str], bytes] = {}
        self.sock: socket.socket | None = None
        self.pending = b""  # bytes received past the last answer

    def _head(self, method: str, path: str) -> bytes:
        head = self.heads.get((method, path))
        if head is None:
            head = f"{method} {path} HTTP/1.1\r\n{self.fields}".encode("latin-1")
            self.heads[(method, path)] = head
        return head

    def request(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=REQUEST_TIMEOUT)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.pending = b""
        length = b"" if body is None else b"Content-Length: %d\r\n" % len(body)
        try:
            self.sock.sendall(self._head(method, path) + length + b"\r\n" + (body or b""))
            status, data, close = self._answer(self.sock)
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if close:
            self.close()
        return status, data

    def _answer(self, sock: socket.socket) -> tuple[int, bytes, bool]:
        """(status, body, whether the server closes the connection) of the next answer."""
        data = self.pending
        while (end := data.find(b"\r\n\r\n")) < 0:
            data += self._receive(sock)
        lines = data[:end].decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            raise http.client.BadStatusLine(lines[0]) from None
        fields = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:])
        }
        length = fields.get("content-length", "")
        if not length.isdigit():
            raise http.client.HTTPException(f"an answer without Content-Length: {lines[0]}")
        total = end + 4 + int(length)
        while len(data) < total:
            data += self._receive(sock)
        self.pending = data[total:]
        return status, data[end + 4 : total], fields.get("connection", "").lower() == "close"

    @staticmethod
    def _receive(sock: socket.socket) -> bytes:
        chunk = sock.recv(65536)
        if not chunk:
            raise http.client.RemoteDisconnected("the server closed the connection")
        return chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def connect(kind: ClientKind, base_url: str, headers: dict[str, str]) -> Connection:
    if kind == "httpx":
        return HttpxConnection(base_url, headers)
    if kind == "raw":
        return RawConnection(base_url, headers)
    return StdlibConnection(base_url, headers)


#: What a failed request raises, for either client.
TRANSPORT_ERRORS = (OSError, http.client.HTTPException, httpx.HTTPError)


@dataclass
class LoadResult:
    concurrency: int
    client: str
    seconds: float
    latencies: np.ndarray  # seconds, of the requests started in the measured window
    statuses: Counter[int] = field(default_factory=Counter)
    exceptions: int = 0
    bad_bodies: int = 0
    client_cpu_seconds: float = 0.0
    server_cpu_seconds: float | None = None
    machine_busy_seconds: float | None = None
    #: per server process: percent of a core in all and by its busiest thread (`procstat`)
    server_processes: list[dict[str, Any]] | None = None

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def errors(self) -> int:
        """Answers that are not 2xx."""
        return self.requests - self.ok

    def summary(self) -> dict[str, Any]:
        ms = self.latencies * 1000.0
        pct = np.percentile(ms, [50, 95, 99]) if len(ms) else [float("nan")] * 3

        def percent(cpu: float | None) -> float | None:
            return None if cpu is None else round(100.0 * cpu / self.seconds, 1)

        other = None
        if self.machine_busy_seconds is not None and self.server_cpu_seconds is not None:
            other = max(
                0.0,
                self.machine_busy_seconds - self.server_cpu_seconds - self.client_cpu_seconds,
            )
        return {
            "client": self.client,
            "concurrency": self.concurrency,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "requests_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "latency_ms": {
                "p50": round(float(pct[0]), 3),
                "p95": round(float(pct[1]), 3),
                "p99": round(float(pct[2]), 3),
                "mean": round(float(ms.mean()), 3) if len(ms) else None,
                "max": round(float(ms.max()), 3) if len(ms) else None,
            },
            "errors": self.errors,
            "exceptions": self.exceptions,
            "bad_bodies": self.bad_bodies,
            "status_counts": {str(k): v for k, v in sorted(self.statuses.items())},
            "client_cpu_percent": percent(self.client_cpu_seconds),
            "server_cpu_percent": percent(self.server_cpu_seconds),
            # everything else running on the machine meanwhile (other jobs, the kernel)
            "other_cpu_percent": percent(other),
            # a busiest thread near 100 % limits the server, whatever cores are left idle
            "server_processes": self.server_processes,
        }


def run_load(
    base_url: str,
    plan: Plan,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    client: ClientKind = "stdlib",
    headers: dict[str, str] | None = None,
    check: Check | None = None,
    server_pid: int | None = None,
) -> LoadResult:
    """Send what `plan` says in a closed loop on `concurrency` connections for warmup +
    duration seconds; only requests started after the warm-up are recorded."""
    barrier = threading.Barrier(concurrency + 1)
    lock = threading.Lock()
    marks: dict[str, float] = {}
    per_worker: list[list[float]] = [[] for _ in range(concurrency)]
    statuses: Counter[int] = Counter()
    failures = {"exceptions": 0, "bad_bodies": 0}
    finished = [0.0] * concurrency

    def worker(i: int) -> None:
        conn = connect(client, base_url, dict(headers or {}))
        local_status: Counter[int] = Counter()
        local_exc = local_bad = 0
        try:
            barrier.wait(timeout=60)
            measure_from, measure_until = marks["from"], marks["until"]
            lat = per_worker[i]
            k = 0
            while True:
                t0 = time.perf_counter()
                if t0 >= measure_until:
                    break
                method, path, body = plan(i, k)
                k += 1
                try:
                    status, data = conn.request(method, path, body)
                except TRANSPORT_ERRORS:
                    if t0 >= measure_from:
                        local_exc += 1
                    time.sleep(0.01)  # a dead server must not turn this into a busy loop
                    continue
                t1 = time.perf_counter()
                if t0 < measure_from:
                    continue
                lat.append(t1 - t0)
                local_status[status] += 1
                if check is not None and 200 <= status < 300:
                    try:
                        check(data)
                    except (ValueError, KeyError, TypeError):
                        local_bad += 1
        finally:
            finished[i] = time.perf_counter()
            conn.close()
            with lock:
                statuses.update(local_status)
                failures["exceptions"] += local_exc
                failures["bad_bodies"] += local_bad

    threads = [
        threading.Thread(target=worker, args=(i,), name=f"load-{i}", daemon=True)
        for i in range(concurrency)
    ]
    for t in threads:
        t.start()
    start = time.perf_counter()
    marks["from"] = start + warmup
    marks["until"] = start + warmup + duration
    barrier.wait(timeout=60)
    # the measured window starts after the warm-up: take the CPU readings then
    time.sleep(max(0.0, marks["from"] - time.perf_counter()))
    cpu0 = time.process_time()
    srv0 = cpu_seconds(server_pid) if server_pid else None
    tree0 = tree_times(server_pid) if server_pid else None
    busy0 = machine_busy_seconds()
    for t in threads:
        t.join(timeout=warmup + duration + REQUEST_TIMEOUT + 10)
    cpu1 = time.process_time()
    srv1 = cpu_seconds(server_pid) if server_pid else None
    tree1 = tree_times(server_pid) if server_pid else None
    busy1 = machine_busy_seconds()
    window = time.perf_counter() - marks["from"]
    if any(t.is_alive() for t in threads):
        raise RuntimeError("load threads did not stop in time")
    elapsed = max(finished) - marks["from"]
    latencies = np.fromiter((x for lat in per_worker for x in lat), dtype=float)
    return LoadResult(
        concurrency=concurrency,
        client=client,
        seconds=elapsed,
        latencies=latencies,
        statuses=statuses,
        exceptions=failures["exceptions"],
        bad_bodies=failures["bad_bodies"],
        client_cpu_seconds=cpu1 - cpu0,
        server_cpu_seconds=(srv1 - srv0) if srv0 is not None and srv1 is not None else None,
        machine_busy_seconds=(busy1 - busy0) if busy0 is not None and busy1 is not None else None,
        server_processes=tree_usage(tree0, tree1, window) if tree0 and tree1 else None,
    )

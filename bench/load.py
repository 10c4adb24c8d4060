"""A closed-loop HTTP load generator: N threads, each with its own keep-alive connection.

Every thread sends its next request as soon as the previous one is answered, first for a
warm-up (not recorded), then for the measured window. Loops are bounded by the clock and every
request by a timeout, so a dead server ends a measurement with exceptions, not a hang.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from bench.procstat import cpu_seconds

#: Sends one request: (client, worker index, iteration) -> response.
Send = Callable[[httpx.Client, int, int], httpx.Response]
#: Inspects a 2xx response (for instance to count located points); must be thread-safe.
Check = Callable[[httpx.Response], None]

REQUEST_TIMEOUT = 30.0


@dataclass
class LoadResult:
    concurrency: int
    seconds: float
    latencies: np.ndarray  # seconds, of the requests started in the measured window
    statuses: Counter[int] = field(default_factory=Counter)
    exceptions: int = 0
    client_cpu_seconds: float = 0.0
    server_cpu_seconds: float | None = None

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        """Answers that are not 2xx."""
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    def summary(self) -> dict[str, Any]:
        ms = self.latencies * 1000.0
        pct = np.percentile(ms, [50, 95, 99]) if len(ms) else [float("nan")] * 3
        server_cpu = (
            None
            if self.server_cpu_seconds is None
            else round(100.0 * self.server_cpu_seconds / self.seconds, 1)
        )
        return {
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
            "status_counts": {str(k): v for k, v in sorted(self.statuses.items())},
            # percent of one core; the client (this process) and the server share the machine
            "client_cpu_percent": round(100.0 * self.client_cpu_seconds / self.seconds, 1),
            "server_cpu_percent": server_cpu,
        }


def run_load(
    base_url: str,
    send: Send,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    headers: dict[str, str] | None = None,
    check: Check | None = None,
    server_pid: int | None = None,
) -> LoadResult:
    """Run `send` in a closed loop on `concurrency` connections for warmup + duration seconds."""
    barrier = threading.Barrier(concurrency + 1)
    lock = threading.Lock()
    marks: dict[str, float] = {}
    per_worker: list[list[float]] = [[] for _ in range(concurrency)]
    statuses: Counter[int] = Counter()
    exceptions = [0]
    finished = [0.0] * concurrency

    def worker(i: int) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        with httpx.Client(
            base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT, limits=limits
        ) as client:
            barrier.wait()
            measure_from, measure_until = marks["from"], marks["until"]
            local_status: Counter[int] = Counter()
            local_exc = 0
            lat = per_worker[i]
            k = 0
            while True:
                t0 = time.perf_counter()
                if t0 >= measure_until:
                    break
                try:
                    response = send(client, i, k)
                except httpx.HTTPError:
                    if t0 >= measure_from:
                        local_exc += 1
                    time.sleep(0.01)  # a dead server must not turn this into a busy loop
                    continue
                finally:
                    k += 1
                t1 = time.perf_counter()
                if t0 >= measure_from:
                    lat.append(t1 - t0)
                    local_status[response.status_code] += 1
                    if check is not None and response.is_success:
                        check(response)
            finished[i] = time.perf_counter()
        with lock:
            statuses.update(local_status)
            exceptions[0] += local_exc

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
    # the measured window starts after the warm-up: take CPU readings then
    time.sleep(max(0.0, marks["from"] - time.perf_counter()))
    cpu0 = time.process_time()
    srv0 = cpu_seconds(server_pid) if server_pid else None
    for t in threads:
        t.join(timeout=warmup + duration + REQUEST_TIMEOUT + 10)
    cpu1 = time.process_time()
    srv1 = cpu_seconds(server_pid) if server_pid else None
    if any(t.is_alive() for t in threads):
        raise RuntimeError("load threads did not stop in time")
    elapsed = max(finished) - marks["from"]
    latencies = np.fromiter((x for lat in per_worker for x in lat), dtype=float)
    return LoadResult(
        concurrency=concurrency,
        seconds=elapsed,
        latencies=latencies,
        statuses=statuses,
        exceptions=exceptions[0],
        client_cpu_seconds=cpu1 - cpu0,
        server_cpu_seconds=(srv1 - srv0) if srv0 is not None and srv1 is not None else None,
    )

"""GET /metrics: Prometheus text format, route templates as labels, loopback or token only."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from shiyu.app import create_app
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.ops.prometheus import Registry, render
from tests.factories.world import World

LINE = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? -?[0-9.e+]+$')


def _samples(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        assert LINE.match(line), line
        name, value = line.rsplit(" ", 1)
        out[name] = float(value)
    return out


def test_loopback_scrape_counts_requests_by_template(client: httpx.Client, world: World) -> None:
    assert world.event_a is not None
    code = world.event_a.code
    for _ in range(3):
        client.get(f"/api/v1/public/events/{code}")
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(resp.text)
    route = 'route="/api/v1/public/events/{code}"'
    counted = [
        v for k, v in samples.items() if k.startswith("shiyu_http_requests_total") and route in k
    ]
    assert sum(counted) >= 3
    assert code not in resp.text  # the template, never the concrete path
    inf = next(k for k in samples if "duration_seconds_bucket" in k and route in k and "+Inf" in k)
    assert samples[inf] >= 3
    assert "shiyu_db_pool_checked_out" in samples
    assert any(k.startswith("shiyu_events_open{") for k in samples)


def test_other_hosts_need_the_token(settings: Settings, db: Database) -> None:
    app = create_app(settings.model_copy(update={"metrics_token": "scrape-token-123"}), database=db)
    with TestClient(app) as c:  # the test client's address is "testclient", not loopback
        assert c.get("/metrics").status_code == 403
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        ok = c.get("/metrics", headers={"Authorization": "Bearer scrape-token-123"})
    assert ok.status_code == 200
    assert "shiyu_http_requests_total" in ok.text


def test_no_token_configured_means_loopback_only(settings: Settings, db: Database) -> None:
    with TestClient(create_app(settings, database=db)) as c:
        assert c.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403


def test_jobs_are_exposed(db: Database) -> None:
    reg = Registry()
    reg.observe_job("events.sweep", 0.25, ok=True)
    reg.observe_job("events.sweep", 0.5, ok=False)
    samples = _samples(render(db, reg))
    assert samples['shiyu_job_runs_total{job="events.sweep",outcome="ok"}'] == 1
    assert samples['shiyu_job_runs_total{job="events.sweep",outcome="error"}'] == 1
    assert samples['shiyu_job_last_duration_seconds{job="events.sweep"}'] == 0.5
    assert 'shiyu_job_last_run_timestamp_seconds{job="events.sweep",outcome="error"}' in samples


def test_intake_group_commit_is_counted(client: httpx.Client, world: World) -> None:
    """Reports stored through the group commit, and the transactions that stored them."""

    def counters() -> tuple[float, float]:
        samples = _samples(client.get("/metrics").text)
        return samples["shiyu_intake_reports_total"], samples["shiyu_intake_batches_total"]

    reports, batches = counters()
    lng, lat = world.city.centres[world.grid_a]
    for i in range(3):
        created = client.post(
            "/api/v1/public/events",
            json={"title": f"路灯不亮{i}", "lng": lng, "lat": lat, "reporter_phone": "13900000003"},
        )
        assert created.status_code == 201, created.text
    after_reports, after_batches = counters()
    assert after_reports == reports + 3
    assert batches < after_batches <= batches + 3

"""Work lists: filters, sort orders with keyset pagination, and the to-do list with counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from shiyu.config import Settings
from shiyu.events import service
from shiyu.events.models import Event
from shiyu.events.schemas import ActionIn
from tests.factories.events import actor_of, create_event
from tests.factories.world import World

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 China time, a Monday
URGENCY_RANK = {"emergency": 0, "urgent": 1, "normal": 2}


@dataclass
class Batch:
    events: list[Event]
    by_title: dict[str, Event]


def _make(session: Session, settings: Settings, world: World, title: str, **kw: Any) -> Event:
    kw.setdefault("category_code", None)
    return create_event(session, settings, world, title=title, description="", address="", **kw)


@pytest.fixture
def batch(session: Session, settings: Settings, world: World) -> Batch:
    """Events in street A with distinct attributes, some sharing a report time (ties), some
    dispatched (deadlines, some equal, some overdue), one in street B."""
    lng_b, lat_b = world.city.centres[world.grid_b]
    specs: list[tuple[str, dict[str, Any]]] = [
        ("井盖一", {"reported_at": T0, "category_code": "BJ0101"}),
        ("井盖二", {"reported_at": T0, "urgency": "normal", "category_code": "BJ0101"}),
        ("路灯", {"reported_at": T0, "channel": "hotline_12345", "category_code": "BJ0103"}),
        ("垃圾", {"reported_at": T0 + timedelta(hours=1), "category_code": "SJ0101"}),
        ("火情", {"reported_at": T0 + timedelta(hours=2), "urgency": "emergency"}),
        ("积水", {"reported_at": T0 + timedelta(days=3), "urgency": "emergency"}),
        ("广告", {"reported_at": T0 + timedelta(days=3), "channel": "department"}),
        ("护栏", {"reported_at": T0 + timedelta(days=5), "urgency": "urgent"}),
        ("游商", {"reported_at": T0 + timedelta(days=6), "owner_code": world.street_a}),
        ("乙街", {"reported_at": T0, "lng": lng_b, "lat": lat_b}),
    ]
    events = [_make(session, settings, world, title, **kw) for title, kw in specs]
    by_title = {e.title: e for e in events}
    # dispatched: two at the same moment (equal deadlines), one long ago (overdue)
    for title, at in (("井盖一", T0), ("井盖二", T0), ("护栏", T0 + timedelta(days=10))):
        _dispatch(session, settings, world, by_title[title], at)
    now = datetime.now(UTC)
    _dispatch(session, settings, world, by_title["广告"], now - timedelta(hours=1))
    for event in events:
        service.refresh_light(event, now, settings)
    session.flush()
    return Batch(events, by_title)


def _dispatch(
    session: Session, settings: Settings, world: World, event: Event, at: datetime
) -> None:
    actor = actor_of(world, "dispatcher")
    for data in (
        ActionIn(action="accept"),
        ActionIn(action="dispatch", lead_department_id=world.dep_a.id),
    ):
        service.apply_transition(session, settings, event, actor, data, now=at)


def _titles(resp: httpx.Response) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [item["title"] for item in resp.json()["items"]]


def _get(client: httpx.Client, headers: dict[str, str], **params: Any) -> httpx.Response:
    return client.get("/api/v1/events", params=params, headers=headers)


MINE = {"井盖一", "井盖二", "路灯", "垃圾", "火情", "积水", "广告", "护栏", "游商"}


class TestFilters:
    def test_scope_only_own_street(self, client: httpx.Client, world: World, batch: Batch) -> None:
        titles = set(_titles(_get(client, world.headers(client, "dispatcher"), size=200)))
        assert titles >= MINE
        assert "乙街" not in titles

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"status": "dispatched"}, {"井盖一", "井盖二", "护栏", "广告", "占道经营"}),
            ({"status": ["reported", "dispatched"]}, MINE | {"占道经营"}),
            ({"category_code": "BJ01"}, {"井盖一", "井盖二", "路灯"}),
            ({"category_code": "BJ0103"}, {"路灯"}),
            ({"channel": "hotline_12345"}, {"路灯"}),
            ({"urgency": "emergency"}, {"火情", "积水"}),
            ({"overdue": "true"}, {"井盖一", "井盖二", "护栏"}),
            ({"light": "red"}, {"井盖一", "井盖二", "护栏"}),
            ({"light": "green"}, {"广告", "占道经营"}),
            ({"q": "井盖"}, {"井盖一", "井盖二"}),
        ],
    )
    def test_filter(
        self,
        client: httpx.Client,
        world: World,
        batch: Batch,
        params: dict[str, Any],
        expected: set[str],
    ) -> None:
        titles = _titles(_get(client, world.headers(client, "dispatcher"), size=200, **params))
        assert set(titles) == expected

    def test_not_overdue_is_the_complement(
        self, client: httpx.Client, world: World, batch: Batch
    ) -> None:
        headers = world.headers(client, "dispatcher")
        every = set(_titles(_get(client, headers, size=200)))
        late = set(_titles(_get(client, headers, size=200, overdue="true")))
        on_time = set(_titles(_get(client, headers, size=200, overdue="false")))
        assert late and on_time and late | on_time == every and not late & on_time

    def test_period_is_half_open_and_naive_means_china_time(
        self, client: httpx.Client, world: World, batch: Batch
    ) -> None:
        headers = world.headers(client, "dispatcher")
        # T0 is 10:00 in China: [10:00, 12:00) China time holds T0 and T0+1h, not T0+2h
        resp = _get(
            client, headers, reported_from="2025-03-03T10:00:00", reported_to="2025-03-03T12:00:00"
        )
        assert set(_titles(resp)) == {"井盖一", "井盖二", "路灯", "垃圾"}
        resp = _get(client, headers, reported_from=(T0 + timedelta(days=3)).isoformat())
        assert set(_titles(resp)) >= {"积水", "广告", "护栏", "游商"}
        assert "火情" not in set(_titles(resp))

    def test_jurisdiction_subtree(self, client: httpx.Client, world: World, batch: Batch) -> None:
        headers = world.headers(client, "dispatcher")
        community = world.grid_a[:12]
        titles = set(_titles(_get(client, headers, size=200, jurisdiction_code=community)))
        assert titles >= MINE
        sibling = next(
            g for g in world.city.grids if g.startswith(world.street_a[:9]) and g != world.grid_a
        )
        assert _titles(_get(client, headers, jurisdiction_code=sibling)) == []
        resp = _get(client, headers, jurisdiction_code=world.street_b)
        assert resp.status_code == 404

    def test_department_filter(self, client: httpx.Client, world: World, batch: Batch) -> None:
        headers = world.headers(client, "dispatcher")
        titles = set(_titles(_get(client, headers, size=200, department_id=world.dep_a.id)))
        assert titles == {"井盖一", "井盖二", "护栏", "广告", "占道经营"}

    def test_filters_combine(self, client: httpx.Client, world: World, batch: Batch) -> None:
        headers = world.headers(client, "dispatcher")
        resp = _get(client, headers, category_code="BJ01", status="reported")
        assert _titles(resp) == ["路灯"]

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            (
                {"reported_from": "2026-03-02T00:00:00Z", "reported_to": "2026-03-01T00:00:00Z"},
                "reported_to",
            ),
            ({"sort": "title"}, "sort"),
            ({"status": "nonsense"}, "status"),
            ({"urgency": "soon"}, "urgency"),
            ({"jurisdiction_code": "abc"}, "jurisdiction_code"),
            ({"cursor": "not-a-cursor"}, "cursor"),
            ({"size": 0}, "size"),
        ],
    )
    def test_bad_input_names_the_field(
        self, client: httpx.Client, world: World, params: dict[str, Any], field: str
    ) -> None:
        resp = _get(client, world.headers(client, "dispatcher"), **params)
        assert resp.status_code == 422, resp.text
        locs = [d.get("loc", []) for d in resp.json()["error"]["details"]]
        assert any(field in loc for loc in locs), resp.text


def _sort_key(sort: str, e: dict[str, Any]) -> tuple[Any, ...]:
    def ts(value: str | None) -> float:
        return datetime.fromisoformat(value).timestamp() if value else float("inf")

    if sort == "reported_at":
        return (-ts(e["reported_at"]), -e["id"])
    if sort == "reported_at_asc":
        return (ts(e["reported_at"]), e["id"])
    if sort == "finish_deadline":
        return (ts(e["finish_deadline"]), e["id"])
    if sort == "urgency":
        return (URGENCY_RANK[e["urgency"]], -ts(e["reported_at"]), -e["id"])
    raise AssertionError(sort)


def _walk(
    client: httpx.Client, headers: dict[str, str], path: str, size: int, **params: Any
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        query = {**params, "size": size, **({"cursor": cursor} if cursor else {})}
        resp = client.get(path, params=query, headers=headers)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


class TestSortAndPagination:
    @pytest.mark.parametrize(
        "sort", ["reported_at", "reported_at_asc", "finish_deadline", "urgency", "updated_at"]
    )
    @pytest.mark.parametrize("size", [1, 3])
    def test_pages_cover_every_row_once_in_order(
        self, client: httpx.Client, world: World, batch: Batch, sort: str, size: int
    ) -> None:
        headers = world.headers(client, "dispatcher")
        whole = _titles(_get(client, headers, sort=sort, size=200))
        walked = _walk(client, headers, "/api/v1/events", size, sort=sort)
        titles = [item["title"] for item in walked]
        assert titles == whole
        assert len({item["id"] for item in walked}) == len(walked)
        if sort != "updated_at":
            assert walked == sorted(walked, key=lambda e: _sort_key(sort, e))

    def test_default_is_newest_first(
        self, client: httpx.Client, world: World, batch: Batch
    ) -> None:
        items = _get(client, world.headers(client, "dispatcher"), size=200).json()["items"]
        assert items == sorted(items, key=lambda e: _sort_key("reported_at", e))

    def test_finish_deadline_puts_events_without_one_last(
        self, client: httpx.Client, world: World, batch: Batch
    ) -> None:
        items = _get(
            client, world.headers(client, "dispatcher"), sort="finish_deadline", size=200
        ).json()["items"]
        deadlines = [i["finish_deadline"] for i in items]
        first_none = deadlines.index(None)
        assert all(d is not None for d in deadlines[:first_none])
        assert all(d is None for d in deadlines[first_none:])
        assert [i["title"] for i in items[:2]] == ["井盖一", "井盖二"]  # equal deadlines: by id

    def test_updated_at_puts_the_last_changed_first(
        self, client: httpx.Client, world: World, batch: Batch, session: Session
    ) -> None:
        headers = world.headers(client, "dispatcher")
        target = batch.by_title["垃圾"]
        resp = client.post(
            f"/api/v1/events/{target.code}/actions", json={"action": "accept"}, headers=headers
        )
        assert resp.status_code == 200, resp.text
        assert _titles(_get(client, headers, sort="updated_at", size=1)) == ["垃圾"]

    def test_cursor_of_another_sort_is_refused(
        self, client: httpx.Client, world: World, batch: Batch
    ) -> None:
        headers = world.headers(client, "dispatcher")
        cursor = _get(client, headers, sort="urgency", size=2).json()["next_cursor"]
        assert cursor
        resp = _get(client, headers, sort="reported_at", size=2, cursor=cursor)
        assert resp.status_code == 422
        error = resp.json()["error"]
        assert error["code"] == "event.cursor_sort_mismatch"
        assert error["details"][0]["loc"] == ["query", "cursor"]

    def test_tampered_cursor_is_refused(
        self, client: httpx.Client, world: World, batch: Batch
    ) -> None:
        import base64
        import json

        headers = world.headers(client, "dispatcher")
        raw = json.dumps({"s": "reported_at", "k": ["yesterday", 1]}).encode()
        resp = _get(client, headers, cursor=base64.urlsafe_b64encode(raw).decode())
        assert resp.status_code == 422
        assert resp.json()["error"]["code"] == "event.bad_cursor"

    def test_total_follows_the_filters(
        self, client: httpx.Client, world: World, batch: Batch
    ) -> None:
        headers = world.headers(client, "dispatcher")
        body = _get(client, headers, urgency="emergency", size=1, with_total="true").json()
        assert body["total"] == 2 and len(body["items"]) == 1 and body["next_cursor"]


class TestTodo:
    def test_department_todo_counts_and_lights(
        self, client: httpx.Client, world: World, batch: Batch
    ) -> None:
        headers = world.headers(client, "department_handler")
        body = client.get("/api/v1/events/todo", headers=headers).json()
        titles = [i["title"] for i in body["items"]]
        # oldest first
        assert titles == ["井盖一", "井盖二", "广告", "护栏", "占道经营"]
        assert body["counts"] == {"dispatched": 5}
        assert body["lights"] == {"red": 3, "yellow": 0}
        assert body["next_cursor"] is None

    def test_todo_filters_and_pages(self, client: httpx.Client, world: World, batch: Batch) -> None:
        headers = world.headers(client, "department_handler")
        body = client.get("/api/v1/events/todo", params={"overdue": "true"}, headers=headers).json()
        assert {i["title"] for i in body["items"]} == {"井盖一", "井盖二", "护栏"}
        assert body["lights"] == {"red": 3, "yellow": 0}
        walked = _walk(client, headers, "/api/v1/events/todo", 2, sort="finish_deadline")
        assert [i["title"] for i in walked][:3] == ["井盖一", "井盖二", "护栏"]
        assert len(walked) == 5

    def test_status_counts_ignore_the_status_filter(
        self, client: httpx.Client, world: World, batch: Batch
    ) -> None:
        headers = world.headers(client, "dispatcher")
        body = client.get(
            "/api/v1/events/todo", params={"status": "accepted"}, headers=headers
        ).json()
        assert body["items"] == []
        # 游商 is the only event owned by street A itself (the others belong to the community)
        assert body["counts"] == {"reported": 1}

    def test_todo_search(self, client: httpx.Client, world: World, batch: Batch) -> None:
        headers = world.headers(client, "department_handler")
        body = client.get("/api/v1/events/todo", params={"q": "护栏"}, headers=headers).json()
        assert [i["title"] for i in body["items"]] == ["护栏"]

    def test_no_todo_for_a_leader(self, client: httpx.Client, world: World, batch: Batch) -> None:
        body = client.get("/api/v1/events/todo", headers=world.headers(client, "leader")).json()
        assert body == {
            "counts": {},
            "lights": {"red": 0, "yellow": 0},
            "items": [],
            "next_cursor": None,
        }


def test_to_do_service_keeps_its_old_shape(
    session: Session, settings: Settings, world: World, batch: Batch
) -> None:
    counts, rows = service.todo(session, actor_of(world, "department_handler"), size=2)
    assert counts == {"dispatched": 5}
    assert [e.title for e in rows] == ["井盖一", "井盖二"]

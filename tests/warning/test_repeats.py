"""The repeated-appeal rules on hand-placed events (no database): distance, window, text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shiyu.warning.enums import RepeatKind
from shiyu.warning.repository import EventText
from shiyu.warning.service import find_repeats

T0 = datetime(2025, 5, 1, 8, tzinfo=UTC)
TEXT = "幸福小区门口垃圾堆积多日无人清理，气味难闻"
#: one metre of latitude in degrees
M = 1 / 111_320


def _e(i: int, *, lat_m: float, reporter: str, days: float, text: str = TEXT) -> EventText:
    return EventText(
        id=i,
        code=f"E{i}",
        title=text[:10],
        description=text,
        address="",
        grid_code=None,
        scope_path="/1/",
        category_code=None,
        lng=114.0,
        lat=30.0 + lat_m * M,
        reporter=reporter,
        reported_at=T0 + timedelta(days=days),
        status="reported",
    )


def _run(events: list[EventText]) -> list[tuple[str, RepeatKind, list[str]]]:
    found = find_repeats(
        events,
        start=T0 + timedelta(days=1),
        window=timedelta(days=30),
        similarity=0.5,
        radius_m=100,
    )
    return [(r.event_code, r.kind, r.previous_codes) for r in found]


def test_within_the_radius_is_the_same_place() -> None:
    assert _run([_e(1, lat_m=0, reporter="a", days=0), _e(2, lat_m=60, reporter="b", days=2)]) == [
        ("E2", RepeatKind.same_place, ["E1"])
    ]


def test_beyond_the_radius_is_not() -> None:
    assert (
        _run([_e(1, lat_m=0, reporter="a", days=0), _e(2, lat_m=150, reporter="b", days=2)]) == []
    )


def test_same_reporter_anywhere_within_the_window() -> None:
    events = [_e(1, lat_m=0, reporter="a", days=0), _e(2, lat_m=5000, reporter="a", days=20)]
    assert _run(events) == [("E2", RepeatKind.same_reporter, ["E1"])]
    late = [_e(1, lat_m=0, reporter="a", days=0), _e(2, lat_m=0, reporter="a", days=31)]
    assert _run(late) == []


def test_different_text_is_not_a_repeat() -> None:
    events = [
        _e(1, lat_m=0, reporter="a", days=0),
        _e(2, lat_m=0, reporter="a", days=2, text="咨询外地社保如何转入本市办理"),
    ]
    assert _run(events) == []


def test_only_appeals_from_start_on_are_flagged() -> None:
    events = [_e(1, lat_m=0, reporter="a", days=-5), _e(2, lat_m=0, reporter="a", days=0.5)]
    assert _run(events) == []  # both before start (T0 + 1 day)

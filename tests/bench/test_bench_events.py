"""The event-creation benchmark's bookkeeping (the benchmark itself runs in `make bench`)."""

from __future__ import annotations

import json

from bench.bench_events import _first_repeat, event_bodies
from bench.texts import APPEALS, appeal_texts


def test_the_first_repeated_text_is_found_where_the_texts_start_over() -> None:
    bodies = [
        json.dumps({"title": t, "description": "d", "lng": i, "lat": i}).encode()
        for i, t in enumerate(["a", "b", "c", "a", "b"])
    ]
    assert _first_repeat(bodies) == 3  # the place differs, the text repeats
    assert _first_repeat(bodies[:3]) == 3  # none repeats


def test_bodies_use_every_distinct_appeal_before_any_repeats() -> None:
    source, bodies = event_bodies(200, 3)
    if not APPEALS.is_file():
        assert source == "synthetic"
        return
    assert _first_repeat(bodies) == 200
    distinct = len(appeal_texts())
    _, more = event_bodies(distinct + 5, 3)
    assert _first_repeat(more) == distinct

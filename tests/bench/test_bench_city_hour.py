"""The city-hour load scenario's bookkeeping (the scenario itself runs in `make bench`)."""

from __future__ import annotations

import json
import random

from bench.bench_city_hour import Tally, resident_body
from bench.texts import APPEALS, appeal_texts, report_texts


def test_tally_counts_errors_and_percentiles() -> None:
    tally = Tally()
    for ms in range(1, 101):
        tally.add(ms / 1000, 201)
    tally.add(0.5, 500)
    tally.add(0.0, None)  # a transport failure
    summary = tally.summary(seconds=10.0)
    assert summary["requests"] == 102
    assert summary["errors"] == 2
    assert summary["exceptions"] == 1
    assert summary["per_second"] == 10.0  # only 2xx answers count as served
    assert 50 <= summary["latency_ms"]["p50"] <= 52
    assert summary["status_counts"] == {"201": 100, "500": 1}


def test_each_resident_has_their_own_phone_and_address() -> None:
    rnd = random.Random(1)
    text = ("路灯不亮", "小区门口路灯不亮")
    bodies = [json.loads(resident_body(i, (114.3, 30.6), text, rnd)) for i in range(500)]
    assert len({b["address"] for b in bodies}) == 500
    assert len({b["reporter_phone"] for b in bodies}) >= 499
    assert all(b["reporter_phone"].startswith("139") for b in bodies)
    assert all(b["title"] == "路灯不亮" for b in bodies)


def test_report_texts_are_real_appeals_when_shared_data_is_there() -> None:
    source, texts = report_texts(30, 5, synthetic_description="居民反映")
    assert len(texts) == 30 and all(title for title, _ in texts)
    if APPEALS.is_file():
        assert source.startswith("appeals (")
        assert len(set(texts)) == 30  # 30 different appeals, not one text 30 times
        every = appeal_texts()
        # every distinct text of the three files, once each: far more than dev.csv's 5,104
        assert len(every) == len(set(every)) > 10_000
        _, all_of_them = report_texts(len(every), 5, synthetic_description="")
        assert set(all_of_them) == set(every)
    else:
        assert source == "synthetic" and texts[0][1] == "居民反映"

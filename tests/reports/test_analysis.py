"""Analysis reports over the metrics data set (tests/metrics/dataset.py) plus the surge series
(tests/factories/warning.py), for the week of 2025-03-24 (Mon) to 03-30 (Sun).

Street A in that week, by hand: surge grid 1 a day on 03-24..28 + 9 on 03-29 = 14 (街面秩序);
noisy grid 6 on 03-24, 03-26, 03-28 + 7 on 03-29 = 25 (市容环境); quiet grid 4 on 03-29
(宣传广告); the data set's E9, reported 03-25 08:00 (公用设施): 44 in all. The week before:
surge grid 7 + noisy grid 6 on 03-17, 03-19, 03-21 = 25 (the data set's E6 of 03-20 is
cancelled, so not counted)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from shiyu.auth.service import actor_for
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.metrics import service as metrics
from shiyu.reports import render, service
from shiyu.reports.enums import ReportPeriod
from shiyu.warning import service as warnings
from tests.conftest import make_settings
from tests.factories.warning import DAY, create_series
from tests.factories.world import World, create_world
from tests.helpers import run_cli
from tests.metrics.dataset import build

A = "/api/v1/reports/analysis"


def _has_cjk_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(out.stdout.strip())


needs_pdf_tools = pytest.mark.skipif(
    shutil.which("pdftotext") is None or not _has_cjk_font(),
    reason="needs pdftotext (poppler-utils) and a CJK font (fonts-noto-cjk): scripts/fonts.sh",
)


@pytest.fixture
def week(session: Session, settings: Settings, world: World) -> World:
    build(session, settings, world)
    create_series(session, settings, world)
    warnings.run_surges(session, settings, day=DAY)
    session.commit()
    return world


class TestBounds:
    def test_periods(self) -> None:
        d = date(2025, 3, 29)
        assert service.bounds(ReportPeriod.day, d) == (
            d,
            date(2025, 3, 30),
            date(2025, 3, 28),
            d,
        )
        assert service.bounds(ReportPeriod.week, d) == (
            date(2025, 3, 24),
            date(2025, 3, 31),
            date(2025, 3, 17),
            date(2025, 3, 24),
        )
        assert service.bounds(ReportPeriod.quarter, d) == (
            date(2025, 1, 1),
            date(2025, 4, 1),
            date(2024, 10, 1),
            date(2025, 1, 1),
        )
        assert service.bounds(ReportPeriod.quarter, date(2025, 11, 5))[:3] == (
            date(2025, 10, 1),
            date(2026, 1, 1),
            date(2025, 7, 1),
        )


class TestContent:
    def test_week_figures(self, session: Session, settings: Settings, week: World) -> None:
        actor = actor_for(week.users["leader"], "street")
        r = service.build(
            session, settings, actor, period=ReportPeriod.week, jurisdiction_code=None, day=DAY
        )
        assert (r.total, r.previous_total) == (44, 25)
        assert "周报" in r.title and r.start == date(2025, 3, 24) and r.end == date(2025, 3, 30)
        assert [(c.name, c.count, c.previous) for c in r.categories] == [
            ("市容环境", 25, 18),
            ("街面秩序", 14, 7),
            ("宣传广告", 4, 0),
            ("公用设施", 1, 0),
        ]
        assert r.chart_current == [6 + 1, 1 + 1, 6 + 1, 1, 6 + 1, 9 + 7 + 4, 0]
        assert sum(r.chart_previous) == 25
        surge_titles = [s.title for s in r.surges]
        assert any("街面秩序" in t and "9 件" in t for t in surge_titles)
        assert all(s.day == DAY for s in r.surges)
        # the three rates are the metrics service's, for the same period
        expected = metrics.unit_metrics(
            session,
            settings,
            actor,
            start=warnings.local_midnight(r.start),
            end=warnings.local_midnight(date(2025, 3, 31)),
        ).total
        assert r.rates.satisfaction_rate == expected.rates.satisfaction_rate
        assert r.rates.callbacks == expected.counts.callbacks

    def test_html_has_every_section_and_inline_svg(
        self, session: Session, settings: Settings, week: World
    ) -> None:
        actor = actor_for(week.users["leader"], "street")
        r = service.build(
            session, settings, actor, period=ReportPeriod.week, jurisdiction_code=None, day=DAY
        )
        html = render.render_html(r)
        for heading in render.SECTIONS:
            assert f"<h2>{heading}</h2>" in html
        assert html.count("<svg") == 2 and "<script" not in html
        assert "较上期上升 76.0%" in html  # 44 vs 25
        assert "满意率" in html


class TestApi:
    def test_html(self, client: httpx.Client, week: World) -> None:
        resp = client.get(
            A,
            params={"period": "week", "date": "2025-03-29"},
            headers=week.headers(client, "dispatcher"),
        )
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("text/html")
        assert "一、总体态势" in resp.text and "本期共受理诉求 <b>44</b> 件" in resp.text

    @needs_pdf_tools
    def test_pdf_text_has_the_chinese_headings(
        self, client: httpx.Client, week: World, tmp_path: Path
    ) -> None:
        resp = client.get(
            A,
            params={"period": "week", "date": "2025-03-29", "format": "pdf"},
            headers=week.headers(client, "leader"),
        )
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"] == "application/pdf"
        assert resp.content.startswith(b"%PDF")
        pdf = tmp_path / "r.pdf"
        pdf.write_bytes(resp.content)
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        for heading in ("一、总体态势", "三、热点问题", "六、三率情况", "研判周报"):
            assert heading in text

    def test_bad_input_names_the_field(self, client: httpx.Client, world: World) -> None:
        h = world.headers(client, "leader")
        bad_period = client.get(A, params={"period": "month"}, headers=h)
        assert bad_period.status_code == 422 and "period" in bad_period.text
        bad_date = client.get(A, params={"period": "day", "date": "2025-02-30"}, headers=h)
        assert bad_date.status_code == 422
        assert bad_date.json()["error"]["details"][0]["loc"] == ["query", "date"]
        bad_format = client.get(A, params={"period": "day", "format": "doc"}, headers=h)
        assert bad_format.status_code == 422 and "format" in bad_format.text

    def test_other_street_is_404(self, client: httpx.Client, world: World) -> None:
        resp = client.get(
            A,
            params={"period": "day", "jurisdiction": world.street_b},
            headers=world.headers(client, "leader"),
        )
        assert resp.status_code == 404


class TestCli:
    def test_writes_html_and_refuses_other_suffixes(
        self, fresh_database: str, tmp_path: Path
    ) -> None:
        settings = make_settings(fresh_database)
        db = Database(settings)
        try:
            with db.transaction() as session:
                world = create_world(session, settings)
        finally:
            db.dispose()
        out = tmp_path / "r.html"
        result = run_cli(
            fresh_database,
            "report",
            "analysis",
            "--period",
            "quarter",
            "--jurisdiction",
            world.street_a,
            "--date",
            "2025-03-29",
            "--out",
            str(out),
        )
        assert result.returncode == 0, result.stderr
        html = out.read_text(encoding="utf-8")
        assert "2025年第1季度" in html and all(h in html for h in render.SECTIONS)
        bad = run_cli(
            fresh_database,
            "report",
            "analysis",
            "--period",
            "day",
            "--jurisdiction",
            world.street_a,
            "--out",
            str(tmp_path / "r.docx"),
        )
        assert bad.returncode == 2 and ".html or .pdf" in bad.stderr + bad.stdout

"""Builds an analysis report (研判报告) of a day, week or quarter for one jurisdiction.

Volumes come from one grouped query; hot issues and surges from the warning service; overdue
units and the three rates from the metrics service (docs/metrics.md), for this period and the
previous one of the same length."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from shiyu.auth.access import Actor
from shiyu.config import Settings
from shiyu.errors import InvalidInput, ServiceUnavailable
from shiyu.jurisdiction import service as jurisdictions
from shiyu.jurisdiction.enums import Level
from shiyu.kit.clock import utcnow
from shiyu.metrics import service as metrics
from shiyu.metrics.schemas import MetricRates
from shiyu.reports import repository
from shiyu.reports.enums import ReportPeriod
from shiyu.reports.schemas import AnalysisReport, CategoryRow, OverdueRow, Rates, SurgeRow
from shiyu.warning import service as warnings

#: days shown by the trend chart of a daily report (one day alone is not a trend)
DAY_CHART_DAYS = 14
TOP_CATEGORIES = 8
TOP_OVERDUE = 10
UNCATEGORISED = "未分类"


class PdfUnavailable(ServiceUnavailable):
    code = "report.pdf_unavailable"
    message = "PDF 生成组件不可用（需要 WeasyPrint 与 Pango），请改用 HTML 格式"


def bounds(period: ReportPeriod, day: date) -> tuple[date, date, date, date]:
    """(start, end, previous start, previous end) of the period containing `day`; ends are
    exclusive. Weeks start on Monday; quarters are calendar quarters."""
    if period is ReportPeriod.day:
        return day, day + timedelta(days=1), day - timedelta(days=1), day
    if period is ReportPeriod.week:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7), start - timedelta(days=7), start
    q = (day.month - 1) // 3
    start = date(day.year, 3 * q + 1, 1)
    end = date(day.year + 1, 1, 1) if q == 3 else date(day.year, 3 * q + 4, 1)
    prev = date(day.year - 1, 10, 1) if q == 0 else date(day.year, 3 * q - 2, 1)
    return start, end, prev, start


def _period_label(period: ReportPeriod, start: date, end: date) -> str:
    if period is ReportPeriod.day:
        return f"{start.year}年{start.month}月{start.day}日"
    if period is ReportPeriod.quarter:
        return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
    last = end - timedelta(days=1)
    return f"{start.year}年{start.month}月{start.day}日—{last.month}月{last.day}日"


def build(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    period: ReportPeriod,
    jurisdiction_code: str | None,
    day: date | None = None,
) -> AnalysisReport:
    """The report of the period containing `day` (default: yesterday, the last full day)."""
    now = utcnow()
    day = day or warnings.local_today(now) - timedelta(days=1)
    code = jurisdiction_code or actor.jurisdiction_code
    unit = jurisdictions.get_readable_unit(session, actor, code)
    start, end, prev_start, prev_end = bounds(period, day)
    chart_from = min(prev_start, start - timedelta(days=DAY_CHART_DAYS - 1))
    rows = repository.counts_by_day_and_category(
        session,
        path=unit.path,
        start=warnings.local_midnight(chart_from),
        end=warnings.local_midnight(end),
    )
    per_day: dict[date, int] = defaultdict(int)
    for d, _, n in rows:
        per_day[d] += n
    labels, current, previous, names = _chart(period, per_day, start, end, prev_start)
    hot = warnings.hot_issues(
        session,
        settings,
        actor,
        start=warnings.local_midnight(start),
        end=warnings.local_midnight(end),
        jurisdiction_code=unit.code,
        top=5,
    )
    surges = warnings.warnings_between(
        session, actor, path=unit.path, day_from=start, day_to=end - timedelta(days=1)
    )
    departments, units, rates_now = _metrics(
        session, settings, actor, unit.code, unit.level, start, end
    )
    _, _, rates_before = _metrics(
        session, settings, actor, unit.code, unit.level, prev_start, prev_end, details=False
    )
    return AnalysisReport(
        title=f"{unit.name}社会治理研判{period.label_zh}（{_period_label(period, start, end)}）",
        period=period,
        scope_code=unit.code,
        scope_name=unit.name,
        start=start,
        end=end - timedelta(days=1),
        previous_start=prev_start,
        previous_end=prev_end - timedelta(days=1),
        generated_at=now,
        total=sum(n for d, n in per_day.items() if start <= d < end),
        previous_total=sum(n for d, n in per_day.items() if prev_start <= d < prev_end),
        chart_labels=labels,
        chart_current=current,
        chart_previous=previous,
        chart_current_name=names[0],
        chart_previous_name=names[1],
        categories=_categories(session, rows, start, end, prev_start, prev_end),
        hot_issues=hot.items,
        hot_truncated=hot.truncated,
        surges=[
            SurgeRow(
                day=w.day,
                title=w.title,
                count=w.count,
                baseline_mean=w.baseline_mean,
                p_value=w.p_value,
                status=w.status,
            )
            for w in surges
        ],
        overdue_departments=departments,
        overdue_units=units,
        rates=rates_now,
        previous_rates=rates_before,
    )


def _chart(
    period: ReportPeriod, per_day: dict[date, int], start: date, end: date, prev_start: date
) -> tuple[list[str], list[int], list[int], tuple[str, str]]:
    """A daily report shows the last 14 days (one line); longer periods show this period and
    the previous one day by day, aligned on the period's first day."""
    if period is ReportPeriod.day:
        days = [end - timedelta(days=k) for k in range(DAY_CHART_DAYS, 0, -1)]
        return (
            [f"{d.month}/{d.day}" for d in days],
            [per_day.get(d, 0) for d in days],
            [],
            (
                f"近{DAY_CHART_DAYS}日",
                "",
            ),
        )
    n = (end - start).days
    days = [start + timedelta(days=k) for k in range(n)]
    before = [prev_start + timedelta(days=k) for k in range(n)]
    return (
        [f"{d.month}/{d.day}" for d in days],
        [per_day.get(d, 0) for d in days],
        [per_day.get(d, 0) for d in before],
        ("本期", "上期"),
    )


def _categories(
    session: Session,
    rows: list[tuple[date, str | None, int]],
    start: date,
    end: date,
    prev_start: date,
    prev_end: date,
) -> list[CategoryRow]:
    parents = repository.first_level_categories(session)
    now: dict[str, int] = defaultdict(int)
    before: dict[str, int] = defaultdict(int)
    names: dict[str, str] = {"": UNCATEGORISED}
    for d, category, n in rows:
        top, name = parents.get(category or "", ("", UNCATEGORISED))
        names[top] = name
        if start <= d < end:
            now[top] += n
        elif prev_start <= d < prev_end:
            before[top] += n
    ranked = sorted(now, key=lambda c: (-now[c], c))[:TOP_CATEGORIES]
    return [
        CategoryRow(code=c or "-", name=names[c], count=now[c], previous=before.get(c, 0))
        for c in ranked
    ]


def _rates(r: MetricRates, callbacks: int) -> Rates:
    return Rates(
        callbacks=callbacks,
        response_rate=r.response_rate,
        resolution_rate=r.resolution_rate,
        satisfaction_rate=r.satisfaction_rate,
    )


def _metrics(
    session: Session,
    settings: Settings,
    actor: Actor,
    code: str,
    level: str,
    start: date,
    end: date,
    *,
    details: bool = True,
) -> tuple[list[OverdueRow], list[OverdueRow], Rates]:
    """Overdue departments and units (one level below the scope) and the three rates."""
    begin, stop = warnings.local_midnight(start), warnings.local_midnight(end)
    by_department = metrics.unit_metrics(
        session, settings, actor, start=begin, end=stop, jurisdiction_code=code
    )
    rates = _rates(by_department.total.rates, by_department.total.counts.callbacks)
    if not details:
        return [], [], rates
    departments = [
        OverdueRow(
            name=i.department_name,
            due=i.counts.due,
            overdue=i.counts.overdue,
            overdue_rate=i.rates.overdue_rate,
        )
        for i in by_department.items
        if i.counts.overdue > 0
    ]
    units: list[OverdueRow] = []
    below = _level_below(level)
    if below is not None:
        by_unit = metrics.jurisdiction_metrics(
            session, settings, actor, start=begin, end=stop, level=below, jurisdiction_code=code
        )
        units = [
            OverdueRow(
                name=i.name,
                due=i.counts.due,
                overdue=i.counts.overdue,
                overdue_rate=i.rates.overdue_rate,
            )
            for i in by_unit.items
            if i.counts.overdue > 0
        ]
    key = lambda r: (-r.overdue, r.name)  # noqa: E731
    return sorted(departments, key=key)[:TOP_OVERDUE], sorted(units, key=key)[:TOP_OVERDUE], rates


def _level_below(level: str) -> Level | None:
    current = Level(level)
    if current.rank >= metrics.FINEST_LEVEL.rank:
        return None
    return list(Level)[current.rank + 1]


def parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(
            "日期格式应为 YYYY-MM-DD", details=[{"loc": ["query", "date"], "msg": "invalid date"}]
        ) from exc


def to_pdf(html_text: str) -> bytes:
    """HTML → PDF with WeasyPrint (imported here: it needs Pango, which a server may lack)."""
    try:
        import weasyprint  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:
        raise PdfUnavailable() from exc
    pdf: bytes = weasyprint.HTML(string=html_text).write_pdf()
    return pdf


def generated_at_local(value: datetime) -> str:
    local = value.astimezone(warnings.LOCAL_TZ)
    return f"{local:%Y-%m-%d %H:%M}"

"""An analysis report as one self-contained HTML page (inline CSS and SVG), printable to PDF."""

from __future__ import annotations

from html import escape

from shiyu.reports import charts
from shiyu.reports.schemas import AnalysisReport, OverdueRow
from shiyu.reports.service import generated_at_local

SECTIONS = (
    "一、总体态势",
    "二、主要问题类别",
    "三、热点问题",
    "四、异常激增预警",
    "五、超期单位",
    "六、三率情况",
)

CSS = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", serif;
       color: #222; font-size: 11pt; line-height: 1.6; max-width: 720px; margin: 0 auto; }
h1 { font-size: 18pt; text-align: center; color: #b22222; margin-bottom: 4px; }
.meta { text-align: center; color: #666; font-size: 9.5pt; margin-bottom: 18px; }
h2 { font-family: "Noto Sans CJK SC", sans-serif; font-size: 13pt; border-left: 4px solid #b22222;
     padding-left: 8px; margin-top: 22px; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; margin: 6px 0; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; }
th { background: #f4f4f4; }
td.n { text-align: right; }
.up { color: #b22222; } .down { color: #2e7d32; }
.none { color: #777; }
"""


def _change(now: float, before: float) -> str:
    if before == 0:
        return "上期为 0" if now else "与上期持平"
    pct = (now - before) / before * 100
    if abs(pct) < 0.05:
        return "与上期持平"
    word, cls = ("上升", "up") if pct > 0 else ("下降", "down")
    return f'<span class="{cls}">较上期{word} {abs(pct):.1f}%</span>'


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def render_html(report: AnalysisReport) -> str:
    r = report
    body = [
        f"<h1>{escape(r.title)}</h1>",
        f'<div class="meta">统计范围：{escape(r.scope_name)}（{r.scope_code}）　统计期：'
        f"{r.start:%Y-%m-%d} 至 {r.end:%Y-%m-%d}　对比期：{r.previous_start:%Y-%m-%d} 至 "
        f"{r.previous_end:%Y-%m-%d}　生成时间：{generated_at_local(r.generated_at)}</div>",
        _overview(r),
        _categories(r),
        _hot(r),
        _surges(r),
        _overdue(r),
        _rates_section(r),
    ]
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(r.title)}</title><style>{CSS}</style></head><body>"
        + "".join(body)
        + "</body></html>"
    )


def _overview(r: AnalysisReport) -> str:
    series = [(r.chart_current_name, r.chart_current)]
    if r.chart_previous:
        series.append((r.chart_previous_name, r.chart_previous))
    chart = charts.line_chart(r.chart_labels, series, title="每日诉求量")
    return (
        f"<h2>{SECTIONS[0]}</h2>"
        f"<p>本期共受理诉求 <b>{r.total}</b> 件，上期 {r.previous_total} 件，"
        f"{_change(r.total, r.previous_total)}。</p>{chart}"
    )


def _categories(r: AnalysisReport) -> str:
    if not r.categories:
        return f'<h2>{SECTIONS[1]}</h2><p class="none">本期无诉求。</p>'
    rows = "".join(
        f"<tr><td>{i}</td><td>{escape(c.name)}</td><td class='n'>{c.count}</td>"
        f"<td class='n'>{c.previous}</td><td>{_change(c.count, c.previous)}</td></tr>"
        for i, c in enumerate(r.categories, start=1)
    )
    chart = charts.bar_chart(
        [c.name for c in r.categories],
        [c.count for c in r.categories],
        previous=[c.previous for c in r.categories],
        title="主要类别（红：本期，灰：上期）",
    )
    return (
        f"<h2>{SECTIONS[1]}</h2>{chart}<table><tr><th>序号</th><th>类别</th><th>本期</th>"
        f"<th>上期</th><th>变化</th></tr>{rows}</table>"
    )


def _hot(r: AnalysisReport) -> str:
    if not r.hot_issues:
        return f'<h2>{SECTIONS[2]}</h2><p class="none">本期未发现多人反映的集中问题。</p>'
    rows = "".join(
        f"<tr><td>{h.rank}</td><td>{escape(h.title)}</td><td>{escape(h.place or '—')}</td>"
        f"<td class='n'>{h.messages}</td><td class='n'>{h.people}</td>"
        f"<td>{escape('、'.join(h.keywords))}</td><td class='n'>{h.score:.2f}</td></tr>"
        for h in r.hot_issues
    )
    note = "<p class='none'>注：期间诉求较多，仅对最新部分聚类。</p>" if r.hot_truncated else ""
    return (
        f"<h2>{SECTIONS[2]}</h2><table><tr><th>排名</th><th>问题</th><th>地点</th><th>件数</th>"
        f"<th>人数</th><th>关键词</th><th>热度</th></tr>{rows}</table>{note}"
    )


def _surges(r: AnalysisReport) -> str:
    if not r.surges:
        return f'<h2>{SECTIONS[3]}</h2><p class="none">本期无激增预警。</p>'
    rows = "".join(
        f"<tr><td>{s.day:%m-%d}</td><td>{escape(s.title)}</td><td class='n'>{s.count}</td>"
        f"<td class='n'>{s.baseline_mean:.1f}</td><td class='n'>{s.p_value:.1e}</td>"
        f"<td>{'已确认' if s.status == 'acknowledged' else '待处理'}</td></tr>"
        for s in r.surges
    )
    return (
        f"<h2>{SECTIONS[3]}</h2><table><tr><th>日期</th><th>预警</th><th>当日</th>"
        f"<th>基线日均</th><th>p 值</th><th>状态</th></tr>{rows}</table>"
    )


def _overdue_table(title: str, rows: list[OverdueRow]) -> str:
    if not rows:
        return f'<p class="none">{title}：无超期。</p>'
    body = "".join(
        f"<tr><td>{escape(o.name)}</td><td class='n'>{o.due}</td><td class='n'>{o.overdue}</td>"
        f"<td class='n'>{_rate(o.overdue_rate)}</td></tr>"
        for o in rows
    )
    return (
        f"<p>{title}</p><table><tr><th>单位</th><th>应结案</th><th>超期</th><th>超期率</th></tr>"
        f"{body}</table>"
    )


def _overdue(r: AnalysisReport) -> str:
    return (
        f"<h2>{SECTIONS[4]}</h2>"
        + _overdue_table("承办部门", r.overdue_departments)
        + _overdue_table("下级辖区", r.overdue_units)
    )


def _rates_section(r: AnalysisReport) -> str:
    def row(name: str, now: float | None, before: float | None) -> str:
        change = "—" if now is None or before is None else _change(now, before)
        return (
            f"<tr><td>{name}</td><td class='n'>{_rate(now)}</td>"
            f"<td class='n'>{_rate(before)}</td><td>{change}</td></tr>"
        )

    a, b = r.rates, r.previous_rates
    return (
        f"<h2>{SECTIONS[5]}</h2><p>本期有效回访 {a.callbacks} 次（上期 {b.callbacks} 次）；"
        "口径见 docs/metrics.md。</p>"
        "<table><tr><th>指标</th><th>本期</th><th>上期</th><th>变化</th></tr>"
        + row("响应率", a.response_rate, b.response_rate)
        + row("解决率", a.resolution_rate, b.resolution_rate)
        + row("满意率", a.satisfaction_rate, b.satisfaction_rate)
        + "</table>"
    )

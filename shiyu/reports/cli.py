"""`shiyu report analysis`: write an analysis report (研判报告) to an HTML or PDF file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from shiyu.config import get_settings
from shiyu.reports.enums import ReportPeriod

app = typer.Typer(no_args_is_help=True, help="Analysis reports (研判报告).")


def _database() -> Any:
    from shiyu.db import Database
    from shiyu.models import load_all

    load_all()
    return Database(get_settings())


@app.command("analysis")
def analysis(
    period: Annotated[ReportPeriod, typer.Option(help="day, week or quarter")],
    jurisdiction: Annotated[str, typer.Option(help="Code of the unit reported on")],
    out: Annotated[Path, typer.Option(help="Output file: .html or .pdf")],
    day: Annotated[
        str | None,
        typer.Option("--date", help="A day in the period (YYYY-MM-DD); default yesterday"),
    ] = None,
) -> None:
    """Write the report of the period containing --date for --jurisdiction."""
    from shiyu.auth.access import system_actor
    from shiyu.errors import ShiyuError
    from shiyu.jurisdiction import service as jurisdictions
    from shiyu.reports import render, service

    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise typer.BadParameter("--out must end in .html or .pdf")
    try:
        when = date.fromisoformat(day) if day else None
    except ValueError as exc:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {day}") from exc
    settings = get_settings()
    db = _database()
    try:
        with db.transaction(write=False) as session:
            root = jurisdictions.get_root(session)
            actor = system_actor(root.code, root.path) if root else system_actor()
            report = service.build(
                session,
                settings,
                actor,
                period=period,
                jurisdiction_code=jurisdiction,
                day=when,
            )
        html_text = render.render_html(report)
        data = service.to_pdf(html_text) if suffix == ".pdf" else html_text.encode("utf-8")
    except ShiyuError as exc:
        typer.echo(json.dumps(exc.body(), ensure_ascii=False))
        raise typer.Exit(2) from exc
    finally:
        db.dispose()
    out.write_bytes(data)
    typer.echo(
        json.dumps({"out": str(out), "bytes": len(data), "title": report.title}, ensure_ascii=False)
    )

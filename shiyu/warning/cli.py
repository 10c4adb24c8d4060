"""`shiyu warnings ...`: run the surge job for a day, list hot issues of a CSV or the database."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from shiyu.config import get_settings

app = typer.Typer(no_args_is_help=True, help="Early warning: surges, hot issues (预警、热点).")


def _database() -> Any:
    from shiyu.db import Database
    from shiyu.models import load_all

    load_all()
    return Database(get_settings())


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {value}") from exc


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not a date or time (ISO 8601): {value}") from exc


@app.command("run")
def run(
    day: Annotated[
        str | None,
        typer.Option(help="Judge this local day (YYYY-MM-DD); default: yesterday and today"),
    ] = None,
) -> None:
    """Detect surges (idempotent: a surge is stored and notified once); prints a JSON report."""
    from shiyu.warning import jobs

    days = [_day(day)] if day else None
    db = _database()
    try:
        report = jobs.run(db, get_settings(), days=days)
    finally:
        db.dispose()
    typer.echo(report.model_dump_json())
    if not report.ran:
        raise typer.Exit(3)  # another process holds the lease


@app.command("hot")
def hot_issues(
    csv: Annotated[
        Path | None,
        typer.Option("--csv", help="Messages CSV (subject, detail[, user, time, likes])"),
    ] = None,
    top: Annotated[int, typer.Option(min=1, max=500)] = 10,
    start: Annotated[str | None, typer.Option(help="From (inclusive), ISO date or time")] = None,
    end: Annotated[str | None, typer.Option(help="To (exclusive), ISO date or time")] = None,
    jurisdiction: Annotated[
        str | None, typer.Option(help="Database mode: only events inside this unit")
    ] = None,
) -> None:
    """Print the top hot issues as JSON: of a CSV file, or of the events in the database."""
    from shiyu.warning import hot, service

    settings = get_settings()
    begin, stop = _time(start), _time(end)
    if csv is not None:
        try:
            items = service.hot_issues_from_csv(settings, csv, start=begin, end=stop, top=top)
        except (OSError, hot.CsvError) as exc:
            typer.echo(json.dumps({"error": str(exc)}, ensure_ascii=False))
            raise typer.Exit(2) from exc
        typer.echo(
            json.dumps([i.model_dump(mode="json") for i in items], ensure_ascii=False, indent=1)
        )
        return
    from shiyu.auth.access import system_actor
    from shiyu.errors import ShiyuError
    from shiyu.jurisdiction import service as jurisdictions

    db = _database()
    try:
        with db.transaction(write=False) as session:
            root = jurisdictions.get_root(session)
            actor = system_actor(root.code, root.path) if root else system_actor()
            report = service.hot_issues(
                session,
                settings,
                actor,
                start=begin,
                end=stop,
                jurisdiction_code=jurisdiction,
                top=top,
            )
    except ShiyuError as exc:
        typer.echo(json.dumps(exc.body(), ensure_ascii=False))
        raise typer.Exit(2) from exc
    finally:
        db.dispose()
    typer.echo(report.model_dump_json(indent=1))

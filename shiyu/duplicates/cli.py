"""`shiyu duplicates ...`: evaluation on labelled real data, and backfilling the index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shiyu.config import get_settings

app = typer.Typer(no_args_is_help=True, help="Duplicate events (工单合并).")


@app.command("evaluate")
def evaluate_command(
    data: Annotated[Path, typer.Option(help="Folder with dev.csv, hot.csv, replies.csv")],
    labels: Annotated[Path, typer.Option(help="Labelled pairs (tests/data/duplicate_pairs.csv)")],
    threshold: Annotated[
        float | None, typer.Option(help="Default: SHIYU_DUPLICATE_SIMILARITY")
    ] = None,
) -> None:
    """Precision and recall of the detector (text only) as one JSON object."""
    from shiyu.duplicates import evaluate

    try:
        result = evaluate.evaluate(
            data, labels, threshold=threshold or get_settings().duplicate_similarity
        )
    except (OSError, KeyError) as exc:
        typer.echo(json.dumps({"error": f"cannot read the data: {exc}"}, ensure_ascii=False))
        raise typer.Exit(2) from exc
    typer.echo(json.dumps(result.as_dict()))


@app.command("reindex")
def reindex_command() -> None:
    """Band keys and suggestions for open events that have none (created before duplicate
    search was enabled). Idempotent."""
    from shiyu.db import Database
    from shiyu.duplicates import service

    settings = get_settings()
    db = Database(settings)
    with db.transaction() as session:
        done = service.index_open_events(session, settings)
    db.dispose()
    typer.echo(json.dumps({"indexed": done}))

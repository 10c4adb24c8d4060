"""`shiyu replies ...`: batch scoring of replies from a CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import typer

from shiyu.config import get_settings

app = typer.Typer(no_args_is_help=True, help="Reply quality (答复质量).")


@app.command("score")
def score_command(
    csv_file: Annotated[
        Path,
        typer.Option(
            "--csv", help="message_id, subject, detail, time, reply, reply_time (as replies.csv)"
        ),
    ],
    working_days: Annotated[int, typer.Option(min=1, max=60, help="Reply limit")] = 5,
    labels: Annotated[Path | None, typer.Option(help="message_id,label (good|poor)")] = None,
    out: Annotated[Path | None, typer.Option(help="Write one score row per reply here")] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Default: SHIYU_REPLY_QUALITY_THRESHOLD")
    ] = None,
) -> None:
    """Score every reply; print a JSON summary (and the agreement with labels, if given)."""
    from shiyu.errors import ShiyuError
    from shiyu.replies import evaluate

    limit = threshold if threshold is not None else get_settings().reply_quality_threshold
    try:
        scored = evaluate.score_csv(csv_file, working_days=working_days)
        wanted = evaluate.load_labels(labels) if labels else None
    except ShiyuError as exc:
        typer.echo(json.dumps(exc.body(), ensure_ascii=False))
        raise typer.Exit(2) from exc
    except (OSError, UnicodeDecodeError, KeyError) as exc:
        typer.echo(json.dumps({"error": f"cannot read: {exc}"}, ensure_ascii=False))
        raise typer.Exit(2) from exc
    report = evaluate.summary(scored, threshold=limit)
    if wanted is not None:
        report["agreement"] = evaluate.agreement(scored, wanted, threshold=limit)
    if out:
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["message_id", "score", "relevance", "completeness", "timeliness"])
            for s in scored:
                r = s.result
                writer.writerow([s.message_id, r.score, r.relevance, r.completeness, r.timeliness])
    typer.echo(json.dumps(report, ensure_ascii=False))

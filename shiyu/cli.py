"""The `shiyu` command: database, server, demo city, jurisdictions and audit."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from shiyu.config import get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Shiyu 市域社会治理平台")
db_app = typer.Typer(no_args_is_help=True, help="Database schema (Alembic migrations).")
jur_app = typer.Typer(no_args_is_help=True, help="Jurisdictions and grids (GeoJSON).")
audit_app = typer.Typer(no_args_is_help=True, help="The action trail (留痕).")
app.add_typer(db_app, name="db")
app.add_typer(jur_app, name="jurisdictions")
app.add_typer(audit_app, name="audit")


def _prepare_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)


def _database() -> Any:
    from shiyu.db import Database
    from shiyu.models import load_all

    load_all()
    return Database(get_settings())


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "heads") -> None:
    """Apply migrations up to REVISION (default: every head)."""
    from shiyu import migrate

    url = get_settings().database_url
    _prepare_sqlite_dir(url)
    migrate.upgrade(url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ('base' removes everything)."""
    from shiyu import migrate

    migrate.downgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: Annotated[int, typer.Option(help="Processes (use several on PostgreSQL)")] = 1,
) -> None:
    """Serve the API (and the web app) on http://HOST:PORT."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "shiyu.app:serve_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


@app.command()
def demo(
    seed: Annotated[int | None, typer.Option(help="Seed of the synthetic city")] = None,
) -> None:
    """Build (idempotently) the synthetic demo city and print how to log in."""
    from shiyu import migrate
    from shiyu.demo import service as demo_service

    settings = get_settings()
    _prepare_sqlite_dir(settings.database_url)
    migrate.upgrade(settings.database_url)
    db = _database()
    with db.transaction() as session:
        result = demo_service.build(
            session,
            seed=settings.demo_seed if seed is None else seed,
            password=settings.demo_password,
        )
    db.dispose()
    typer.echo(demo_service.describe(result, settings))


@jur_app.command("import")
def jurisdictions_import(file: Path) -> None:
    """Import a GeoJSON FeatureCollection; nothing is written unless every feature is valid."""
    from shiyu.auth.access import system_actor
    from shiyu.jurisdiction import service
    from shiyu.jurisdiction.schemas import FeatureCollectionIn

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        body = FeatureCollectionIn.model_validate(data)
    except (OSError, ValueError) as exc:
        typer.echo(json.dumps({"error": f"cannot read {file}: {exc}"}, ensure_ascii=False))
        raise typer.Exit(2) from exc
    db = _database()
    try:
        with db.transaction() as session:
            report = service.import_features(
                session,
                system_actor(),
                body.features,
                source_fingerprint=service.fingerprint(data),
            )
    except service.ImportRejected as exc:
        typer.echo(json.dumps(exc.body(), ensure_ascii=False, indent=1))
        raise typer.Exit(1) from exc
    typer.echo(report.model_dump_json())


@jur_app.command("export")
def jurisdictions_export(
    out: Annotated[Path | None, typer.Option("--out", "-o")] = None,
    root: Annotated[str | None, typer.Option(help="Export only this unit's subtree")] = None,
) -> None:
    """Export the tree as a GeoJSON FeatureCollection (stdout or --out FILE)."""
    from shiyu.auth.access import system_actor
    from shiyu.jurisdiction import service

    db = _database()
    with db.transaction(write=False) as session:
        collection = service.export(session, system_actor(), root=root)
    text = collection.model_dump_json()
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{len(collection.features)} features written to {out}")
    else:
        sys.stdout.write(text + "\n")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain; exit 1 and name the first broken record if it was tampered with."""
    from shiyu.audit import service

    db = _database()
    with db.transaction(write=False) as session:
        report = service.verify(session)
    typer.echo(report.model_dump_json())
    if not report.ok:
        raise typer.Exit(1)


def main() -> None:
    from pydantic import ValidationError

    try:
        get_settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        typer.echo(f"shiyu: invalid settings: {problems}", err=True)
        raise SystemExit(2) from None
    app()


if __name__ == "__main__":
    main()

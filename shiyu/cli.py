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
sensors_app = typer.Typer(no_args_is_help=True, help="Sensor and video alarm sources (webhook).")
app.add_typer(sensors_app, name="sensors")
open311_app = typer.Typer(no_args_is_help=True, help="Open311 GeoReport v2 api clients.")
app.add_typer(open311_app, name="open311")
import_app = typer.Typer(no_args_is_help=True, help="Bulk intake files (12345 hotline).")
app.add_typer(import_app, name="import")


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
        # open streams (the command centre's SSE) are cancelled after this on shutdown
        timeout_graceful_shutdown=5,
    )


@app.command()
def openapi(
    out: Annotated[Path | None, typer.Option(help="Write here instead of standard output")] = None,
) -> None:
    """Print the OpenAPI document (the web app's typed client is generated from it)."""
    from shiyu.app import create_app

    text = json.dumps(create_app().openapi(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"OpenAPI document written to {out}")


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
            open311_key=settings.demo_open311_key,
            settings=settings,
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


def _print_secret(source: Any, secret: str) -> None:
    from shiyu.intake.sensors import SIGNING_HELP

    out = {
        "code": source.code,
        "secret": secret,
        "webhook_path": f"/api/v1/intake/alarms/{source.code}",
    }
    typer.echo(json.dumps({**out, "signing": SIGNING_HELP}, ensure_ascii=False))


@sensors_app.command("create-source")
def sensors_create_source(
    code: str,
    name: Annotated[str, typer.Option(help="Display name, e.g. 工地扬尘监测网")],
    kind: Annotated[str, typer.Option(help="sensor or video")] = "sensor",
    owner: Annotated[str | None, typer.Option(help="Receiving unit code (default: city)")] = None,
) -> None:
    """Register an alarm source and print its signing secret (shown only this once)."""
    from pydantic import ValidationError

    from shiyu.auth.access import system_actor
    from shiyu.errors import ShiyuError
    from shiyu.intake import sensors
    from shiyu.intake.sensor_schemas import SourceCreate
    from shiyu.jurisdiction.service import get_root

    db = _database()
    try:
        with db.transaction() as session:
            root = get_root(session)
            owner_code = owner or (root.code if root else "")
            data = SourceCreate.model_validate(
                {"code": code, "name": name, "kind": kind, "owner_code": owner_code}
            )
            source, secret = sensors.create_source(session, get_settings(), system_actor(), data)
    except ValidationError as exc:
        typer.echo(f"invalid source: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}", err=True)
        raise typer.Exit(2) from exc
    except ShiyuError as exc:
        typer.echo(json.dumps(exc.body(), ensure_ascii=False), err=True)
        raise typer.Exit(1) from exc
    _print_secret(source, secret)


@sensors_app.command("rotate-secret")
def sensors_rotate_secret(
    code: str,
    grace_minutes: Annotated[int, typer.Option(help="Old secret stays valid this long")] = 60,
) -> None:
    """Give a source a new secret and print it; the old one works for --grace-minutes."""
    from shiyu.auth.access import system_actor
    from shiyu.errors import ShiyuError
    from shiyu.intake import sensors

    db = _database()
    try:
        with db.transaction() as session:
            source, secret = sensors.rotate_secret(
                session, get_settings(), system_actor(), code, grace_minutes=max(grace_minutes, 0)
            )
    except ShiyuError as exc:
        typer.echo(json.dumps(exc.body(), ensure_ascii=False), err=True)
        raise typer.Exit(1) from exc
    _print_secret(source, secret)


@open311_app.command("create-client")
def open311_create_client(
    name: str,
    jurisdiction: Annotated[
        str | None, typer.Option(help="Unit receiving its reports (default: the city)")
    ] = None,
) -> None:
    """Create an Open311 api client and print its api key (shown only this once)."""
    from pydantic import ValidationError

    from shiyu.auth.access import system_actor
    from shiyu.errors import ShiyuError
    from shiyu.open311 import service
    from shiyu.open311.schemas import ClientCreate

    db = _database()
    try:
        data = ClientCreate(name=name, jurisdiction_code=jurisdiction)
        with db.transaction() as session:
            if data.jurisdiction_code:
                client, key = service.create_client(session, system_actor(), data)
            else:
                client, key = service.create_client_for_city(session, data.name)
            out = {"name": client.name, "jurisdiction_code": client.jurisdiction_code}
    except ValidationError as exc:
        typer.echo(f"invalid client: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}", err=True)
        raise typer.Exit(2) from exc
    except ShiyuError as exc:
        typer.echo(json.dumps(exc.body(), ensure_ascii=False), err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps({**out, "api_key": key, "endpoint": "/open311/v2/"}, ensure_ascii=False))


@open311_app.command("deactivate-client")
def open311_deactivate_client(name: str) -> None:
    """Stop an Open311 client's api key from working."""
    from shiyu.errors import ShiyuError
    from shiyu.open311 import service

    db = _database()
    try:
        with db.transaction() as session:
            service.deactivate_client(session, None, name)
    except ShiyuError as exc:
        typer.echo(json.dumps(exc.body(), ensure_ascii=False), err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps({"name": name, "is_active": False}))


@import_app.command("hotline")
def import_hotline(
    file: Path,
    mapping: Annotated[str, typer.Option("--mapping", "-m", help="Saved column mapping")],
    batch_size: Annotated[int | None, typer.Option(help="Rows committed together")] = None,
) -> None:
    """Import a 12345 export (CSV or XLSX): progress on stderr, a JSON report on stdout.
    Exit 0 when the file was processed (bad rows are listed), 2 if it could not be."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from shiyu.auth.access import system_actor
    from shiyu.errors import ShiyuError
    from shiyu.intake import hotline

    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(json.dumps({"error": f"cannot read {file}: {exc}"}, ensure_ascii=False))
        raise typer.Exit(2) from exc
    db = _database()
    columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    job_ids: list[int] = []
    with db.session() as session, Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("12345", total=None)

        def checkpoint(job: Any) -> None:
            session.commit()  # each batch is acknowledged once committed
            job_ids.append(job.id)
            bar.update(task, total=job.rows_total, completed=job.rows_done)

        try:
            report = hotline.import_file(
                session,
                get_settings(),
                system_actor(),
                mapping_name=mapping,
                filename=file.name,
                data=data,
                checkpoint=checkpoint,
                batch_size=batch_size,
            )
        except ShiyuError as exc:
            session.rollback()
            typer.echo(json.dumps(exc.body(), ensure_ascii=False))
            raise typer.Exit(2) from exc
        except BaseException as exc:
            session.rollback()
            if job_ids:
                with db.transaction() as failed:
                    hotline.fail_job(failed, job_ids[-1], repr(exc))
            raise
    db.dispose()
    typer.echo(report.model_dump_json())


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

"""The `shiyu` command: database, server, demo city, jurisdictions and audit."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from shiyu.config import get_settings
from shiyu.duplicates import cli as duplicates_cli
from shiyu.replies import cli as replies_cli
from shiyu.reports import cli as reports_cli
from shiyu.warning import cli as warnings_cli

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
classifier_app = typer.Typer(no_args_is_help=True, help="Appeal classifier (train, eval, cv).")
app.add_typer(classifier_app, name="classifier")
routing_app = typer.Typer(no_args_is_help=True, help="Routing suggestions (权责清单).")
app.add_typer(routing_app, name="routing")
app.add_typer(duplicates_cli.app, name="duplicates")
app.add_typer(replies_cli.app, name="replies")
app.add_typer(warnings_cli.app, name="warnings")
app.add_typer(reports_cli.app, name="report")
keys_app = typer.Typer(no_args_is_help=True, help="Encryption keys of personal data at rest.")
app.add_typer(keys_app, name="keys")
config_app = typer.Typer(no_args_is_help=True, help="Settings (SHIYU_* environment variables).")
app.add_typer(config_app, name="config")


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
    if settings.intake_writer == "auto":  # the web processes read it from their environment
        os.environ["SHIYU_INTAKE_WRITER"] = "process" if workers == 1 else "thread"
        get_settings.cache_clear()
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
    with db.transaction() as session:
        model = _demo_model(session, settings)
    db.dispose()
    typer.echo(demo_service.describe(result, settings))
    if model is not None:
        typer.echo(f"  分类模型 classifier: {len(model['classes'])} 类, {model['rows']} 条训练数据")


def _demo_model(session: Any, settings: Any) -> dict[str, Any] | None:
    """Train the demo's classifier from its simulated events (or SHIYU_CLASSIFIER_TRAINING_DATA)
    unless a model is active already; a bad training file must not break the demo."""
    from shiyu.classify import service as classifier
    from shiyu.errors import ShiyuError

    try:
        return classifier.ensure_demo_model(session, settings)
    except ShiyuError as exc:
        typer.echo(f"shiyu: 未训练分类模型 (no classifier trained): {exc}", err=True)
        return None


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


def _fail(exc: Exception) -> typer.Exit:
    """One line on stderr (the messages are Chinese with the English in brackets), exit 2."""
    typer.echo(f"shiyu: {exc}", err=True)
    return typer.Exit(2)


TextCols = Annotated[str, typer.Option(help="Text columns, comma-separated (subject first)")]
LabelCol = Annotated[str, typer.Option(help="Label column")]


@classifier_app.command("train")
def classifier_train(
    data: Annotated[Path, typer.Option(help="Labelled CSV or XLSX")],
    out: Annotated[Path, typer.Option(help="Model file to write")],
    text_cols: TextCols = "subject,detail",
    label_col: LabelCol = "label_l1",
    cv_folds: Annotated[int, typer.Option(help="Cross-validate first (0: no)")] = 0,
    with_corrections: Annotated[
        bool, typer.Option(help="Add dispatchers' corrections from the database")
    ] = False,
) -> None:
    """Train on a city's labelled history; prints the model's header as JSON."""
    from shiyu.classify import dataset, service
    from shiyu.errors import ShiyuError

    try:
        ds = dataset.load(data, dataset.parse_columns(text_cols), label_col)
        if with_corrections:
            _add_corrections(ds)
        model_bytes, header = service.train(ds, cv_folds=cv_folds)
    except ShiyuError as exc:
        raise _fail(exc) from exc
    out.write_bytes(model_bytes)
    summary = {**header.to_json(), "out": str(out), "bytes": len(model_bytes)}
    typer.echo(json.dumps(summary, ensure_ascii=False))


def _add_corrections(ds: Any) -> None:
    """Corrections become rows: title → first text column, description → second; the label
    is the category's name when the data names classes by name, else its code."""
    from shiyu.routing import service as routing

    db = _database()
    with db.transaction() as session:
        rows = routing.corrections(session)
    db.dispose()
    by_name = any(r["category_name"] in set(ds.labels) for r in rows)
    width = len(ds.text_cols)
    for r in rows:
        texts = [r["subject"], r["detail"], *[""] * max(width - 2, 0)][:width]
        if width == 1:
            texts = [f"{r['subject']} {r['detail']}"]
        ds.rows.append(texts)
        ds.labels.append(r["category_name"] if by_name else r["category_code"])
    typer.echo(f"added {len(rows)} corrections", err=True)


@classifier_app.command("eval")
def classifier_eval(
    model: Annotated[Path, typer.Option(help="Model file")],
    data: Annotated[Path, typer.Option(help="Labelled CSV or XLSX")],
    text_cols: Annotated[str | None, typer.Option(help="Default: the model's")] = None,
    label_col: Annotated[str | None, typer.Option(help="Default: the model's")] = None,
) -> None:
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix (JSON)."""
    from shiyu.classify import dataset, service
    from shiyu.errors import ShiyuError

    try:
        try:
            raw = model.read_bytes()
        except OSError as exc:
            raise dataset.DatasetError(f"无法读取模型文件 (cannot read {model})") from exc
        loaded = service.load_bytes(raw)
        cols = dataset.parse_columns(text_cols) if text_cols else loaded.header.text_cols
        ds = dataset.load(data, cols, label_col or loaded.header.label_col)
        result = service.evaluate(loaded.pipeline, ds)
    except ShiyuError as exc:
        raise _fail(exc) from exc
    typer.echo(json.dumps({"model_sha256": loaded.sha256, **result}, ensure_ascii=False))


@classifier_app.command("cv")
def classifier_cv(
    data: Annotated[Path, typer.Option(help="Labelled CSV or XLSX")],
    text_cols: TextCols = "subject,detail",
    label_col: LabelCol = "label_l1",
    folds: Annotated[int, typer.Option(min=2, max=20)] = 5,
    repeats: Annotated[int, typer.Option(min=1, max=20)] = 1,
    grouped: Annotated[
        bool, typer.Option(help="Keep verbatim duplicates in one fold (no leakage)")
    ] = True,
) -> None:
    """Repeated stratified k-fold cross-validation: mean ± std of macro-F1 and accuracy."""
    from shiyu.classify import dataset, evaluation
    from shiyu.errors import ShiyuError

    try:
        ds = dataset.load(data, dataset.parse_columns(text_cols), label_col)
        dataset.require_trainable(ds, min_per_class=folds)
        result = evaluation.cross_validate(
            ds.rows, ds.labels, folds=folds, repeats=repeats, grouped=grouped
        )
    except ShiyuError as exc:
        raise _fail(exc) from exc
    typer.echo(json.dumps(result, ensure_ascii=False))


@classifier_app.command("activate")
def classifier_activate(
    model: Annotated[Path, typer.Argument(help="Model file to store and activate")],
) -> None:
    """Store a model file in the database and make it the active one for every server."""
    from shiyu.classify import service
    from shiyu.errors import ShiyuError

    try:
        data = model.read_bytes()
    except OSError as exc:
        raise _fail(exc) from exc
    db = _database()
    try:
        with db.transaction() as session:
            stored = service.store(session, None, model.name, data)
            view = service.activate(session, None, stored["id"])
    except ShiyuError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()
    typer.echo(json.dumps({k: view[k] for k in ("id", "sha256", "classes")}, ensure_ascii=False))


@classifier_app.command("export-corrections")
def classifier_export_corrections(
    out: Annotated[Path, typer.Option(help="CSV to write (subject, detail, label_l1, ...)")],
) -> None:
    """Dispatchers' corrections as training rows (label_l1 is the category's name)."""
    import csv

    from shiyu.routing import service as routing

    db = _database()
    with db.transaction() as session:
        rows = routing.corrections(session)
    db.dispose()
    fields = ["subject", "detail", "label_l1", "category_code", "suggested_category", "event_id"]
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({**r, "label_l1": r["category_name"]})
    typer.echo(json.dumps({"rows": len(rows), "out": str(out)}))


@routing_app.command("accuracy")
def routing_accuracy(weeks: Annotated[int, typer.Option(min=1, max=104)] = 8) -> None:
    """Weekly accuracy of intake suggestions against dispatchers' decisions (JSON)."""
    from shiyu.routing import service as routing

    db = _database()
    with db.transaction() as session:
        report = routing.accuracy(session, weeks=weeks)
    db.dispose()
    typer.echo(report.model_dump_json())


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new key; put it first in SHIYU_ENCRYPTION_KEYS, then run `shiyu keys rotate`."""
    from shiyu.privacy import keys

    typer.echo(keys.generate_key())


@keys_app.command("rotate")
def keys_rotate(
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Rows per transaction")] = 500,
    dry_run: Annotated[bool, typer.Option(help="Count only, write nothing")] = False,
) -> None:
    """Re-encrypt personal data under the first key (idempotent, resumable, audited)."""
    from dataclasses import asdict

    from shiyu.privacy import keys

    db = _database()
    try:
        report = keys.rotate(db, get_settings(), batch_size=batch_size, dry_run=dry_run)
    except keys.RotationBusy as exc:
        typer.echo(json.dumps({"error": str(exc)}, ensure_ascii=False), err=True)
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    out = {**asdict(report), "rotated": report.rotated, "unreadable": report.unreadable}
    typer.echo(json.dumps(out, ensure_ascii=False))
    if report.unreadable:
        raise typer.Exit(3)  # some values need a key that is not configured


@app.command()
def backup(
    out: Annotated[Path, typer.Option("--out", "-o", help="Backup file to write")],
) -> None:
    """Back up the database while it runs (SQLite online backup, or pg_dump custom format)."""
    from shiyu.ops import backup as ops

    try:
        outcome = ops.backup(get_settings(), out)
    except ops.BackupError as exc:
        typer.echo(json.dumps({"error": str(exc)}, ensure_ascii=False), err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps(outcome.__dict__, ensure_ascii=False))


@app.command()
def restore(
    source: Annotated[Path, typer.Option("--from", help="Backup file made by `shiyu backup`")],
    force: Annotated[bool, typer.Option(help="Overwrite a database that holds data")] = False,
) -> None:
    """Restore a backup into the configured database (stop the servers first)."""
    from shiyu.ops import backup as ops

    try:
        outcome = ops.restore(get_settings(), source, force=force)
    except ops.BackupError as exc:
        typer.echo(json.dumps({"error": str(exc)}, ensure_ascii=False), err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps(outcome.__dict__, ensure_ascii=False))


@config_app.command("reference")
def config_reference() -> None:
    """Print the configuration reference (markdown) generated from the settings."""
    from shiyu.ops.configref import reference

    typer.echo(reference())


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

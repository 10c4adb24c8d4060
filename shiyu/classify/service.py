"""Training, evaluating and serving the classifier; the per-process model registry."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.auth.access import Actor
from shiyu.classify import dataset as datasets
from shiyu.classify import evaluation, modelfile
from shiyu.classify.models import ClassifierModel
from shiyu.classify.pipeline import PipelineConfig, TextPipeline
from shiyu.config import Settings
from shiyu.errors import Conflict, NotFound
from shiyu.kit.clock import utcnow

log = logging.getLogger("shiyu.classify")


class NoModel(Conflict):
    """No model is active: a state an administrator changes (upload, activate), not a fault
    of the server, so 409 and not 503 (the fuzzer found 503 after it deactivated the model)."""

    code = "classifier.no_model"
    message = "尚无可用的分类模型 (no classifier model is active)"


class ModelNotFound(NotFound):
    code = "classifier.model_not_found"
    message = "模型不存在 (model not found)"


# ---------------------------------------------------------------- training and evaluation


def train(
    ds: datasets.Dataset,
    *,
    config: PipelineConfig | None = None,
    cv_folds: int = 0,
) -> tuple[bytes, modelfile.ModelHeader]:
    """Fit on the whole dataset; with `cv_folds`, cross-validate first and store the figures
    in the file's header. Returns the model file's bytes."""
    datasets.require_trainable(ds, min_per_class=max(cv_folds, 1))
    config = config or PipelineConfig()
    metrics: dict[str, Any] = {}
    if cv_folds >= 2:
        metrics["cv"] = evaluation.cross_validate(
            ds.rows, ds.labels, folds=cv_folds, repeats=1, grouped=True, config=config
        )
    started = time.perf_counter()
    pipeline = TextPipeline(config).fit(ds.rows, ds.labels)
    seconds = time.perf_counter() - started
    header = modelfile.ModelHeader(
        classes=list(pipeline.classes_),
        text_cols=ds.text_cols,
        label_col=ds.label_col,
        data_sha256=ds.sha256,
        rows=len(ds),
        metrics=metrics,
        trained_at=utcnow().isoformat(timespec="seconds"),
        train_seconds=round(seconds, 2),
        config=config.to_json(),
    )
    return modelfile.dumps(header, pipeline), header


def evaluate(pipeline: TextPipeline, ds: datasets.Dataset) -> dict[str, Any]:
    return evaluation.report(ds.labels, pipeline.predict(ds.rows))


# ---------------------------------------------------------------- the loaded model


@dataclass(frozen=True)
class Prediction:
    label: str
    probability: float


@dataclass
class LoadedModel:
    token: str
    model_id: int | None
    sha256: str
    header: modelfile.ModelHeader
    pipeline: TextPipeline

    def rows_for(self, title: str, description: str) -> list[str]:
        """Map (title, description) onto the model's text columns: the first column gets
        the title, the second the description; a one-column model reads both joined."""
        n = max(len(self.header.text_cols), 1)
        if n == 1:
            return [f"{title} {description}".strip()]
        return [title, description, *[""] * (n - 2)]

    def predict_many(
        self, items: Sequence[tuple[str, str]], *, top_k: int = 3, normalised: bool = False
    ) -> list[list[Prediction]]:
        """`normalised`: (title, description) are events' stored text (`kit.text.normalise`d
        at intake), not normalised again (two of them cost a quarter of the prediction)."""
        rows = [self.rows_for(t, d) for t, d in items]
        proba = self.pipeline.predict_proba(rows, normalised=normalised)
        classes = self.pipeline.classes_
        out: list[list[Prediction]] = []
        for row in proba:
            order = np.argsort(-row)[:top_k]
            out.append([Prediction(classes[i], round(float(row[i]), 4)) for i in order])
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.model_id,
            "sha256": self.sha256,
            "classes": self.header.classes,
            "trained_at": self.header.trained_at,
            "rows": self.header.rows,
        }


def load_bytes(data: bytes, *, model_id: int | None = None) -> LoadedModel:
    header, pipeline = modelfile.loads(data)
    if not isinstance(pipeline, TextPipeline):
        raise modelfile.IncompatibleModel("模型文件不兼容：payload is not a Shiyu text pipeline")
    sha = hashlib.sha256(data).hexdigest()
    return LoadedModel(f"{model_id}:{sha}", model_id, sha, header, pipeline)


class ModelHolder:
    """The model this process serves. Compares the active row of `classifier_models` with
    what it holds at most every `classifier_check_seconds` (at once after this process
    changed it) and loads the new one when they differ, so a model activated through any
    server process is used by all of them without a restart. A model that fails to load is
    logged and skipped; the one in use stays."""

    def __init__(self) -> None:
        self._model: LoadedModel | None = None
        self._checked_at = 0.0
        self._refused: set[str] = set()
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        self._checked_at = 0.0

    def forget(self) -> None:
        """Hold no model (tests: a rolled-back activation leaves no trace in the database)."""
        with self._lock:
            self._model = None
            self._checked_at = 0.0

    def get(self, session: Session, settings: Settings) -> LoadedModel | None:
        if time.monotonic() - self._checked_at < settings.classifier_check_seconds:
            return self._model
        with self._lock:
            self._model = self._refresh(session, settings)
            self._checked_at = time.monotonic()
            return self._model

    def _refresh(self, session: Session, settings: Settings) -> LoadedModel | None:
        row = session.execute(
            select(ClassifierModel.id, ClassifierModel.sha256).where(ClassifierModel.is_active)
        ).first()
        if row is not None:
            token = f"{row.id}:{row.sha256}"
            if self._model is not None and self._model.token == token:
                return self._model
            return self._load(token, lambda: _payload(session, row.id), row.id)
        if settings.classifier_model:
            path = Path(settings.classifier_model)
            try:
                stat = path.stat()
            except OSError:
                return self._skip(f"file:{path}", f"model file {path} not found")
            token = f"file:{path}:{stat.st_mtime_ns}:{stat.st_size}"
            if self._model is not None and self._model.token == token:
                return self._model
            return self._load(token, path.read_bytes, None)
        return None

    def _skip(self, token: str, reason: str) -> LoadedModel | None:
        if token not in self._refused:
            log.warning("classifier model not loaded: %s", reason)
            self._refused.add(token)
        return self._model

    def _load(self, token: str, read: Any, model_id: int | None) -> LoadedModel | None:
        if token in self._refused:
            return self._model
        try:
            loaded = load_bytes(read(), model_id=model_id)
        except (modelfile.IncompatibleModel, OSError) as exc:
            return self._skip(token, str(exc))
        loaded.token = token
        log.info("classifier model loaded: %s", token)
        return loaded


def _payload(session: Session, model_id: int) -> bytes:
    data = session.scalar(select(ClassifierModel.payload).where(ClassifierModel.id == model_id))
    if data is None:
        raise OSError(f"model {model_id} vanished")
    return bytes(data)


#: One per process.
holder = ModelHolder()


def active(session: Session, settings: Settings) -> LoadedModel | None:
    return holder.get(session, settings)


def require_active(session: Session, settings: Settings) -> LoadedModel:
    model = active(session, settings)
    if model is None:
        raise NoModel()
    return model


# ---------------------------------------------------------------- stored models


def _view(row: ClassifierModel) -> dict[str, Any]:
    h = row.header
    return {
        "id": row.id,
        "name": row.name,
        "sha256": row.sha256,
        "size": row.size,
        "is_active": row.is_active,
        "created_at": row.created_at,
        "activated_at": row.activated_at,
        "classes": h.get("classes", []),
        "rows": h.get("rows", 0),
        "trained_at": h.get("trained_at", ""),
        "metrics": h.get("metrics", {}),
        "libraries": h.get("libraries", {}),
        "format": h.get("format"),
    }


def list_models(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(ClassifierModel).order_by(ClassifierModel.id.desc())).all()
    return [_view(r) for r in rows]


def store(session: Session, actor: Actor | None, name: str, data: bytes) -> dict[str, Any]:
    """Check (header, versions, payload hash, unpickle) and keep a model file; it is not
    active until activated."""
    loaded = load_bytes(data)
    row = ClassifierModel(
        name=name[:200] or "model",
        sha256=loaded.sha256,
        size=len(data),
        header=loaded.header.to_json(),
        payload=data,
        is_active=False,
        created_by_id=actor.user_id if actor else None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="classifier.upload",
        object_type="classifier_model",
        object_id=row.id,
        scope_path="/",
        after={"name": row.name, "sha256": row.sha256, "classes": loaded.header.classes},
    )
    return _view(row)


def activate(session: Session, actor: Actor | None, model_id: int) -> dict[str, Any]:
    """Make a stored model the one every process serves. It is loaded here first: a file
    that cannot be loaded by this installation is refused and the active model stays."""
    row = session.get(ClassifierModel, model_id)
    if row is None:
        raise ModelNotFound(details=[{"loc": ["body", "model_id"], "input": model_id}])
    load_bytes(bytes(row.payload), model_id=row.id)
    previous = session.scalar(select(ClassifierModel.id).where(ClassifierModel.is_active))
    session.execute(
        update(ClassifierModel).where(ClassifierModel.is_active).values(is_active=False)
    )
    row.is_active = True
    row.activated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="classifier.activate",
        object_type="classifier_model",
        object_id=row.id,
        scope_path="/",
        before={"active_model_id": previous},
        after={"active_model_id": row.id, "sha256": row.sha256},
    )
    holder.invalidate()
    return _view(row)


def deactivate(session: Session, actor: Actor | None) -> None:
    previous = session.scalar(select(ClassifierModel.id).where(ClassifierModel.is_active))
    if previous is None:
        return
    session.execute(
        update(ClassifierModel).where(ClassifierModel.is_active).values(is_active=False)
    )
    audit.record(
        session,
        actor=actor,
        action="classifier.deactivate",
        object_type="classifier_model",
        object_id=previous,
        scope_path="/",
        before={"active_model_id": previous},
        after={"active_model_id": None},
    )
    holder.invalidate()


def predict(
    session: Session, settings: Settings, title: str, description: str, *, top_k: int
) -> tuple[LoadedModel, list[Prediction]]:
    model = require_active(session, settings)
    return model, model.predict_many([(title, description)], top_k=top_k)[0]


def trained_at(model: LoadedModel) -> datetime | None:
    try:
        return datetime.fromisoformat(model.header.trained_at)
    except ValueError:
        return None


# ---------------------------------------------------------------- the demo's model


def _demo_dataset(session: Session, settings: Settings) -> datasets.Dataset | None:
    """The labelled CSV the settings name, else the simulated events by top-level category."""
    if settings.classifier_training_data:
        path = Path(settings.classifier_training_data)
        return datasets.load(path, ["subject", "detail"], "label_l1")
    from shiyu.events.models import Category, Event

    rows = session.execute(
        select(Event.title, Event.description, Category.code, Category.parent_code).join(
            Category, Category.code == Event.category_code
        )
    ).all()
    if not rows:
        return None
    return datasets.Dataset(
        rows=[[title, description] for title, description, _, _ in rows],
        labels=[parent or code for _, _, code, parent in rows],
        text_cols=["subject", "detail"],
        label_col="category",
        sha256=hashlib.sha256(repr(sorted(rows)).encode("utf-8")).hexdigest(),
    )


def ensure_demo_model(session: Session, settings: Settings) -> dict[str, Any] | None:
    """Give the demo an active model (once): trained at demo time, never shipped in git.
    Returns the stored model's view, or None when there is one already or nothing to learn."""
    if session.scalar(select(ClassifierModel.id).where(ClassifierModel.is_active)) is not None:
        return None
    ds = _demo_dataset(session, settings)
    if ds is None or len(set(ds.labels)) < 2:
        return None
    data, _ = train(ds)
    stored = store(session, None, "demo", data)
    return activate(session, None, stored["id"])

"""Classifier: prediction for staff, model files (upload, list, activate) for admins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile, status

from shiyu.classify import modelfile, service
from shiyu.classify.permissions import ClassifierManage, ClassifierPredict
from shiyu.classify.schemas import (
    ActivateIn,
    ClassScore,
    ModelRead,
    PredictIn,
    PredictOut,
    StatusRead,
)
from shiyu.deps import SessionDep, request_settings
from shiyu.errors import InvalidInput, error_responses
from shiyu.routing.service import category_for_label

router = APIRouter(prefix="/classifier", tags=["classifier"])

#: a model file is a few MB; anything far bigger is not one of ours
MAX_MODEL_BYTES = 200 * 1024 * 1024


@router.post(
    "/predict",
    response_model=PredictOut,
    operation_id="classifier-predict",
    responses=error_responses(service.NoModel),
)
def predict(
    request: Request, session: SessionDep, actor: ClassifierPredict, body: PredictIn
) -> PredictOut:
    """Top-k classes of one message with their probabilities (the first is the confidence)."""
    model, top = service.predict(
        session, request_settings(request), body.title, body.description, top_k=body.top_k
    )
    scores = [
        ClassScore(
            label=p.label,
            category_code=category_for_label(session, p.label),
            probability=p.probability,
        )
        for p in top
    ]
    return PredictOut(
        label=scores[0].label,
        category_code=scores[0].category_code,
        confidence=scores[0].probability,
        top=scores,
        model_id=model.model_id,
        model_sha256=model.sha256,
    )


@router.get("/status", response_model=StatusRead, operation_id="classifier-status")
def model_status(request: Request, session: SessionDep, actor: ClassifierPredict) -> StatusRead:
    """The model this server process uses now (none: suggestions and auto-dispatch are off)."""
    settings = request_settings(request)
    model = service.active(session, settings)
    return StatusRead(
        active=model is not None,
        model=model.describe() if model else None,
        auto_dispatch_threshold=settings.auto_dispatch_threshold,
    )


@router.get("/models", response_model=list[ModelRead], operation_id="classifier-list-models")
def list_models(session: SessionDep, actor: ClassifierManage) -> Any:
    return service.list_models(session)


@router.post(
    "/models",
    response_model=ModelRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="classifier-upload-model",
    responses=error_responses(modelfile.IncompatibleModel),
)
def upload_model(
    session: SessionDep,
    actor: ClassifierManage,
    file: Annotated[UploadFile, File(description="a model file from `shiyu classifier train`")],
    name: Annotated[str, Form(max_length=200)] = "",
) -> Any:
    """Store a model file (checked: header, library versions, payload hash). Model files are
    trusted artefacts: loading one runs code chosen by whoever trained it."""
    data = file.file.read(MAX_MODEL_BYTES + 1)
    if len(data) > MAX_MODEL_BYTES:
        raise InvalidInput(
            "模型文件过大",
            code="classifier.too_large",
            details=[{"loc": ["body", "file"], "msg": "file too large"}],
        )
    return service.store(session, actor, name or file.filename or "model", data)


@router.post(
    "/models/activate",
    response_model=ModelRead,
    operation_id="classifier-activate-model",
    responses=error_responses(service.ModelNotFound, modelfile.IncompatibleModel),
)
def activate_model(session: SessionDep, actor: ClassifierManage, body: ActivateIn) -> Any:
    """Make a stored model the one every server process uses (picked up within
    `SHIYU_CLASSIFIER_CHECK_SECONDS`, no restart). An incompatible file is refused and the
    active model stays."""
    return service.activate(session, actor, body.model_id)


@router.post(
    "/models/deactivate",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="classifier-deactivate-model",
)
def deactivate_model(session: SessionDep, actor: ClassifierManage) -> None:
    """No model from the database (the settings' file, if any, is used again)."""
    service.deactivate(session, actor)

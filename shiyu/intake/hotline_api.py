"""12345 hotline intake over HTTP: column mappings, file uploads and past import jobs.

Everything here needs the `hotline:import` permission and a city- or district-level centre."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from shiyu.auth.access import Actor, requires
from shiyu.deps import SessionDep, request_settings
from shiyu.errors import error_responses
from shiyu.intake import hotline
from shiyu.intake.hotline_models import HotlineImport

router = APIRouter(prefix="/intake/hotline", tags=["intake-hotline"])


async def _importer(actor: Annotated[Actor, requires(hotline.HOTLINE_IMPORT)]) -> Actor:
    """The permission, and a city or district centre: checked before the body is looked at,
    so a street-level dispatcher gets 403 whatever they send."""
    hotline.check_level(actor)
    return actor


HotlineImporter = Annotated[Actor, Depends(_importer)]


class ImportPage(BaseModel):
    items: list[hotline.ImportRead]
    total: int
    page: int
    size: int


@router.get(
    "/mappings", response_model=list[hotline.MappingRead], operation_id="hotline-list-mappings"
)
def list_mappings(session: SessionDep, actor: HotlineImporter) -> Any:
    """Saved column mappings, one per hotline source (the built-in "appeals" included)."""
    return hotline.list_mappings(session, actor)


@router.post(
    "/mappings",
    response_model=hotline.MappingRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="hotline-create-mapping",
    responses=error_responses(hotline.MappingExists, hotline.LevelRequired),
)
def create_mapping(session: SessionDep, actor: HotlineImporter, body: hotline.MappingCreate) -> Any:
    return hotline.create_mapping(session, actor, body)


@router.get(
    "/mappings/{name}",
    response_model=hotline.MappingRead,
    operation_id="hotline-get-mapping",
    responses=error_responses(hotline.MappingNotFound),
)
def get_mapping(session: SessionDep, actor: HotlineImporter, name: str) -> Any:
    return hotline.get_mapping(session, name)


@router.patch(
    "/mappings/{name}",
    response_model=hotline.MappingRead,
    operation_id="hotline-update-mapping",
    responses=error_responses(hotline.MappingNotFound, hotline.BuiltinMapping),
)
def update_mapping(
    session: SessionDep, actor: HotlineImporter, name: str, body: hotline.MappingUpdate
) -> Any:
    return hotline.update_mapping(session, actor, name, body)


@router.delete(
    "/mappings/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="hotline-delete-mapping",
    responses=error_responses(hotline.MappingNotFound, hotline.BuiltinMapping),
)
def delete_mapping(session: SessionDep, actor: HotlineImporter, name: str) -> Response:
    hotline.delete_mapping(session, actor, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _commit(session: Session) -> hotline.Checkpoint:
    """Each batch is committed as it is done: a dropped connection or a crash keeps what was
    acknowledged, and a re-upload of the same file adds nothing twice."""

    def checkpoint(_job: HotlineImport) -> None:
        session.commit()

    return checkpoint


@router.post(
    "/imports",
    response_model=hotline.ImportReport,
    status_code=status.HTTP_201_CREATED,
    operation_id="hotline-import",
    responses=error_responses(
        hotline.UnreadableFile, hotline.FileTooLarge, hotline.MappingNotFound
    ),
)
def import_file(
    request: Request,
    session: SessionDep,
    actor: HotlineImporter,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX")],
    mapping: Annotated[str, Form(max_length=64)],
) -> Any:
    """Import a hotline export. The answer lists the counts and every bad row (its number in
    the file, the header being row 1, the field and the reason); good rows are imported."""
    settings = request_settings(request)
    data = file.file.read(settings.hotline_upload_max_bytes + 1)
    if len(data) > settings.hotline_upload_max_bytes:
        raise hotline.FileTooLarge(
            f"文件超过 {settings.hotline_upload_max_bytes // (1024 * 1024)} MB",
            details=[{"loc": ["body", "file"], "msg": "too large"}],
        )
    return hotline.import_file(
        session,
        settings,
        actor,
        mapping_name=mapping,
        filename=file.filename or "",
        data=data,
        checkpoint=_commit(session),
    )


@router.get("/imports", response_model=ImportPage, operation_id="hotline-list-imports")
def list_imports(
    request: Request,
    session: SessionDep,
    actor: HotlineImporter,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    """Past import jobs in the actor's jurisdiction, newest first."""
    items, total = hotline.list_imports(
        session, request_settings(request), actor, page=page, size=size
    )
    return {"items": items, "total": total, "page": page, "size": size}


@router.get(
    "/imports/{job_id}",
    response_model=hotline.ImportDetail,
    operation_id="hotline-get-import",
    responses=error_responses(hotline.ImportNotFound),
)
def get_import(request: Request, session: SessionDep, actor: HotlineImporter, job_id: int) -> Any:
    """One job with its bad rows."""
    return hotline.get_import(session, request_settings(request), actor, job_id)

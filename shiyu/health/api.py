from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from shiyu import __version__
from shiyu.deps import SessionDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    version: str


@router.get("/healthz", response_model=Health, operation_id="health-check")
def healthz(session: SessionDep) -> JSONResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        session.execute(text("SELECT 1"))
        ok = True
    except Exception:
        ok = False
    body = Health(
        status="ok" if ok else "unavailable", database="ok" if ok else "error", version=__version__
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/api/v1/ping", include_in_schema=False)
def ping() -> dict[str, str]:
    """The trivial endpoint benchmarks use as the machine's reference."""
    return {"pong": "ok"}

"""The built web app (web/dist) at `/`, with the history fallback of a single-page app.

API paths keep priority: their routers are included first, and an unknown path under an API
prefix stays a JSON 404 instead of becoming the app's index page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, Response

from shiyu.config import Settings
from shiyu.errors import NotFound
from shiyu.landing import router as landing_router

#: Paths owned by the server, never by the web app.
SERVER_PREFIXES = ("api/", "open311/", "docs", "openapi.json", "healthz", "redoc")

#: Hashed file names (Vite puts them under assets/) never change: cache them for a year.
_IMMUTABLE = "public, max-age=31536000, immutable"
#: The index names the current hashed files, so browsers must ask for it again every time.
_REVALIDATE = "no-cache"


def dist_dir(settings: Settings) -> Path:
    if settings.web_dist:
        return Path(settings.web_dist)
    return Path(__file__).resolve().parent.parent / "web" / "dist"


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the built app when it exists; otherwise the landing page explains where to go."""
    root = dist_dir(settings)
    if not (root / "index.html").is_file():
        app.include_router(landing_router)
        return
    app.include_router(_spa_router(root.resolve()))


def _spa_router(root: Path) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    index = root / "index.html"

    @router.get("/{path:path}")
    def spa(request: Request, path: str) -> Response:
        if path.startswith(SERVER_PREFIXES) or path in {"api", "open311"}:
            raise NotFound("接口不存在", code="not_found")
        file = _static_file(root, path)
        if file is not None:
            cache = _IMMUTABLE if path.startswith("assets/") else _REVALIDATE
            return FileResponse(file, headers={"Cache-Control": cache})
        if path.startswith("assets/"):
            # a stale index asking for an old bundle: say so rather than answer with HTML
            raise NotFound("文件不存在")
        return FileResponse(index, headers={"Cache-Control": _REVALIDATE})

    return router


def _static_file(root: Path, path: str) -> Path | None:
    """The file under `root` named by `path`, refusing anything that escapes it."""
    if not path:
        return None
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate

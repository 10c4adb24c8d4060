"""The built web app (web/dist) at `/`, with the history fallback of a single-page app.

API paths keep priority: their routers are included first, and an unknown path under an API
prefix stays a JSON 404 instead of becoming the app's index page."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from shiyu.config import Settings
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
    """Serve the built app when it exists; otherwise the landing page explains where to go.

    The app is the router's fallback (what runs when no route matched), not a catch-all route,
    so every route, even one added after this, keeps priority."""
    root = dist_dir(settings)
    if not (root / "index.html").is_file():
        app.include_router(landing_router)
        return
    app.router.default = _SpaFallback(root.resolve(), app.router.default)


class _SpaFallback:
    def __init__(self, root: Path, not_found: ASGIApp) -> None:
        self.root = root
        self.index = root / "index.html"
        self.not_found = not_found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self._response(scope) if scope["type"] == "http" else None
        if response is None:
            # the app's own 404 (JSON error body) for server paths and other methods
            await self.not_found(scope, receive, send)
            return
        await response(scope, receive, send)

    def _response(self, scope: Scope) -> Response | None:
        if scope["method"] not in ("GET", "HEAD"):
            return None
        path = str(scope["path"]).lstrip("/")
        if path.startswith(SERVER_PREFIXES) or path in {"api", "open311"}:
            return None
        file = _static_file(self.root, path)
        if file is not None:
            cache = _IMMUTABLE if path.startswith("assets/") else _REVALIDATE
            return FileResponse(file, headers={"Cache-Control": cache})
        if path.startswith("assets/"):
            # a stale index asking for an old bundle: a 404 rather than an HTML page
            return None
        return FileResponse(self.index, headers={"Cache-Control": _REVALIDATE})


def _static_file(root: Path, path: str) -> Path | None:
    """The file under `root` named by `path`, refusing anything that escapes it."""
    if not path:
        return None
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate

"""Request ids, JSON access logs and error rendering (never a stack trace to a client)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shiyu.errors import ShiyuError
from shiyu.logs import request_id_var
from shiyu.privacy import views as personal_data_views

log = logging.getLogger("shiyu.http")
_RID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")

_HTTP_CODES = {
    400: "bad_request",
    401: "auth.unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}


class RequestContextMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware) so streaming and background work keep the context."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _RID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        # set here, in the request's own context, so the handler's worker threads share it
        views_token = personal_data_views.begin(scope["method"], scope["path"])
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                message["headers"] = headers
            await send(message)

        started_response = False

        async def send_tracked(message: Message) -> None:
            nonlocal started_response
            if message["type"] == "http.response.start":
                started_response = True
            await send_with_id(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception:
            # rendered here, while the request id is still known; never a trace to the client
            log.exception("unhandled error")
            if started_response:
                raise
            response = JSONResponse(
                _body("internal_error", "服务器内部错误，请联系管理员", [{"request_id": rid}]),
                status_code=500,
            )
            await response(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            request_id_var.reset(token)
            personal_data_views.end(views_token)


# A Vue SPA served from the same origin: its own scripts only; Element Plus sets inline styles;
# map and chart images come as data: and blob: URLs; nobody may frame it (clickjacking).
APP_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI (/docs) is FastAPI's page: an inline bootstrap script and its CDN assets.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data: https://fastapi.tiangolo.com; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriteLimitMiddleware:
    """At most `limit` writing requests of this process run at once; the rest wait here, in
    the event loop, not in worker threads. A writing request commits in its session's
    teardown, which needs a worker thread of its own: when every thread of the pool was taken
    by requests waiting for the database's write lock (SQLite) or for a pool connection, the
    request holding the lock could never commit, and the process stopped serving. Keeping
    writers well below the thread pool (40) and the connection pool makes that impossible."""

    def __init__(
        self, app: ASGIApp, *, limit: int, exempt: frozenset[tuple[str, str]] = frozenset()
    ) -> None:
        self.app = app
        self.limit = limit
        #: (method, path) of writing routes that hold no worker thread while they wait
        self.exempt = exempt
        self._slots: anyio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.limit <= 0
            or scope["type"] != "http"
            or scope["method"] in _READ_METHODS
            or (scope["method"], scope["path"]) in self.exempt
        ):
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # created in the server's event loop
            self._slots = anyio.Semaphore(self.limit)
        async with self._slots:
            await self.app(scope, receive, send)


def security_headers(*, https: bool, docs: bool = False) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", (DOCS_CSP if docs else APP_CSP).encode()),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(self), microphone=(), geolocation=(self)"),
    ]
    if https:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


class SecurityHeadersMiddleware:
    """The same security headers on every answer (API, SPA, errors), added at the edge so no
    route can forget them; a header a route set itself is kept."""

    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.headers = security_headers(https=https)
        self.docs_headers = security_headers(https=https, docs=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.docs_headers if scope["path"] == "/docs" else self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def allowed_methods(app: Any, path: str) -> list[str]:
    """Every method some documented operation serves at this path. Starlette's own 405 names
    only the methods of the first route whose path matched (GET where a second route serves
    PATCH), so the answer is taken from the OpenAPI document instead."""
    table: list[tuple[re.Pattern[str], int, list[str]]] | None = getattr(
        app.state, "allow_table", None
    )
    if table is None:
        table = []
        for template, item in app.openapi().get("paths", {}).items():
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            methods = sorted(m.upper() for m in item if m in _HTTP_METHODS)
            table.append((re.compile(f"^{regex}$"), template.count("{"), methods))
        app.state.allow_table = table
    matches = [(params, methods) for pattern, params, methods in table if pattern.match(path)]
    if not matches:
        return []
    # the most literal template names the resource: /jurisdictions/import, not /{code}
    fewest = min(params for params, _ in matches)
    return sorted({m for params, methods in matches if params == fewest for m in methods})


def shadowed_literals(app: Any) -> dict[str, list[str]]:
    """Literal paths (/jurisdictions/import) that a parameterised template (/jurisdictions/
    {code}) also matches, with the methods the literal one serves."""
    paths = app.openapi().get("paths", {})
    templates = [
        re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t)) + "$")
        for t in paths
        if "{" in t
    ]
    return {
        path: sorted(m.upper() for m in item if m in _HTTP_METHODS)
        for path, item in paths.items()
        if "{" not in path and any(t.match(path) for t in templates)
    }


class LiteralRouteMiddleware:
    """`GET /api/v1/jurisdictions/import` is not `GET /api/v1/jurisdictions/{code}` with the
    code "import": a path that names a resource of its own answers 405 for the methods that
    resource does not serve (found by fuzzing: the router fell through to the template)."""

    def __init__(self, app: ASGIApp, *, api: Any) -> None:
        self.app = app
        self.api = api
        self.literals: dict[str, list[str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self.literals is None:  # the lifespan normally built it already
                self.literals = getattr(self.api.state, "literal_routes", None)
                if self.literals is None:
                    self.literals = shadowed_literals(self.api)
            allowed = self.literals.get(scope["path"])
            if allowed is not None and scope["method"] not in allowed:
                response = JSONResponse(
                    _body("method_not_allowed", "Method Not Allowed"),
                    status_code=405,
                    headers={"Allow": ", ".join(allowed)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


_OUT_OF_RANGE = "输入数据超出允许范围"
# SQLSTATE classes (PostgreSQL) and the words SQLite uses for the same constraint failures
_NOT_NULL = ("23502", "NOT NULL constraint failed")
_FOREIGN_KEY = ("23503", "FOREIGN KEY constraint failed")


def integrity_answer(exc: IntegrityError) -> tuple[int, str, str]:
    """(status, code, message) for a constraint the database enforced."""
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    text = str(exc.orig)
    if sqlstate == _NOT_NULL[0] or _NOT_NULL[1] in text:
        return 422, "validation_error", "缺少必填数据"
    if sqlstate == _FOREIGN_KEY[0] or _FOREIGN_KEY[1] in text:
        return 422, "validation_error", "引用的记录不存在"
    return 409, "conflict", "与现有记录冲突"


def _body(code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def _jsonable_errors(errors: Any) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        item = {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        out.append(item)
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ShiyuError)
    async def _shiyu(_request: Request, exc: ShiyuError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            _body("validation_error", "输入数据无效", _jsonable_errors(exc.errors())),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        message = exc.detail if isinstance(exc.detail, str) else code
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
        return JSONResponse(_body(code, message), status_code=exc.status_code, headers=headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        # a safety net: services validate references and uniqueness first, so reaching here
        # means a check is missing; the client still gets a 4xx naming the problem, not a 500
        log.warning("database refused a write", exc_info=exc)
        status, code, message = integrity_answer(exc)
        return JSONResponse(_body(code, message), status_code=status)

    @app.exception_handler(DataError)
    async def _data(_request: Request, exc: DataError) -> JSONResponse:
        log.warning("database refused a value", exc_info=exc)
        return JSONResponse(_body("validation_error", _OUT_OF_RANGE), status_code=422)

    @app.exception_handler(OverflowError)
    async def _overflow(_request: Request, exc: OverflowError) -> JSONResponse:
        # SQLite cannot bind integers beyond 64 bits (e.g. an id of 40 digits in the path)
        log.warning("value out of range", exc_info=exc)
        return JSONResponse(_body("validation_error", _OUT_OF_RANGE), status_code=422)

    @app.exception_handler(OperationalError)
    async def _database_busy(_request: Request, exc: OperationalError) -> JSONResponse:
        # the database is unreachable, restarting or (SQLite) locked past the busy timeout:
        # nothing was written, and the client may retry
        log.error("database unavailable", exc_info=exc)
        return JSONResponse(
            _body("database_unavailable", "数据库暂时不可用，请稍后重试"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(
            _body(
                "internal_error",
                "服务器内部错误，请联系管理员",
                [{"request_id": request_id_var.get()}],
            ),
            status_code=500,
        )

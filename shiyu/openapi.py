"""The OpenAPI document as the server really answers.

Routes declare their domain errors (`responses=error_responses(...)`); the errors every route
shares come from layers below the handlers (the token check, path look-ups, request parsing,
our one error renderer), so they are added here once instead of in every route:

- 422 is rendered by `shiyu.middleware` as `ErrorResponse`, not FastAPI's `HTTPValidationError`;
- a route behind a token answers 401 (no or a revoked token) and 403 (missing permission);
- a route with parameters or a body answers 404 when a code or id in them names no record;
- a write answers 409 when it conflicts with existing records (the database refused it);
- a route with a body answers 400 for a body that cannot be parsed at all (e.g. a broken
  multipart stream), a file upload 413 and 415 as well; Open311 answers 400 for bad formats;
- public intake routes answer 429 (rate limits by phone, address or client IP).

Schemathesis (tests/fuzz, bench/bench_fuzz.py) checks every answer against this document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from shiyu.kit.schemas import ErrorResponse

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_JSON_ERROR = {"application/json": {"schema": ERROR_REF}}
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_DESCRIPTIONS = {
    "400": "请求格式错误",
    "401": "未登录或登录已过期",
    "403": "无权执行此操作",
    "404": "记录不存在",
    "409": "与现有记录冲突",
    "413": "文件过大",
    "415": "不支持的文件类型",
    "422": "输入数据无效",
    "429": "请求过于频繁，请稍后再试",
}
#: Open311 answers errors in GeoReport form (XML or JSON by the path's format), not ours.
_OPEN311_PREFIX = "/open311/"
_WRITES = frozenset({"post", "put", "patch", "delete"})
_RATE_LIMITED_PREFIXES = ("/api/v1/public/", "/api/v1/auth/token", "/open311/")


def _error(status: str, *, json_body: bool) -> dict[str, Any]:
    response: dict[str, Any] = {"description": _DESCRIPTIONS[status]}
    if json_body:
        response["content"] = _JSON_ERROR
    return response


def _shared_errors(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    statuses = ["422"]
    if operation.get("security"):
        statuses += ["401", "403"]
    body = operation.get("requestBody")
    if operation.get("parameters") or body:
        statuses.append("404")  # a code or id in the path, query or body names no record
    if method in _WRITES:
        statuses.append("409")  # the database refused the write (unique, state, reference)
    if body or path.startswith(_OPEN311_PREFIX):
        statuses.append("400")
        if body and "multipart/form-data" in body.get("content", {}):
            statuses += ["413", "415"]
    if path.startswith(_RATE_LIMITED_PREFIXES) and body:
        statuses.append("429")
    return statuses


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Add the shared error answers to every operation of `document` (in place)."""
    for path, item in document.get("paths", {}).items():
        json_body = not path.startswith(_OPEN311_PREFIX)
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in _shared_errors(path, method, operation):
                if status == "422":  # FastAPI's default shape is not what we send
                    responses["422"] = _error("422", json_body=json_body)
                else:
                    responses.setdefault(status, _error(status, json_body=json_body))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _add_error_schema(schemas)
    # nothing refers to FastAPI's own validation error shapes any more
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def _add_error_schema(schemas: dict[str, Any]) -> None:
    generated = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, schema in generated.pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas.setdefault("ErrorResponse", generated)


def install(app: FastAPI) -> None:
    """Replace `app.openapi` by one that completes the generated document once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

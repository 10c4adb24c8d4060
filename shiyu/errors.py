"""Domain errors carry their HTTP status and a stable machine code; one handler renders them."""

from __future__ import annotations

from typing import Any


class ShiyuError(Exception):
    status_code = 400
    code = "error"
    message = "请求无法处理"
    #: Keep the work done before the error (e.g. a recorded login failure).
    persist = False

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.details = details or []
        self.headers = headers
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class NotFound(ShiyuError):
    status_code = 404
    code = "not_found"
    message = "记录不存在"


class Forbidden(ShiyuError):
    status_code = 403
    code = "forbidden"
    message = "无权执行此操作"


class Unauthorized(ShiyuError):
    status_code = 401
    code = "auth.unauthorized"
    message = "未登录或登录已过期"

    def __init__(self, message: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kw)


class Conflict(ShiyuError):
    status_code = 409
    code = "conflict"
    message = "与现有记录冲突"


class InvalidInput(ShiyuError):
    status_code = 422
    code = "validation_error"
    message = "输入数据无效"


class TooManyRequests(ShiyuError):
    status_code = 429
    code = "too_many_requests"
    message = "请求过于频繁，请稍后再试"


class ServiceUnavailable(ShiyuError):
    status_code = 503
    code = "service_unavailable"
    message = "服务暂不可用"


def error_responses(*errors: type[ShiyuError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the OpenAPI document of a route."""
    return {e.status_code: {"model": ErrorResponse, "description": e.message} for e in errors}


# Imported late to keep this module importable without pydantic models at type-check time.
from shiyu.kit.schemas import ErrorResponse  # noqa: E402

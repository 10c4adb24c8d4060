"""Open311 GeoReport v2 under /open311/v2, and the admin API for its api clients.

PUBLIC: the GeoReport routes need no token. Reading is public by the spec; POST requests
checks the client's api_key itself (403 in GeoReport form). Every error on these routes —
ours, FastAPI's validation, unknown paths — is answered in GeoReport form (a list of
{code, description}) in the format the path asks for."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from shiyu.deps import SessionDep, request_settings
from shiyu.errors import ShiyuError, error_responses
from shiyu.open311 import service
from shiyu.open311.formats import Format, format_of_path, parse_format, render, render_errors
from shiyu.open311.permissions import Open311Manage
from shiyu.open311.schemas import ClientCreate, ClientCreated, ClientRead

PREFIX = "/open311/v2"
#: a POST is a few short fields and a description of at most 4,000 characters; bigger
#: declared bodies get a GeoReport 413, and streamed ones stop at the hard limit
MAX_POST_BYTES = 64 * 1024
HARD_LIMIT_BYTES = 1024 * 1024


def _as_open311(exc: Exception) -> tuple[int, list[str]] | None:
    if isinstance(exc, service.Open311Error):
        return exc.status_code, exc.descriptions
    if isinstance(exc, ShiyuError):
        code = {401: 403, 403: 403, 404: 404}.get(exc.status_code, 400)
        return code, [exc.message]
    if isinstance(exc, RequestValidationError):
        return 400, [f"{e['loc'][-1]}: {e['msg']}" for e in exc.errors()]
    if isinstance(exc, StarletteHTTPException):
        code = exc.status_code if exc.status_code in (403, 404, 405, 413) else 400
        return code, [str(exc.detail)]
    return None


class Open311Route(APIRoute):
    """Renders every client error of the route as a GeoReport error list."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                converted = _as_open311(exc)
                if converted is None:
                    raise
                return render_errors(format_of_path(request.url.path), *converted)

        return handle


#: PUBLIC (see the module docstring); listed in the permission matrix's PUBLIC_ROUTES
router = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)
#: admin API, under /api/v1 like every authenticated route
admin_router = APIRouter(prefix="/open311/clients", tags=["open311"])

Jurisdiction = Annotated[str | None, Query(max_length=64)]


def _format(fmt: str) -> Format:
    parsed = parse_format(fmt)
    if parsed is None:
        raise service.not_found("format: 只支持 .xml 和 .json")
    return parsed


async def _form(request: Request) -> dict[str, list[str]]:
    """The POST fields (form-encoded, as the spec says); query parameters fill in what the
    form lacks, since some clients send api_key in the query string."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_POST_BYTES:
        raise service.Open311Error(413, f"请求体不得超过 {MAX_POST_BYTES // 1024} KiB")
    form = await request.form()
    fields: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(key, []).append(value)
    for key, value in request.query_params.multi_items():
        if key not in form:
            fields.setdefault(key, []).append(value)
    return fields


FormFields = Annotated[dict[str, list[str]], Depends(_form)]

_POST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["api_key", "service_code"],
                    "properties": {
                        name: {"type": "string"}
                        for name in (
                            "api_key",
                            "jurisdiction_id",
                            "service_code",
                            "lat",
                            "long",
                            "address_string",
                            "address_id",
                            "description",
                            "first_name",
                            "last_name",
                            "phone",
                            "email",
                            "device_id",
                            "account_id",
                            "media_url",
                            "attribute[external_id]",
                        )
                    },
                }
            }
        },
    }
}


@router.get("/discovery.{fmt}", operation_id="open311-discovery")
def discovery(request: Request, fmt: str) -> Response:
    """Service discovery: where the endpoint is and which formats it speaks."""
    url = str(request.base_url).rstrip("/") + PREFIX
    return render(
        _format(fmt), "discovery", service.discovery(request_settings(request), url), bare_type=True
    )


@router.get("/services.{fmt}", operation_id="open311-services")
def services(session: SessionDep, fmt: str, jurisdiction_id: Jurisdiction = None) -> Response:
    """The request types: the leaf categories of the event catalogue."""
    out = _format(fmt)
    service.check_jurisdiction(session, jurisdiction_id)
    return render(out, "services", service.list_services(session))


@router.get("/services/{service_code}.{fmt}", operation_id="open311-service_definition")
def service_definition(
    session: SessionDep, service_code: str, fmt: str, jurisdiction_id: Jurisdiction = None
) -> Response:
    out = _format(fmt)
    service.check_jurisdiction(session, jurisdiction_id)
    return render(out, "service_definition", service.service_definition(session, service_code))


@router.post(
    "/requests.{fmt}",
    operation_id="open311-create_request",
    openapi_extra=_POST_BODY,
    max_body_size=HARD_LIMIT_BYTES,
)
def create_request(request: Request, session: SessionDep, fmt: str, form: FormFields) -> Response:
    """Report a problem as an api client; answers with the event code (and a token)."""
    out = _format(fmt)
    service.check_jurisdiction(session, (form.get("jurisdiction_id") or [""])[0].strip())
    api_key = (form.get("api_key") or [""])[0].strip() or None
    result = service.submit(session, request_settings(request), form, api_key=api_key)
    return render(out, "service_requests", result, status_code=status.HTTP_201_CREATED)


@router.get("/requests.{fmt}", operation_id="open311-list_requests")
def list_requests(
    request: Request,
    session: SessionDep,
    fmt: str,
    jurisdiction_id: Jurisdiction = None,
    service_request_id: Annotated[str | None, Query(max_length=30_000)] = None,
    service_code: Annotated[str | None, Query(max_length=2000)] = None,
    start_date: Annotated[str | None, Query(max_length=40)] = None,
    end_date: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Published requests, newest first: at most 90 days and 1,000 rows."""
    out = _format(fmt)
    service.check_jurisdiction(session, jurisdiction_id)
    rows = service.list_requests(
        session,
        request_settings(request),
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
    )
    return render(out, "service_requests", rows)


@router.get("/requests/{service_request_id}.{fmt}", operation_id="open311-get_request")
def get_request(
    request: Request,
    session: SessionDep,
    service_request_id: str,
    fmt: str,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    out = _format(fmt)
    service.check_jurisdiction(session, jurisdiction_id)
    rows = service.get_request(session, request_settings(request), service_request_id)
    return render(out, "service_requests", rows)


@router.get("/request/{service_request_id}.{fmt}", operation_id="open311-get_request_v21")
def get_request_v21(
    request: Request,
    session: SessionDep,
    service_request_id: str,
    fmt: str,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    """Alias: the GeoReport v2.1 Swagger spells the path in the singular."""
    return get_request(request, session, service_request_id, fmt, jurisdiction_id)


@router.get("/tokens/{token}.{fmt}", operation_id="open311-token")
def token(
    session: SessionDep, token: str, fmt: str, jurisdiction_id: Jurisdiction = None
) -> Response:
    """The service request id behind the token a POST returned."""
    out = _format(fmt)
    service.check_jurisdiction(session, jurisdiction_id)
    return render(out, "service_requests", service.token_status(session, token))


@router.api_route(
    "/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
def unknown(rest: str) -> Response:
    """Anything else under the prefix: a GeoReport 404 rather than our JSON error body."""
    raise service.not_found(f"未知的资源 {rest[:80]}")


# ---------------------------------------------------------------- admin


@admin_router.post(
    "",
    response_model=ClientCreated,
    status_code=status.HTTP_201_CREATED,
    operation_id="open311-create_client",
    responses=error_responses(service.ClientNameTaken),
)
def create_client(session: SessionDep, actor: Open311Manage, body: ClientCreate) -> Any:
    """Create an api client; the key is in this answer only (just its hash is stored)."""
    client, key = service.create_client(session, actor, body)
    return {**ClientRead.model_validate(client).model_dump(), "api_key": key}


@admin_router.get("", response_model=list[ClientRead], operation_id="open311-list_clients")
def list_clients(session: SessionDep, actor: Open311Manage) -> Any:
    return service.list_clients(session, actor)


@admin_router.post(
    "/{name}/deactivate",
    response_model=ClientRead,
    operation_id="open311-deactivate_client",
    responses=error_responses(service.ClientNotFound),
)
def deactivate_client(session: SessionDep, actor: Open311Manage, name: str) -> Any:
    """Stop a client's key from working (its reports stay)."""
    return service.deactivate_client(session, actor, name)

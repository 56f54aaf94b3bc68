"""RFC 9457 problem details for every error a service returns.

Bad input is a 4xx that names what was wrong; a store that is down is a 503 with
Retry-After; an unexpected fault is a 500 problem and is logged. Nothing else escapes.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from changeledger.runtime.auth import Unauthenticated
from changeledger.runtime.domain import DomainError
from changeledger.runtime.idempotency import Replay

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def problem_type(slug: str) -> str:
    return f"urn:changeledger:problem:{slug}"


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(slug) if slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def refused(request: Request, error: DomainError) -> JSONResponse:
        return problem(
            error.status,
            error.detail,
            slug=error.rule,
            title=error.title,
            instance=request.url.path,
            rule=error.rule,
            **error.extra,
        )

    @app.exception_handler(Replay)
    async def replay(request: Request, replayed: Replay) -> JSONResponse:
        return JSONResponse(
            replayed.body, status_code=replayed.status, headers={"Idempotent-Replayed": "true"}
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [_describe(e) for e in error.errors()]
        if errors and all(e["type"] == "json_invalid" for e in errors):
            return problem(
                400, "the request body is not valid JSON", slug="malformed-json", errors=errors
            )
        return problem(
            422,
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)[:1000],
            slug="invalid-request",
            title="The request is not valid",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return problem(
            error.status_code,
            str(error.detail),
            instance=request.url.path,
            headers=dict(error.headers or {}),
        )

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(request: Request, error: Unauthenticated) -> JSONResponse:
        return problem(
            401,
            f"a valid bearer token is required: {error}",
            slug="unauthenticated",
            title="Not authenticated",
            headers={
                "WWW-Authenticate": f'Bearer realm="changeledger", error="invalid_token", '
                f'error_description="{_quote(str(error))}"'
            },
        )

    @app.exception_handler(IntegrityError)
    async def conflict(request: Request, error: IntegrityError) -> JSONResponse:
        return problem(
            409,
            "the resource was changed by another request at the same moment; retry",
            slug="concurrent-modification",
            title="Concurrent modification",
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def unavailable(request: Request, error: Exception) -> JSONResponse:
        log.warning("store unavailable: %s", error)
        return problem(
            503,
            "the event store is unavailable; nothing was recorded, retry shortly",
            slug="store-unavailable",
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "an unexpected error occurred; it has been logged", slug="internal")


def _describe(error: Any) -> dict[str, Any]:
    return {
        "loc": [str(part) for part in error.get("loc", ())],
        "msg": str(error.get("msg", "")),
        "type": str(error.get("type", "")),
    }


def _quote(text: str) -> str:
    return text.replace("\\", "").replace('"', "'")[:200]

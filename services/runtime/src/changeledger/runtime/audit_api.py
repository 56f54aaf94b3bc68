"""The audit trail over HTTP, on every service, for auditors (read-only): the same
queries as `changeledger audit ...`, over this service's own store."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from changeledger.runtime.audit import audit_key, witness_file
from changeledger.runtime.domain import InvalidValue, NotFound
from changeledger.runtime.history import (
    EXPORT_FIELDS,
    changed_between,
    export_record,
    history,
    state_at,
    stored_events,
    trace,
)
from changeledger.runtime.http import Command, query, requires
from changeledger.runtime.rebuild import live_fingerprints
from changeledger.runtime.store import ServiceApplication
from changeledger.runtime.verification import verify

router = APIRouter(prefix="/audit", tags=["audit"])
AUDITORS = ("auditor",)
Auditor = Annotated[Command, requires(*AUDITORS)]
Time = Annotated[AwareDatetime, Query(description="ISO 8601")]


def _app(request: Request) -> ServiceApplication:
    app: ServiceApplication = request.app.state.application
    return app


async def _held(app: ServiceApplication, aggregate_id: UUID) -> None:
    if not await query(app.contains, aggregate_id):
        raise NotFound(f"this service's store holds no {aggregate_id}", rule="aggregate-unknown")


@router.get("/history/{aggregate_id}")
async def audit_history(
    aggregate_id: UUID, request: Request, auditor: Auditor
) -> list[dict[str, Any]]:
    """Every event of an aggregate: when, who, why (command, correlation and causation),
    and each field it changed."""
    app = _app(request)
    await _held(app, aggregate_id)
    return [e.as_json() for e in await query(history, app, aggregate_id)]


@router.get("/at/{aggregate_id}")
async def audit_at(
    aggregate_id: UUID, request: Request, auditor: Auditor, as_of: Time
) -> dict[str, Any]:
    app = _app(request)
    await _held(app, aggregate_id)
    return await query(state_at, app, aggregate_id, as_of)


@router.get("/diff/{aggregate_id}")
async def audit_diff(
    aggregate_id: UUID,
    request: Request,
    auditor: Auditor,
    since: Annotated[AwareDatetime, Query(alias="from")],
    until: Annotated[AwareDatetime, Query(alias="to")],
) -> dict[str, Any]:
    if until < since:
        raise InvalidValue("`to` is before `from`", rule="time-range")
    app = _app(request)
    await _held(app, aggregate_id)
    changed, events = await query(changed_between, app, aggregate_id, since, until)
    return {
        "changes": [{"field": f, "before": b, "after": a} for f, b, a in changed],
        "events": [e.as_json() for e in events],
    }


@router.get("/trace/{correlation_id}")
async def audit_trace(
    correlation_id: Annotated[str, Path(max_length=128)], request: Request, auditor: Auditor
) -> list[dict[str, Any]]:
    """This service's part of one business action (`changeledger audit trace` joins all
    four)."""
    return [e.as_json() for e in await query(trace, _app(request), correlation_id)]


@router.get("/verify")
async def audit_verify(request: Request, auditor: Auditor) -> dict[str, Any]:
    """Check the hash chains and signed checkpoints of this service's store."""
    settings = request.app.state.settings
    app = _app(request)
    report = await query(verify, app, audit_key(settings), witness_file(settings, app.name))
    return {
        "service": report.service,
        "intact": report.intact,
        "broken": report.broken,
        "events": report.events,
        "aggregates": report.aggregates,
        "checkpoints": report.checkpoints,
        "unsealed": report.unsealed,
        "events_per_second": round(report.rate),
    }


@router.get("/read-models")
async def audit_read_models(request: Request, auditor: Auditor) -> dict[str, dict[str, Any]]:
    """Each read model this service keeps in memory, brought up to date: the log position
    it has folded to, how many aggregates it holds and a hash of their states.
    `changeledger audit rebuild --against` compares them with read models rebuilt from
    the store."""
    return await query(live_fingerprints, _app(request))


@router.get("/export", response_class=StreamingResponse)
async def audit_export(
    request: Request,
    auditor: Auditor,
    since: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    until: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    format: Literal["jsonl", "csv"] = "jsonl",
) -> StreamingResponse:
    """Every stored event in the range with the envelope fields, streamed."""
    app = _app(request)
    lines = _csv(app, since, until) if format == "csv" else _jsonl(app, since, until)
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(_chunked(lines), media_type=media)


#: Lines are sent in chunks of about this size: one per event would cost a thread hop
#: and an ASGI message each, several times the cost of reading the event.
CHUNK_BYTES = 64 * 1024


def _chunked(lines: Iterator[str]) -> Iterator[str]:
    chunk: list[str] = []
    size = 0
    for line in lines:
        chunk.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield "".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield "".join(chunk)


def _jsonl(
    app: ServiceApplication, since: datetime | None, until: datetime | None
) -> Iterator[str]:
    for position, event in stored_events(app, since, until):
        yield json.dumps(export_record(app.name, position, event)) + "\n"


def _csv(app: ServiceApplication, since: datetime | None, until: datetime | None) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, EXPORT_FIELDS)
    writer.writeheader()
    for position, event in stored_events(app, since, until):
        writer.writerow(export_record(app.name, position, event))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()

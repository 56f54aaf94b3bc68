"""Freeze windows, the release calendar and the cross-release reports."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from changeledger.planning.api.common import CHANGE_MANAGERS, AsOf, Planning
from changeledger.planning.api.views import (
    CalendarView,
    FreezeWindowView,
    LoadView,
    RealisationView,
    WindowBody,
)
from changeledger.planning.domain import Period
from changeledger.runtime.domain import InvalidValue
from changeledger.runtime.http import Command, query, requires
from changeledger.runtime.paging import Paged

router = APIRouter(tags=["calendar"])
MAX_DAYS = 3 * 366


class DeclareFreeze(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    window: WindowBody
    reason: str = Field(min_length=1, max_length=4000)


def bounded(start: date, end: date) -> Period:
    period = Period(start, end)
    if (end - start).days > MAX_DAYS:
        raise InvalidValue(f"a period spans at most {MAX_DAYS} days", rule="period-too-long")
    return period


@router.post("/freeze-windows", status_code=201, response_model=FreezeWindowView)
async def declare_freeze(
    body: DeclareFreeze, app: Planning, command: Command = requires(*CHANGE_MANAGERS)
) -> FreezeWindowView:
    """From now on, nothing but emergency changes is scheduled into this window."""
    freeze = await command.run(app.declare_freeze, body.name, body.window.window(), body.reason)
    return FreezeWindowView.of(freeze)


@router.get("/freeze-windows", response_model=list[FreezeWindowView])
async def list_freezes(app: Planning, page: Paged, as_of: AsOf = None) -> list[FreezeWindowView]:
    calendar = await query(app.calendar_aggregate, as_of)
    return [FreezeWindowView.of(f) for f in page.of(calendar.freezes if calendar else [])]


@router.get("/freeze-windows/{freeze_id}", response_model=FreezeWindowView)
async def get_freeze(freeze_id: UUID, app: Planning, as_of: AsOf = None) -> FreezeWindowView:
    return FreezeWindowView.of(await query(app.freeze_window, freeze_id, as_of))


@router.get("/calendar", response_model=CalendarView)
async def calendar(
    app: Planning,
    start: date = Query(alias="from"),
    end: date = Query(alias="to"),
    state: str | None = Query(default=None, max_length=40),
    owner: str | None = Query(default=None, max_length=200),
    as_of: AsOf = None,
) -> CalendarView:
    """Releases, changes and freeze windows in a period; `state` and `owner` filter
    releases and changes (a change's owner is its requester)."""
    period = bounded(start, end)
    return await query(
        app.portfolio.query,
        lambda p: CalendarView.of(period, p.calendar(period, state, owner)),
        as_of,
    )


@router.get("/resources/loads", response_model=list[LoadView], tags=["resources"])
async def resource_loads(
    app: Planning,
    page: Paged,
    start: date = Query(alias="from"),
    end: date = Query(alias="to"),
    overallocated_only: bool = False,
    as_of: AsOf = None,
) -> list[LoadView]:
    """Each person's allocated effort across releases against their working days in the
    period; `overallocated` flags anyone allocated beyond capacity."""
    period = bounded(start, end)
    views = await query(
        app.portfolio.query, lambda p: [LoadView.of(load) for load in p.loads(period)], as_of
    )
    return page.of([v for v in views if v.overallocated] if overallocated_only else views)


@router.get("/benefits", response_model=list[RealisationView], tags=["benefits"])
async def benefits(app: Planning, page: Paged, as_of: AsOf = None) -> list[RealisationView]:
    """Benefits realised against targeted, across releases."""
    return await query(
        app.portfolio.query,
        lambda p: [RealisationView.of(r) for r in page.of(p.realisations())],
        as_of,
    )

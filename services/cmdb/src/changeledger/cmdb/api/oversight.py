"""What auditors and change managers look at: changes as the CMDB knows them and the
writes made under each, refused writes, discovery and drift, and the bootstrap import."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, Field

from changeledger.cmdb import domain as d
from changeledger.cmdb.api.common import ADMIN, MAINTAINERS, AsOf, Cmdb
from changeledger.cmdb.api.views import (
    ChangeView,
    CiFields,
    DiscoveryView,
    DriftView,
    Key,
    RefusalView,
)
from changeledger.cmdb.application import Observation
from changeledger.cmdb.reports import Oversight
from changeledger.runtime.domain import NotFound
from changeledger.runtime.http import Body, Command, query, requires
from changeledger.runtime.paging import Paged

router = APIRouter(tags=["change authority and oversight"])


@router.get("/changes", response_model=list[ChangeView])
async def changes(app: Cmdb, page: Paged, as_of: AsOf = None) -> list[ChangeView]:
    """Every change the CMDB has learned of from planning, with the writes made under it."""
    known = await query(app.oversight.query, lambda o: page.of(o.changes()), as_of)
    writes = await query(app.writes_under, known, as_of)
    return [ChangeView.of(c, writes[c.change_id]) for c in known]


@router.get("/changes/{change_id}", response_model=ChangeView)
async def change(change_id: UUID, app: Cmdb) -> ChangeView:
    known = await query(app.known_change, change_id)
    if known is None:
        raise NotFound(f"the CMDB has no record of change {change_id}", rule="change-unknown")
    writes = await query(app.writes_under, [known])
    return ChangeView.of(known, writes[change_id])


@router.get("/refusals", response_model=list[RefusalView])
async def refusals(
    app: Cmdb,
    page: Paged,
    ci: str | None = Query(default=None, max_length=100),
    change_id: UUID | None = None,
    as_of: AsOf = None,
) -> list[RefusalView]:
    """Every write refused for want of an authorising change, oldest first."""

    def listed(o: Oversight) -> list[RefusalView]:
        return [RefusalView.of(r) for r in page.of(o.refusals(ci, change_id))]

    return await query(app.oversight.query, listed, as_of)


class Observed(Body):
    key: str = Key
    type: d.CiType | None = None
    name: str | None = Field(default=None, max_length=200)
    owner: str | None = Field(default=None, max_length=200)
    lifecycle: d.Lifecycle | None = None
    version: str | None = Field(default=None, max_length=64)
    attributes: dict[str, Any] = Field(default_factory=dict)

    def observation(self) -> Observation:
        fields = self.model_dump(
            mode="json", include={"type", "name", "owner", "lifecycle", "version"}
        )
        return Observation(
            self.key, {k: v for k, v in fields.items() if v is not None}, self.attributes
        )


class Discovery(Body):
    discovered_by: str = Field(min_length=1, max_length=200, description="The discovery tool")
    observed: list[Observed] = Field(max_length=10_000)


@router.post("/discovery", status_code=201, response_model=DiscoveryView)
async def discovery(
    body: Discovery, app: Cmdb, command: Command = requires(*MAINTAINERS)
) -> DiscoveryView:
    """Compare observed CI states with the authorised ones: each difference is recorded
    as drift. No CI is changed."""
    run = await command.run(
        app.record_discovery, body.discovered_by, [o.observation() for o in body.observed]
    )
    return DiscoveryView.of(run)


@router.get("/drift", response_model=list[DriftView])
async def drift(
    app: Cmdb,
    page: Paged,
    ci: str | None = Query(default=None, max_length=100),
    since: AwareDatetime | None = None,
    as_of: AsOf = None,
) -> list[DriftView]:
    """Every difference discovery found from the authorised state, oldest first."""

    def listed(o: Oversight) -> list[DriftView]:
        found: list[DriftView] = []
        for run in o.runs():
            if since is None or run.created_on >= since:
                found += [v for v in DriftView.all_of(run) if ci is None or v.ci == ci]
        return page.of(found)

    return await query(app.oversight.query, listed, as_of)


class Edge(Body):
    source: str = Key
    type: d.RelationshipType
    target: str = Key


class Import(Body):
    reason: str = Field(min_length=1, max_length=4000)
    cis: list[CiFields] = Field(min_length=1, max_length=20_000)
    relationships: list[Edge] = Field(default_factory=list, max_length=100_000)


class ImportView(Body):
    id: UUID
    at: datetime
    cis: int
    relationships: int
    reason: str


@router.post("/bootstrap", status_code=201, response_model=ImportView)
async def bootstrap(body: Import, app: Cmdb, command: Command = requires(*ADMIN)) -> ImportView:
    """Load an empty CMDB in one go, without a change: the one exception to the change
    authority, for a cmdb-admin, recorded as such. Refused once the CMDB holds anything."""
    record = await command.run(
        app.bootstrap,
        [ci.new() for ci in body.cis],
        [(e.source, e.type, e.target) for e in body.relationships],
        body.reason,
    )
    return ImportView(
        id=record.id,
        at=record.created_on,
        cis=record.cis,
        relationships=record.relationships,
        reason=record.reason,
    )

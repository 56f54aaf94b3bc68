"""Configuration items: registered, updated, moved through their lifecycle and versioned,
each write under an authorised change; read now, as they were, or as a diff."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, Field

from changeledger.cmdb import domain as d
from changeledger.cmdb.api.common import MAINTAINERS, AsOf, Cmdb
from changeledger.cmdb.api.views import (
    ChangeId,
    CiFields,
    CiView,
    DifferenceView,
    RelationshipsView,
    RelationshipView,
)
from changeledger.runtime.domain import InvalidValue
from changeledger.runtime.http import Body, Command, etag, query, requires
from changeledger.runtime.paging import Paged

router = APIRouter(prefix="/cis", tags=["configuration items"])


class Register(CiFields):
    change_id: UUID | None = ChangeId


class Update(Body):
    change_id: UUID | None = ChangeId
    name: str | None = Field(default=None, min_length=1, max_length=200)
    owner: str | None = Field(default=None, min_length=1, max_length=200)
    attributes: dict[str, Any] | None = Field(
        default=None, description="A JSON merge patch of the attributes: null removes one"
    )


class ChangeLifecycle(Body):
    change_id: UUID | None = ChangeId
    lifecycle: d.Lifecycle
    reason: str = Field(default="", max_length=4000)


class Retire(Body):
    change_id: UUID | None = ChangeId
    reason: str = Field(min_length=1, max_length=4000)


class SetVersion(Body):
    change_id: UUID | None = ChangeId
    version: str = Field(min_length=1, max_length=64, pattern=r"^\S+$")


@router.post("", status_code=201, response_model=CiView)
async def register(body: Register, app: Cmdb, command: Command = requires(*MAINTAINERS)) -> CiView:
    """Register a CI under an authorised change whose scope names its key."""
    ci = await command.run(app.register_ci, body.new(), body.change_id)
    return CiView.of(ci)


@router.get("", response_model=list[CiView])
async def list_cis(
    app: Cmdb,
    page: Paged,
    type: d.CiType | None = None,
    lifecycle: d.Lifecycle | None = None,
    owner: str | None = Query(default=None, max_length=200),
    as_of: AsOf = None,
) -> list[CiView]:
    """The whole CMDB, now or as it was at `as_of`, a page at a time."""
    return await query(
        app.graph.query,
        lambda g: [CiView.of(ci) for ci in page.of(g.items(type, lifecycle, owner))],
        as_of,
    )


@router.get("/{key}", response_model=CiView)
async def get_ci(key: str, app: Cmdb, response: Response, as_of: AsOf = None) -> CiView:
    ci = await query(app.ci, key, as_of)
    response.headers["ETag"] = etag(ci.version)
    return CiView.of(ci)


@router.patch("/{key}", response_model=CiView)
async def update(
    key: str, body: Update, app: Cmdb, command: Command = requires(*MAINTAINERS)
) -> CiView:
    """Rename, change owner, or patch attributes; a patch that changes nothing records
    nothing."""
    ci = await command.run(
        app.update_ci,
        key,
        body.change_id,
        body.name,
        body.owner,
        body.attributes,
        command.expected_version,
    )
    return CiView.of(ci)


@router.post("/{key}/lifecycle", response_model=CiView)
async def change_lifecycle(
    key: str, body: ChangeLifecycle, app: Cmdb, command: Command = requires(*MAINTAINERS)
) -> CiView:
    """Planned -> Active -> Retired (or Planned -> Retired)."""
    ci = await command.run(
        app.change_lifecycle,
        key,
        body.lifecycle,
        body.change_id,
        body.reason,
        command.expected_version,
    )
    return CiView.of(ci)


@router.post("/{key}/retire", response_model=CiView)
async def retire(
    key: str, body: Retire, app: Cmdb, command: Command = requires(*MAINTAINERS)
) -> CiView:
    ci = await command.run(
        app.change_lifecycle,
        key,
        d.Lifecycle.RETIRED,
        body.change_id,
        body.reason,
        command.expected_version,
    )
    return CiView.of(ci)


@router.put("/{key}/version", response_model=CiView)
async def set_version(
    key: str, body: SetVersion, app: Cmdb, command: Command = requires(*MAINTAINERS)
) -> CiView:
    ci = await command.run(
        app.set_version, key, body.version, body.change_id, command.expected_version
    )
    return CiView.of(ci)


@router.get("/{key}/relationships", response_model=RelationshipsView)
async def relationships(key: str, app: Cmdb, as_of: AsOf = None) -> RelationshipsView:
    await query(app.ci, key, as_of)  # 404 for a CI that does not (or did not) exist

    def both_ways(graph: Any) -> RelationshipsView:
        found = graph.relationships(key)
        return RelationshipsView(
            outgoing=[RelationshipView.of(r) for r in found if r.source == key],
            incoming=[RelationshipView.of(r) for r in found if r.target == key],
        )

    return await query(app.graph.query, both_ways, as_of)


@router.get("/{key}/diff", response_model=list[DifferenceView])
async def diff(
    key: str,
    app: Cmdb,
    page: Paged,
    since: AwareDatetime | None = Query(default=None, alias="from"),
    until: AwareDatetime | None = Query(default=None, alias="to"),
) -> list[DifferenceView]:
    """What changed between two times (the whole history by default), event by event,
    each field's before and after, attributed to its change and actor."""
    if since is not None and until is not None and until < since:
        raise InvalidValue("`to` is before `from`", rule="time-range")
    found = await query(app.differences, key, since, until)
    return [DifferenceView.of(difference) for difference in page.of(found)]

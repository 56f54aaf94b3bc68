"""What the CMDB's API answers, and the shapes it accepts.

A CI's `version` is its software version (a domain fact); `revision` is how many events
it has had, the value for If-Match.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel, Field

from changeledger.cmdb import domain as d
from changeledger.cmdb.application import NewCi
from changeledger.cmdb.domain.graph import Impact
from changeledger.cmdb.reports import Difference
from changeledger.runtime.http import Body

Key = Field(min_length=1, max_length=100, pattern=d.values.CI_KEY.pattern)
Name = Field(min_length=1, max_length=200)
Version = Field(min_length=1, max_length=64, pattern=r"^\S+$")
ChangeId = Field(
    default=None, description="The authorised change this write carries out (required)"
)


class CiFields(Body):
    key: str = Key
    type: d.CiType
    name: str = Name
    owner: str = Name
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="A JSON object of at most 16 KiB"
    )
    version: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^\S+$")
    lifecycle: d.Lifecycle = d.Lifecycle.ACTIVE

    def new(self) -> NewCi:
        return NewCi(
            self.key,
            self.type,
            self.name,
            self.owner,
            self.attributes,
            self.version,
            self.lifecycle,
        )


class CiView(BaseModel):
    id: UUID
    key: str
    type: d.CiType
    name: str
    owner: str
    attributes: dict[str, Any]
    version: str | None
    lifecycle: d.Lifecycle
    revision: int
    last_change_id: UUID | None
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, ci: d.ConfigurationItem) -> CiView:
        return cls(
            id=ci.id,
            key=ci.key,
            type=ci.type,
            name=ci.name,
            owner=ci.owner,
            attributes=ci.attributes,
            version=ci.ci_version,
            lifecycle=ci.lifecycle,
            revision=ci.version,
            last_change_id=ci.last_change_id,
            created_on=ci.created_on,
            modified_on=ci.modified_on,
        )


class RelationshipView(BaseModel):
    id: UUID
    source: str
    type: d.RelationshipType
    target: str
    active: bool
    last_change_id: UUID | None

    @classmethod
    def of(cls, relationship: d.Relationship) -> RelationshipView:
        return cls(
            id=relationship.id,
            source=relationship.source,
            type=relationship.type,
            target=relationship.target,
            active=relationship.active,
            last_change_id=relationship.last_change_id,
        )


class RelationshipsView(BaseModel):
    outgoing: list[RelationshipView]
    incoming: list[RelationshipView]


class Node(BaseModel):
    key: str
    type: d.CiType
    name: str
    owner: str
    lifecycle: d.Lifecycle
    version: str | None


class Edge(BaseModel):
    source: str
    type: d.RelationshipType
    target: str


class GraphView(BaseModel):
    nodes: list[Node]
    edges: list[Edge]


class HopView(BaseModel):
    relationship: d.RelationshipType
    direction: str
    ci: str


class ViaView(BaseModel):
    """The last hop of the CI's shortest path: from `ci`, across `relationship`."""

    ci: str
    relationship: d.RelationshipType
    direction: str


class ImpactedView(BaseModel):
    ci: str
    distance: int
    via: ViaView
    path: list[HopView] | None = Field(
        default=None, description="The whole path from the CI asked about (with paths=true)"
    )


class ImpactView(BaseModel):
    ci: str
    direction: str
    depth: int
    count: int
    impacted: list[ImpactedView]

    @staticmethod
    def render(found: Impact, direction: str, depth: int, paths: bool) -> bytes:
        """JSON made by orjson from plain data, not validated models: an impact over the
        whole graph has 10,000 entries, and validating them alone takes longer than the
        walk (measured in bench/impact.py)."""
        impacted = []
        for ci, distance in found.reached:
            came_from, hop = found.via(ci)
            entry: dict[str, Any] = {
                "ci": ci,
                "distance": distance,
                "via": {
                    "ci": came_from,
                    "relationship": hop.relationship,
                    "direction": hop.direction,
                },
            }
            if paths:
                entry["path"] = [h._asdict() for h in found.path(ci)]
            impacted.append(entry)
        return orjson.dumps(
            {
                "ci": found.start,
                "direction": direction,
                "depth": depth,
                "count": len(impacted),
                "impacted": impacted,
            }
        )


class FieldChangeView(BaseModel):
    field: str
    before: Any
    after: Any


class DifferenceView(BaseModel):
    at: datetime
    revision: int
    event: str
    change_id: UUID | None
    release_id: UUID | None
    bootstrap: bool
    actor: str
    actor_roles: list[str]
    command: str
    correlation_id: str
    changes: list[FieldChangeView]

    @classmethod
    def of(cls, difference: Difference) -> DifferenceView:
        return cls(
            at=difference.at,
            revision=difference.revision,
            event=difference.event,
            change_id=difference.change_id,
            release_id=difference.release_id,
            bootstrap=difference.bootstrap,
            actor=difference.provenance.actor.sub,
            actor_roles=list(difference.provenance.actor.roles),
            command=difference.provenance.command,
            correlation_id=difference.provenance.correlation_id,
            changes=[FieldChangeView(field=f, before=b, after=a) for f, b, a in difference.changes],
        )


class WriteView(BaseModel):
    at: datetime
    ci: str
    what: str
    actor: str
    release_id: UUID | None

    @classmethod
    def of(cls, write: d.Write) -> WriteView:
        return cls.model_validate(write, from_attributes=True)


class ChangeView(BaseModel):
    """A change as the CMDB knows it from planning, and the writes made under it."""

    change_id: UUID
    title: str
    type: str
    status: d.ChangeStatus
    open_for_writes: bool
    affected_cis: list[str]
    ci_scope: list[str]
    authorised_by: str | None
    target_release_id: UUID | None
    writes: list[WriteView]

    @classmethod
    def of(cls, change: d.KnownChange, writes: list[d.Write]) -> ChangeView:
        return cls(
            change_id=change.change_id,
            title=change.title,
            type=change.type,
            status=change.status,
            open_for_writes=change.open_for_writes,
            affected_cis=list(change.affected_cis),
            ci_scope=list(change.ci_scope),
            authorised_by=change.authorised_by,
            target_release_id=change.target_release_id,
            writes=[WriteView.of(w) for w in writes],
        )


class RefusalView(BaseModel):
    id: UUID
    at: datetime
    operation: str
    ci: str
    change_id: UUID | None
    release_id: UUID | None
    rule: str
    reason: str
    actor: str

    @classmethod
    def of(cls, refusal: d.RefusedWrite) -> RefusalView:
        return cls(
            id=refusal.id,
            at=refusal.created_on,
            operation=refusal.operation,
            ci=refusal.ci,
            change_id=refusal.change_id,
            release_id=refusal.release_id,
            rule=refusal.rule,
            reason=refusal.reason,
            actor=refusal.actor,
        )


class DriftView(BaseModel):
    discovery_id: UUID
    detected_at: datetime
    discovered_by: str
    ci: str
    field: str
    authorised: Any
    observed: Any

    @classmethod
    def all_of(cls, run: d.DiscoveryRun) -> list[DriftView]:
        return [
            cls(
                discovery_id=run.id,
                detected_at=run.created_on,
                discovered_by=run.source,
                **drift,
            )
            for drift in run.drifts
        ]


class DiscoveryView(BaseModel):
    id: UUID
    discovered_by: str
    observed: int
    drifts: list[DriftView]

    @classmethod
    def of(cls, run: d.DiscoveryRun) -> DiscoveryView:
        return cls(
            id=run.id,
            discovered_by=run.source,
            observed=run.observed,
            drifts=DriftView.all_of(run),
        )

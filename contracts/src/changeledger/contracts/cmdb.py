"""Events published by the CMDB on `cmdb.events`.

Each names the CI by its key (as planning's changes name it), the change it was made under
(none only for the recorded bootstrap import), and the CI's owner, so a subscriber can
reach the owner without calling back.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from changeledger.contracts.registry import IntegrationEvent, event_type

RelationshipType = Literal["depends_on", "runs_on", "connects_to", "part_of"]


class CiEvent(IntegrationEvent):
    ci_id: UUID
    key: str
    owner: str
    change_id: UUID | None


@event_type("cmdb.ci.registered", version=1)
class CiRegistered(CiEvent):
    type: str
    name: str
    attributes: dict[str, Any]
    ci_version: str | None
    lifecycle: str
    bootstrap: bool = False


@event_type("cmdb.ci.updated", version=1)
class CiUpdated(CiEvent):
    """`name` is the new name, if it changed; `attributes_set` and `attributes_removed`
    are the attribute changes."""

    name: str | None
    attributes_set: dict[str, Any]
    attributes_removed: list[str]


@event_type("cmdb.ci.lifecycle_changed", version=1)
class CiLifecycleChanged(CiEvent):
    lifecycle: str
    previous: str


@event_type("cmdb.ci.version_set", version=1)
class CiVersionSet(CiEvent):
    """`release_id` is set when a deployed release applied the version."""

    ci_version: str
    previous_ci_version: str | None
    release_id: UUID | None


@event_type("cmdb.ci.retired", version=1)
class CiRetired(CiEvent):
    reason: str


class RelationshipEvent(IntegrationEvent):
    relationship_id: UUID
    source_ci: str
    type: RelationshipType
    target_ci: str
    #: The source CI's owner: a relationship belongs to its source.
    owner: str
    change_id: UUID | None


@event_type("cmdb.relationship.added", version=1)
class RelationshipAdded(RelationshipEvent):
    bootstrap: bool = False


@event_type("cmdb.relationship.removed", version=1)
class RelationshipRemoved(RelationshipEvent):
    pass


@event_type("cmdb.write_refused", version=1)
class WriteRefused(IntegrationEvent):
    """A write without a valid authorising change was refused; `rule` says which
    condition failed."""

    refusal_id: UUID
    operation: str
    ci: str
    owner: str | None
    change_id: UUID | None
    release_id: UUID | None
    rule: str
    reason: str


@event_type("cmdb.drift_detected", version=1)
class DriftDetected(IntegrationEvent):
    """Discovery observed `ci`'s `field` as `observed` where the authorised state is
    `authorised` (`existence` for a CI the CMDB does not have)."""

    discovery_id: UUID
    discovered_by: str
    ci: str
    owner: str | None
    field: str
    authorised: Any
    observed: Any


__all__ = [
    "CiLifecycleChanged",
    "CiRegistered",
    "CiRetired",
    "CiUpdated",
    "CiVersionSet",
    "DriftDetected",
    "RelationshipAdded",
    "RelationshipRemoved",
    "WriteRefused",
]

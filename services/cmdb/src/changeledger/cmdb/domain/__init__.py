"""The CMDB's domain: configuration items, relationships, and the change authority."""

from changeledger.cmdb.domain.authority import (
    ChangeStatus,
    KnownChange,
    KnownRelease,
    write_refusal,
)
from changeledger.cmdb.domain.ci import ConfigurationItem
from changeledger.cmdb.domain.oversight import Bootstrap, DiscoveryRun, RefusedWrite
from changeledger.cmdb.domain.relationship import Relationship
from changeledger.cmdb.domain.values import (
    CiType,
    Lifecycle,
    RelationshipType,
    checked_key,
    ci_id_for,
    known_change_id,
    known_release_id,
    relationship_id_for,
)
from changeledger.cmdb.domain.writes import Write

__all__ = [
    "Bootstrap",
    "ChangeStatus",
    "CiType",
    "ConfigurationItem",
    "DiscoveryRun",
    "KnownChange",
    "KnownRelease",
    "Lifecycle",
    "RefusedWrite",
    "Relationship",
    "RelationshipType",
    "Write",
    "checked_key",
    "ci_id_for",
    "known_change_id",
    "known_release_id",
    "relationship_id_for",
    "write_refusal",
]

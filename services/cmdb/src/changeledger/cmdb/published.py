"""The CMDB's domain events as the contract events other services see."""

from __future__ import annotations

from typing import Any

from changeledger.cmdb.domain import ConfigurationItem, DiscoveryRun, RefusedWrite, Relationship
from changeledger.contracts import cmdb as contract
from changeledger.runtime.relay import Translations

translations = Translations()
on = translations.add
CI = ConfigurationItem


def ci(e: Any) -> dict[str, Any]:
    return {"ci_id": e.originator_id, "key": e.key, "owner": e.owner, "change_id": e.change_id}


def edge(e: Any) -> dict[str, Any]:
    return {
        "relationship_id": e.originator_id,
        "source_ci": e.source,
        "type": e.type.value,
        "target_ci": e.target,
        "owner": e.owner,
        "change_id": e.change_id,
    }


on(
    CI.Registered,
    lambda e: contract.CiRegistered(
        **ci(e),
        type=e.type.value,
        name=e.name,
        attributes=e.attributes,
        ci_version=e.version,
        lifecycle=e.lifecycle.value,
        bootstrap=e.bootstrap,
    ),
)
on(
    CI.Updated,
    lambda e: contract.CiUpdated(
        **ci(e),
        name=e.name,
        attributes_set=e.attributes_set,
        attributes_removed=list(e.attributes_removed),
    ),
)
on(
    CI.LifecycleChanged,
    lambda e: contract.CiLifecycleChanged(
        **ci(e), lifecycle=e.lifecycle.value, previous=e.previous.value
    ),
)
on(
    CI.VersionSet,
    lambda e: contract.CiVersionSet(
        **ci(e), ci_version=e.version, previous_ci_version=e.previous, release_id=e.release_id
    ),
)
on(CI.Retired, lambda e: contract.CiRetired(**ci(e), reason=e.reason))

on(Relationship.Added, lambda e: contract.RelationshipAdded(**edge(e), bootstrap=e.bootstrap))
on(Relationship.Restored, lambda e: contract.RelationshipAdded(**edge(e)))
on(Relationship.Removed, lambda e: contract.RelationshipRemoved(**edge(e)))

on(
    RefusedWrite.UnauthorisedWriteRefused,
    lambda e: contract.WriteRefused(
        refusal_id=e.originator_id,
        operation=e.operation,
        ci=e.ci,
        owner=e.owner,
        change_id=e.change_id,
        release_id=e.release_id,
        rule=e.rule,
        reason=e.reason,
    ),
)
on(
    DiscoveryRun.UnauthorisedDrift,
    lambda e: contract.DriftDetected(
        discovery_id=e.originator_id,
        discovered_by=e.discovered_by,
        ci=e.ci,
        owner=e.owner,
        field=e.field,
        authorised=e.authorised,
        observed=e.observed_value,
    ),
)

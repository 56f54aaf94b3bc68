"""What auditors watch: writes the change authority refused, differences between what
discovery observed and what was authorised, and the one bootstrap import."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from changeledger.runtime.domain import Aggregate, DomainError, RuleViolated, current_provenance


class RefusedWrite(Aggregate):
    """One attempt to write the CMDB without an authorising change. Refusals are never
    silent: each is on record with who tried, what, under which change, and why not."""

    class UnauthorisedWriteRefused(Aggregate.Created):
        operation: str
        ci: str
        change_id: UUID | None
        release_id: UUID | None
        rule: str
        reason: str
        owner: str | None
        #: Who tried (also in the event's provenance; kept here for the listing).
        actor: str

    @event(UnauthorisedWriteRefused)
    def __init__(
        self,
        operation: str,
        ci: str,
        change_id: UUID | None,
        release_id: UUID | None,
        rule: str,
        reason: str,
        owner: str | None,
        actor: str,
    ) -> None:
        self.operation = operation
        self.ci = ci
        self.change_id = change_id
        self.release_id = release_id
        self.rule = rule
        self.reason = reason
        self.owner = owner
        self.actor = actor

    @classmethod
    def of(
        cls,
        error: DomainError,
        operation: str,
        ci: str,
        change_id: UUID | None,
        owner: str | None,
        release_id: UUID | None = None,
    ) -> RefusedWrite:
        return cls(
            operation=operation,
            ci=ci,
            change_id=change_id,
            release_id=release_id,
            rule=error.rule,
            reason=error.detail,
            owner=owner,
            actor=current_provenance().actor.sub,
        )


class DiscoveryRun(Aggregate):
    """One report from a discovery tool, and every difference it showed from the
    authorised state. Discovery changes no CI: drift is for people to act on."""

    class Received(Aggregate.Created):
        source: str
        observed: int

    @event(Received)
    def __init__(self, source: str, observed: int) -> None:
        self.source = source
        self.observed = observed
        self.drifts: list[dict[str, Any]] = []

    class UnauthorisedDrift(Aggregate.Event):
        discovered_by: str
        ci: str
        field: str
        authorised: Any
        observed_value: Any
        owner: str | None

    def record_drift(
        self, ci: str, field: str, authorised: Any, observed: Any, owner: str | None
    ) -> None:
        self._drift(
            discovered_by=self.source,
            ci=ci,
            field=field,
            authorised=authorised,
            observed_value=observed,
            owner=owner,
        )

    @event(UnauthorisedDrift)
    def _drift(
        self,
        discovered_by: str,
        ci: str,
        field: str,
        authorised: Any,
        observed_value: Any,
        owner: str | None,
    ) -> None:
        self.drifts = [
            *self.drifts,
            {"ci": ci, "field": field, "authorised": authorised, "observed": observed_value},
        ]


BOOTSTRAP_ID = uuid5(NAMESPACE_URL, "urn:changeledger:cmdb:bootstrap")


class Bootstrap(Aggregate):
    """The one write not made under a change: the first import into an empty CMDB, by a
    cmdb-admin, on record. Its fixed id means it can happen once."""

    class Imported(Aggregate.Created):
        cis: int
        relationships: int
        reason: str

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return BOOTSTRAP_ID

    @event(Imported)
    def __init__(self, cis: int, relationships: int, reason: str) -> None:
        self.cis = cis
        self.relationships = relationships
        self.reason = reason

    @classmethod
    def import_into(
        cls, cmdb_is_empty: bool, cis: int, relationships: int, reason: str
    ) -> Bootstrap:
        if not cmdb_is_empty:
            raise RuleViolated(
                "the bootstrap import is only for an empty CMDB; from now on every write "
                "goes through an authorised change",
                rule="cmdb-not-empty",
            )
        return cls(cis=cis, relationships=relationships, reason=reason)

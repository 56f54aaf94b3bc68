"""The CMDB's commands and queries, over its own store.

Every write names a change, and is checked against what this store has recorded of that
change (from planning's events) before anything else: an unauthorised write is refused,
and the refusal is recorded. The one exception is the bootstrap import of an empty CMDB.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn
from uuid import UUID

from changeledger.cmdb.domain import (
    Bootstrap,
    ChangeStatus,
    CiType,
    ConfigurationItem,
    DiscoveryRun,
    KnownChange,
    KnownRelease,
    Lifecycle,
    RefusedWrite,
    Relationship,
    RelationshipType,
    Write,
    checked_key,
    ci_id_for,
    known_change_id,
    known_release_id,
    relationship_id_for,
    write_refusal,
)
from changeledger.cmdb.reports import CmdbGraph, Difference, Oversight, differences
from changeledger.runtime.domain import Aggregate, DomainError, NotFound, NotPermitted, RuleViolated
from changeledger.runtime.projection import LiveProjection
from changeledger.runtime.store import ServiceApplication


@dataclass(frozen=True)
class NewCi:
    key: str
    type: CiType
    name: str
    owner: str
    attributes: dict[str, Any] = field(default_factory=dict)
    version: str | None = None
    lifecycle: Lifecycle = Lifecycle.ACTIVE


@dataclass(frozen=True)
class Observation:
    """What discovery saw of one CI: only the fields given are compared."""

    key: str
    fields: dict[str, Any]
    attributes: dict[str, Any] = field(default_factory=dict)


class CmdbApplication(ServiceApplication):
    name = "cmdb"
    snapshotted = (ConfigurationItem, KnownRelease)
    value_objects = (CiType, Lifecycle, RelationshipType, ChangeStatus)

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.graph = LiveProjection(self, CmdbGraph)
        self.oversight = LiveProjection(self, Oversight)

    # The writes made under a change

    def writes_under(
        self, changes: Sequence[KnownChange], as_of: datetime | None = None
    ) -> dict[UUID, list[Write]]:
        """The writes made under each change (until `as_of`), in the order they were made.

        A change writes only to the CIs of its scope (and their relationships), so the
        writes are read from those aggregates' events when asked for: an index of them
        in memory would grow with every write the CMDB ever accepted."""
        return {change.change_id: self._writes(change, as_of) for change in changes}

    def _writes(self, change: KnownChange, as_of: datetime | None) -> list[Write]:
        scope = set(change.ci_scope)
        if not scope:
            return []  # never authorised: nothing was written under it
        written = [ci_id_for(ci) for ci in sorted(scope)]
        written += self.graph.query(
            lambda g: [r.id for r in g.all(Relationship) if r.source in scope]
        )
        events: Iterator[Any] = (
            e for i in written for e in self.events_naming(i, change.change_id)
        )
        found = [
            Write.of(e)
            for e in events
            if e.change_id == change.change_id and (as_of is None or e.timestamp <= as_of)
        ]
        return sorted(found, key=lambda w: w.at)

    # The change authority

    def known_change(self, change_id: UUID) -> KnownChange | None:
        key = known_change_id(change_id)
        return self.get(key, KnownChange) if self.contains(key) else None

    def _authorise(self, operation: str, ci: str, change_id: UUID | None) -> UUID:
        """The change that authorises this write; otherwise the refusal, recorded."""
        change = self.known_change(change_id) if change_id is not None else None
        error = write_refusal(change_id, change, ci)
        if error is not None:
            self._refuse(error, operation, ci, change_id)
        assert change_id is not None
        return change_id

    def _refuse(
        self, error: DomainError, operation: str, ci: str, change_id: UUID | None
    ) -> NoReturn:
        refusal = self._refusal(error, operation, ci, change_id)
        self.record_refusal(refusal)
        error.extra["refusal_id"] = str(refusal.id)
        raise error

    def _refusal(
        self,
        error: DomainError,
        operation: str,
        ci: str,
        change_id: UUID | None,
        release_id: UUID | None = None,
    ) -> RefusedWrite:
        owner = self.graph.query(lambda g: g.cis[ci].owner if ci in g.cis else None)
        return RefusedWrite.of(error, operation, ci, change_id, owner, release_id)

    # Configuration items

    def ci(
        self, key: str, as_of: datetime | None = None, expected_version: int | None = None
    ) -> ConfigurationItem:
        ci_id = ci_id_for(checked_key(key))
        if as_of is None and not self.contains(ci_id):
            raise NotFound(f"there is no CI {key}", rule="ci-unknown")
        return self.get(ci_id, ConfigurationItem, as_of=as_of, expected_version=expected_version)

    def differences(
        self, key: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[Difference]:
        ci_id = self.ci(key).id
        return differences(self.events.get(ci_id), since, until)

    def register_ci(self, new: NewCi, change_id: UUID | None) -> ConfigurationItem:
        checked_key(new.key)
        authorised = self._authorise("register", new.key, change_id)
        if self.contains(ci_id_for(new.key)):
            raise RuleViolated(f"{new.key} is already registered", rule="ci-exists")
        ci = ConfigurationItem.register(
            new.key,
            new.type,
            new.name,
            new.owner,
            new.attributes,
            new.version,
            new.lifecycle,
            authorised,
        )
        self.save(ci)
        return ci

    def update_ci(
        self,
        key: str,
        change_id: UUID | None,
        name: str | None = None,
        owner: str | None = None,
        attributes: dict[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> ConfigurationItem:
        authorised = self._authorise("update", checked_key(key), change_id)
        ci = self.ci(key, expected_version=expected_version)
        ci.update(authorised, name, owner, attributes)
        self.save(ci)
        return ci

    def change_lifecycle(
        self,
        key: str,
        to: Lifecycle,
        change_id: UUID | None,
        reason: str = "",
        expected_version: int | None = None,
    ) -> ConfigurationItem:
        operation = "retire" if to is Lifecycle.RETIRED else "change-lifecycle"
        authorised = self._authorise(operation, checked_key(key), change_id)
        ci = self.ci(key, expected_version=expected_version)
        ci.change_lifecycle(to, authorised, reason)
        self.save(ci)
        return ci

    def set_version(
        self,
        key: str,
        version: str,
        change_id: UUID | None,
        expected_version: int | None = None,
    ) -> ConfigurationItem:
        authorised = self._authorise("set-version", checked_key(key), change_id)
        ci = self.ci(key, expected_version=expected_version)
        ci.set_version(version, authorised)
        self.save(ci)
        return ci

    # Relationships (they belong to their source CI, which the change must cover)

    def relate(
        self, source: str, kind: RelationshipType, target: str, change_id: UUID | None
    ) -> Relationship:
        authorised = self._authorise("relate", checked_key(source), change_id)
        owner = self._live(source).owner
        self._live(target)
        relationship_id = relationship_id_for(source, kind, target)
        if self.contains(relationship_id):
            relationship = self.get(relationship_id, Relationship)
            relationship.restore(authorised, owner)
        else:
            relationship = Relationship.add(source, kind, target, authorised, owner)
        if self.graph.query(lambda g: g.would_cycle(source, kind, target)):
            raise RuleViolated(
                f"{target} is already (transitively) part of {source}: a part_of cycle",
                rule="part-of-cycle",
            )
        self.save(relationship)
        return relationship

    def unrelate(
        self, source: str, kind: RelationshipType, target: str, change_id: UUID | None
    ) -> Relationship:
        authorised = self._authorise("unrelate", checked_key(source), change_id)
        relationship_id = relationship_id_for(source, kind, target)
        if not self.contains(relationship_id):
            raise NotFound(f"{source} {kind.value} {target} does not exist", rule="no-such-edge")
        relationship = self.get(relationship_id, Relationship)
        relationship.remove(authorised, self.ci(source).owner)
        self.save(relationship)
        return relationship

    def _live(self, key: str) -> ConfigurationItem:
        ci = self.ci(key)
        if ci.lifecycle is Lifecycle.RETIRED:
            raise RuleViolated(f"{key} is Retired", rule="ci-retired")
        return ci

    # The bootstrap import: the only write without a change, into an empty CMDB

    def bootstrap(
        self,
        cis: Sequence[NewCi],
        relationships: Sequence[tuple[str, RelationshipType, str]],
        reason: str,
    ) -> Bootstrap:
        empty = self.graph.query(lambda g: g.is_empty) and not self.contains(Bootstrap.create_id())
        record = Bootstrap.import_into(empty, len(cis), len(relationships), reason)
        registered: dict[str, ConfigurationItem] = {}
        for new in cis:
            if new.key in registered:
                raise RuleViolated(f"{new.key} is listed twice", rule="ci-exists")
            registered[new.key] = ConfigurationItem.register(
                new.key,
                new.type,
                new.name,
                new.owner,
                new.attributes,
                new.version,
                new.lifecycle,
                None,
                bootstrap=True,
            )
        scratch = CmdbGraph()
        edges: dict[UUID, Relationship] = {}
        for source, kind, target in relationships:
            if source not in registered or target not in registered:
                missing = source if source not in registered else target
                raise NotFound(f"{missing} is not among the imported CIs", rule="ci-unknown")
            if relationship_id_for(source, kind, target) in edges:
                raise RuleViolated(
                    f"{source} {kind.value} {target} is listed twice", rule="relationship-exists"
                )
            if scratch.would_cycle(source, kind, target):
                raise RuleViolated(
                    f"{source} part_of {target} closes a cycle", rule="part-of-cycle"
                )
            edge = Relationship.add(
                source, kind, target, None, registered[source].owner, bootstrap=True
            )
            edges[edge.id] = edge
            scratch.out[source].add((kind.value, target))
        self.save(record, *registered.values(), *edges.values())
        return record

    # Discovery: compared with the authorised state, never applied

    def record_discovery(self, source: str, observations: Sequence[Observation]) -> DiscoveryRun:
        def differences(graph: CmdbGraph) -> list[tuple[str, str, Any, Any, str | None]]:
            found: list[tuple[str, str, Any, Any, str | None]] = []
            for seen in observations:
                ci = graph.cis.get(seen.key)
                if ci is None:
                    found.append((seen.key, "existence", "absent", "present", None))
                    continue
                authorised = ci.state()
                observed = seen.fields | {f"attributes.{k}": v for k, v in seen.attributes.items()}
                for name, value in observed.items():
                    if authorised.get(name) != value:
                        found.append((seen.key, name, authorised.get(name), value, ci.owner))
            return found

        run = DiscoveryRun(source=source, observed=len(observations))
        for drift in self.graph.query(differences):
            run.record_drift(*drift)
        self.save(run)
        return run

    # What planning's events cause

    def learn_change(self, change_id: UUID, **raised: Any) -> list[Aggregate]:
        if self.contains(known_change_id(change_id)):
            return []
        change = KnownChange(change_id=change_id, **raised)
        self.enlist(change)
        return [change]

    def learn_release_version(self, release_id: UUID, ci: str, version: str) -> list[Aggregate]:
        release = self._known_release(release_id)
        release.plan_version(ci, version)
        return [release]

    def _known_release(self, release_id: UUID) -> KnownRelease:
        key = known_release_id(release_id)
        if self.contains(key):
            return self.get(key, KnownRelease)
        release = KnownRelease(release_id=release_id)
        self.enlist(release)
        return release

    def apply_deployment(self, release_id: UUID) -> list[Aggregate]:
        """Set each CI to the version the release planned, under the release's change that
        covers it; a version no open change covers is refused and recorded instead."""
        release = self._known_release(release_id)
        if not release.apply_deployment():
            return []
        changes = self.oversight.query(lambda o: o.changes_of_release(release_id))
        changed: list[Aggregate] = [release]
        for key, version in sorted(release.planned_versions.items()):
            covering = [c for c in changes if c.open_for_writes and c.covers(key)]
            error: DomainError | None = None
            if not covering:
                error = _no_covering_change(release_id, key, changes)
            elif not self.contains(ci_id_for(key)):
                error = NotFound(f"there is no CI {key}", rule="ci-unknown")
            else:
                ci = self.get(ci_id_for(key), ConfigurationItem)
                try:
                    ci.set_version(version, covering[0].change_id, release_id)
                    changed.append(ci)
                except DomainError as refused:
                    error = refused
            if error is not None:
                change_id = covering[0].change_id if covering else None
                changed.append(self._refusal(error, "deploy-version", key, change_id, release_id))
        return changed


def _no_covering_change(release_id: UUID, ci: str, changes: Sequence[KnownChange]) -> DomainError:
    for change in changes:
        if change.covers(ci) and (error := write_refusal(change.change_id, change, ci)):
            return error
    return NotPermitted(
        f"no authorised, open change of release {release_id} covers {ci}",
        rule="release-change-missing",
    )

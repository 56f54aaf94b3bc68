"""The CMDB's read models: the CI graph (now, or as it stood at any time), and the
oversight views: changes known, refusals and drift. The writes each change made are read
from the store when asked for (`CmdbApplication.writes_under`), not held here."""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from changeledger.cmdb.domain import (
    CiType,
    ConfigurationItem,
    DiscoveryRun,
    KnownChange,
    Lifecycle,
    RefusedWrite,
    Relationship,
    RelationshipType,
)
from changeledger.cmdb.domain.graph import Direction, Impact, impact, reaches
from changeledger.runtime.domain import Provenance
from changeledger.runtime.history import field_changes
from changeledger.runtime.projection import AggregateIndex


@dataclass(frozen=True)
class Difference:
    """One event of a CI: when, under which change, by whom, and each field it changed."""

    at: datetime
    revision: int
    event: str
    change_id: UUID | None
    release_id: UUID | None
    bootstrap: bool
    provenance: Provenance
    changes: tuple[tuple[str, Any, Any], ...]


def differences(
    events: Iterable[Any], since: datetime | None, until: datetime | None
) -> list[Difference]:
    """The CI's events between `since` and `until`, each with its field-level changes
    (folding the whole history, so the first one shown has the right "before")."""
    found: list[Difference] = []
    ci: ConfigurationItem | None = None
    for event in events:
        before = ci.state() if ci is not None else {}
        ci = event.mutate(ci)
        assert ci is not None
        if (since is not None and event.timestamp < since) or (
            until is not None and event.timestamp > until
        ):
            continue
        changes = tuple(field_changes(before, ci.state()))
        found.append(
            Difference(
                at=event.timestamp,
                revision=event.originator_version,
                event=type(event).__name__,
                change_id=event.change_id,
                release_id=getattr(event, "release_id", None),
                bootstrap=getattr(event, "bootstrap", False),
                provenance=event.provenance,
                changes=changes,
            )
        )
    return found


_ANSWERS = 32  # a whole-graph answer for 10,000 CIs is about 1 MB


class CmdbGraph(AggregateIndex):
    indexed = (ConfigurationItem, Relationship)

    def __init__(self) -> None:
        super().__init__()
        self.cis: dict[str, ConfigurationItem] = {}
        self.out: defaultdict[str, set[tuple[str, str]]] = defaultdict(set)
        self.into: defaultdict[str, set[tuple[str, str]]] = defaultdict(set)
        #: Rendered answers to impact questions, valid until the graph next changes:
        #: the graph changes far less often than it is asked about.
        self.answers: OrderedDict[Hashable, bytes] = OrderedDict()

    def apply(self, event: Any) -> None:
        self.answers.clear()
        super().apply(event)
        changed = self.aggregates[event.originator_id]
        if isinstance(changed, ConfigurationItem):
            self.cis[changed.key] = changed
        else:
            assert isinstance(changed, Relationship)
            self._edge(changed)

    def _edge(self, relationship: Relationship) -> None:
        source, kind, target = relationship.ends
        if relationship.active:
            self.out[source].add((kind, target))
            self.into[target].add((kind, source))
        else:
            self.out[source].discard((kind, target))
            self.into[target].discard((kind, source))

    # Queries

    def items(
        self,
        type: CiType | None = None,
        lifecycle: Lifecycle | None = None,
        owner: str | None = None,
    ) -> list[ConfigurationItem]:
        return sorted(
            (
                ci
                for ci in self.cis.values()
                if (type is None or ci.type is type)
                and (lifecycle is None or ci.lifecycle is lifecycle)
                and (owner is None or ci.owner == owner)
            ),
            key=lambda ci: ci.key,
        )

    def relationships(self, ci: str | None = None) -> list[Relationship]:
        return sorted(
            (
                r
                for r in self.all(Relationship)
                if r.active and (ci is None or ci in (r.source, r.target))
            ),
            key=lambda r: r.ends,
        )

    def edges(self, cis: Collection[str], types: Collection[str] | None) -> list[tuple[str, ...]]:
        """The live edges between `cis`, of `types` (all when None)."""
        return sorted(
            (source, kind, target)
            for source in cis
            for kind, target in self.out.get(source, ())
            if target in cis and (types is None or kind in types)
        )

    def impact(
        self, ci: str, direction: Direction, depth: int, types: Collection[str] | None
    ) -> Impact:
        return impact(self.out, self.into, ci, direction, depth, types)

    def answer(self, question: Hashable, compute: Callable[[], bytes]) -> bytes:
        """The answer to `question` on the graph as it is, computed once per change."""
        found = self.answers.get(question)
        if found is None:
            found = self.answers[question] = compute()
            if len(self.answers) > _ANSWERS:
                self.answers.popitem(last=False)
        return found

    def would_cycle(self, source: str, kind: RelationshipType, target: str) -> bool:
        """Whether `source part_of target` would close a loop of `part_of`."""
        part_of = RelationshipType.PART_OF.value
        return kind is RelationshipType.PART_OF and reaches(self.out, target, source, part_of)

    @property
    def is_empty(self) -> bool:
        return not self.cis


class Oversight(AggregateIndex):
    """Changes as the CMDB knows them, refused writes and drift."""

    indexed = (KnownChange, RefusedWrite, DiscoveryRun)

    def changes(self) -> list[KnownChange]:
        return self.all(KnownChange)

    def changes_of_release(self, release_id: UUID) -> list[KnownChange]:
        return [c for c in self.all(KnownChange) if c.target_release_id == release_id]

    def refusals(self, ci: str | None = None, change_id: UUID | None = None) -> list[RefusedWrite]:
        return sorted(
            (
                r
                for r in self.all(RefusedWrite)
                if (ci is None or r.ci == ci) and (change_id is None or r.change_id == change_id)
            ),
            key=lambda r: r.created_on,
        )

    def runs(self) -> list[DiscoveryRun]:
        return sorted(self.all(DiscoveryRun), key=lambda r: r.created_on)

"""A typed, directed relationship between two CIs, identified by its ends and type, so the
same relationship can exist only once. Removing one keeps its history; adding it again
restores it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from changeledger.cmdb.domain.values import RelationshipType, relationship_id_for
from changeledger.runtime.domain import Aggregate, RuleViolated


class Relationship(Aggregate):
    class Event(Aggregate.Event):
        # Every event names the relationship's ends, and the change it was made under.
        source: str
        type: RelationshipType
        target: str
        #: The source CI's owner at the time: the relationship belongs to the source.
        owner: str
        change_id: UUID | None

    class Added(Event, Aggregate.Created):
        bootstrap: bool

    @staticmethod
    def create_id(source: str, type: RelationshipType, target: str, **_: Any) -> UUID:
        return relationship_id_for(source, type, target)

    @event(Added)
    def __init__(
        self,
        source: str,
        type: RelationshipType,
        target: str,
        change_id: UUID | None,
        owner: str,
        bootstrap: bool,
    ) -> None:
        self.source = source
        self.type = type
        self.target = target
        self.active = True
        self.last_change_id = change_id

    @classmethod
    def add(
        cls,
        source: str,
        type: RelationshipType,
        target: str,
        change_id: UUID | None,
        owner: str,
        bootstrap: bool = False,
    ) -> Relationship:
        if source == target:
            raise RuleViolated(f"{source} cannot be related to itself", rule="self-loop")
        return cls(
            source=source,
            type=type,
            target=target,
            change_id=change_id,
            owner=owner,
            bootstrap=bootstrap,
        )

    @property
    def ends(self) -> tuple[str, str, str]:
        return self.source, self.type.value, self.target

    class Removed(Event):
        pass

    def remove(self, change_id: UUID, owner: str) -> None:
        if not self.active:
            raise RuleViolated(
                f"{self.source} {self.type.value} {self.target} was already removed",
                rule="relationship-removed",
            )
        self._removed(**self._ends(), change_id=change_id, owner=owner)

    def _ends(self) -> dict[str, Any]:
        return {"source": self.source, "type": self.type, "target": self.target}

    @event(Removed)
    def _removed(
        self, source: str, type: RelationshipType, target: str, change_id: UUID, owner: str
    ) -> None:
        self.active = False
        self.last_change_id = change_id

    class Restored(Event):
        pass

    def restore(self, change_id: UUID, owner: str) -> None:
        if self.active:
            raise RuleViolated(
                f"{self.source} {self.type.value} {self.target} already exists",
                rule="relationship-exists",
            )
        self._restored(**self._ends(), change_id=change_id, owner=owner)

    @event(Restored)
    def _restored(
        self, source: str, type: RelationshipType, target: str, change_id: UUID, owner: str
    ) -> None:
        self.active = True
        self.last_change_id = change_id

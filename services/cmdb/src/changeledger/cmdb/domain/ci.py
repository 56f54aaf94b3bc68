"""A configuration item: what it is, who owns it, its attributes, lifecycle and version.

Every event names the change it was made under (`change_id`; none only for the recorded
bootstrap import) and the owner after it, whom communication reaches about the CI.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from changeledger.cmdb.domain.values import (
    LIFECYCLE_STEPS,
    CiType,
    Lifecycle,
    checked_attributes,
    checked_key,
    checked_version,
    ci_id_for,
)
from changeledger.runtime.domain import Aggregate, InvalidValue, RuleViolated


class ConfigurationItem(Aggregate):
    class Event(Aggregate.Event):
        # Every event names the CI, its owner after it, and the change it was made under.
        key: str
        owner: str
        change_id: UUID | None

    class Registered(Event, Aggregate.Created):
        type: CiType
        name: str
        attributes: dict[str, Any]
        version: str | None
        lifecycle: Lifecycle
        bootstrap: bool

    @staticmethod
    def create_id(key: str, **_: Any) -> UUID:
        return ci_id_for(key)

    @event(Registered)
    def __init__(
        self,
        key: str,
        type: CiType,
        name: str,
        owner: str,
        attributes: dict[str, Any],
        version: str | None,
        lifecycle: Lifecycle,
        change_id: UUID | None,
        bootstrap: bool,
    ) -> None:
        self.key = key
        self.type = type
        self.name = name
        self.owner = owner
        self.attributes = attributes
        # Not `version`: that is the aggregate's own event count.
        self.ci_version = version
        self.lifecycle = lifecycle
        self.last_change_id = change_id

    @classmethod
    def register(
        cls,
        key: str,
        type: CiType,
        name: str,
        owner: str,
        attributes: dict[str, Any],
        version: str | None,
        lifecycle: Lifecycle,
        change_id: UUID | None,
        bootstrap: bool = False,
    ) -> ConfigurationItem:
        if lifecycle is Lifecycle.RETIRED:
            raise InvalidValue("a CI is registered Planned or Active", rule="register-retired")
        return cls(
            key=checked_key(key),
            type=type,
            name=_text(name, "name"),
            owner=_text(owner, "owner"),
            attributes=checked_attributes(attributes),
            version=checked_version(version),
            lifecycle=lifecycle,
            change_id=change_id,
            bootstrap=bootstrap,
        )

    def _require_live(self, doing: str) -> None:
        if self.lifecycle is Lifecycle.RETIRED:
            raise RuleViolated(f"{self.key} is Retired: it cannot {doing}", rule="ci-retired")

    # Updates

    class Updated(Event):
        name: str | None
        attributes_set: dict[str, Any]
        attributes_removed: tuple[str, ...]

    def update(
        self,
        change_id: UUID,
        name: str | None = None,
        owner: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> None:
        """Rename, change owner, or patch attributes (a JSON merge patch: null removes)."""
        self._require_live("be updated")
        patch = attributes or {}
        removed = tuple(k for k, v in patch.items() if v is None and k in self.attributes)
        changed = {k: v for k, v in patch.items() if v is not None and self.attributes.get(k) != v}
        result = {k: v for k, v in self.attributes.items() if k not in removed} | changed
        checked_attributes(result)
        new_name = _text(name, "name") if name is not None and name != self.name else None
        new_owner = _text(owner, "owner") if owner is not None else self.owner
        if new_name is None and new_owner == self.owner and not changed and not removed:
            return  # nothing differs: nothing to record
        self._updated(
            key=self.key,
            change_id=change_id,
            owner=new_owner,
            name=new_name,
            attributes_set=changed,
            attributes_removed=removed,
        )

    @event(Updated)
    def _updated(
        self,
        key: str,
        change_id: UUID,
        owner: str,
        name: str | None,
        attributes_set: dict[str, Any],
        attributes_removed: tuple[str, ...],
    ) -> None:
        self.owner = owner
        if name is not None:
            self.name = name
        kept = {k: v for k, v in self.attributes.items() if k not in attributes_removed}
        self.attributes = kept | attributes_set
        self.last_change_id = change_id

    # Lifecycle

    class LifecycleChanged(Event):
        lifecycle: Lifecycle
        previous: Lifecycle

    class Retired(Event):
        reason: str

    def change_lifecycle(self, to: Lifecycle, change_id: UUID, reason: str = "") -> None:
        if to is self.lifecycle:
            return
        if to not in LIFECYCLE_STEPS[self.lifecycle]:
            raise RuleViolated(
                f"{self.key} cannot go from {self.lifecycle.value} to {to.value}",
                rule="lifecycle-step",
                lifecycle=self.lifecycle.value,
            )
        if to is Lifecycle.RETIRED:
            self.retire(change_id, reason)
        else:
            self._lifecycle_changed(
                key=self.key,
                change_id=change_id,
                owner=self.owner,
                lifecycle=to,
                previous=self.lifecycle,
            )

    @event(LifecycleChanged)
    def _lifecycle_changed(
        self, key: str, change_id: UUID, owner: str, lifecycle: Lifecycle, previous: Lifecycle
    ) -> None:
        self.lifecycle = lifecycle
        self.last_change_id = change_id

    def retire(self, change_id: UUID, reason: str) -> None:
        self._require_live("be retired again")
        self._retired(key=self.key, change_id=change_id, owner=self.owner, reason=reason)

    @event(Retired)
    def _retired(self, key: str, change_id: UUID, owner: str, reason: str) -> None:
        self.lifecycle = Lifecycle.RETIRED
        self.last_change_id = change_id

    # Version

    class VersionSet(Event):
        version: str
        previous: str | None
        release_id: UUID | None

    def set_version(self, version: str, change_id: UUID, release_id: UUID | None = None) -> None:
        self._require_live("change version")
        checked_version(version)
        if version != self.ci_version:
            self._version_set(
                key=self.key,
                change_id=change_id,
                owner=self.owner,
                version=version,
                previous=self.ci_version,
                release_id=release_id,
            )

    @event(VersionSet)
    def _version_set(
        self,
        key: str,
        change_id: UUID,
        owner: str,
        version: str,
        previous: str | None,
        release_id: UUID | None,
    ) -> None:
        self.ci_version = version
        self.last_change_id = change_id

    def state(self) -> dict[str, Any]:
        """The CI's fields as a flat mapping (attributes as `attributes.<name>`), for diffs
        and drift."""
        fields: dict[str, Any] = {
            "type": self.type.value,
            "name": self.name,
            "owner": self.owner,
            "lifecycle": self.lifecycle.value,
            "version": self.ci_version,
        }
        return fields | {f"attributes.{k}": v for k, v in self.attributes.items()}


def _text(value: str, field: str) -> str:
    if not value.strip() or len(value) > 200:
        raise InvalidValue(f"{field} is 1 to 200 characters", rule=field)
    return value

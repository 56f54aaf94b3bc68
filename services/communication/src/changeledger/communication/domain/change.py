"""What communication knows of changes and CIs, learned from planning's and the CMDB's
events and recorded as its own: a change's title and window name it in messages, and a
CI's owner is whom a change to that CI must reach."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from changeledger.runtime.domain import Aggregate

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:changeledger:communication:change")


def known_change_id(change_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"change\n{change_id}")


def known_ci_id(key: str) -> UUID:
    return uuid5(_NAMESPACE, f"ci\n{key}")


class KnownChange(Aggregate):
    class Learned(Aggregate.Created):
        change_id: UUID
        title: str
        type: str
        requested_by: str
        affected_cis: tuple[str, ...]
        target_release_id: UUID | None

    @staticmethod
    def create_id(change_id: UUID, **_: Any) -> UUID:
        return known_change_id(change_id)

    @event(Learned)
    def __init__(
        self,
        change_id: UUID,
        title: str,
        type: str,
        requested_by: str,
        affected_cis: tuple[str, ...],
        target_release_id: UUID | None,
    ) -> None:
        self.change_id = change_id
        self.title = title
        self.type = type
        self.requested_by = requested_by
        self.affected_cis = affected_cis
        self.target_release_id = target_release_id
        self.ci_scope: tuple[str, ...] = ()
        self.window_start: datetime | None = None
        self.window_end: datetime | None = None
        self.reason = ""

    class AuthorisationLearned(Aggregate.Event):
        ci_scope: tuple[str, ...]
        window_start: datetime
        window_end: datetime
        reason: str

    def learn_authorisation(
        self, ci_scope: tuple[str, ...], start: datetime, end: datetime, reason: str
    ) -> None:
        if (ci_scope, start, end) != (self.ci_scope, self.window_start, self.window_end):
            self._authorisation_learned(
                ci_scope=ci_scope, window_start=start, window_end=end, reason=reason
            )

    @event(AuthorisationLearned)
    def _authorisation_learned(
        self, ci_scope: tuple[str, ...], window_start: datetime, window_end: datetime, reason: str
    ) -> None:
        self.ci_scope = ci_scope
        self.window_start, self.window_end = window_start, window_end
        self.reason = reason

    def fields(self) -> dict[str, str]:
        """The change's fields a message template can use."""
        cis = self.ci_scope or self.affected_cis
        return {
            "change_id": str(self.change_id),
            "change_title": self.title,
            "change_type": self.type,
            "change_requested_by": self.requested_by,
            "change_cis": ", ".join(cis),
            "change_window_start": self.window_start.isoformat() if self.window_start else "",
            "change_window_end": self.window_end.isoformat() if self.window_end else "",
            "change_reason": self.reason,
        }


class KnownCi(Aggregate):
    """A CI's owner, as the CMDB last published it."""

    class Learned(Aggregate.Created):
        key: str
        owner: str

    @staticmethod
    def create_id(key: str, **_: Any) -> UUID:
        return known_ci_id(key)

    @event(Learned)
    def __init__(self, key: str, owner: str) -> None:
        self.key = key
        self.owner = owner

    class OwnerLearned(Aggregate.Event):
        owner: str

    def learn_owner(self, owner: str) -> None:
        if owner != self.owner:
            self._owner_learned(owner=owner)

    @event(OwnerLearned)
    def _owner_learned(self, owner: str) -> None:
        self.owner = owner

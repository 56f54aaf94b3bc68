"""One write made under a change, as auditors see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class Write:
    """One authorised write: when, to which CI, what, by whom, under which release."""

    at: datetime
    ci: str
    what: str
    actor: str
    release_id: UUID | None

    @classmethod
    def of(cls, change_event: Any) -> Write:
        """The write that a CI's or a relationship's event records (a relationship's
        writes are its source CI's)."""
        return cls(
            at=change_event.timestamp,
            ci=getattr(change_event, "key", None) or change_event.source,
            what=type(change_event).__qualname__,
            actor=change_event.provenance.actor.sub,
            release_id=getattr(change_event, "release_id", None),
        )

"""What every service's domain model stands on: attributable aggregates and rule errors.

Every event records its provenance: who acted (from a verified token, never from a
request body), the command or policy that acted, and the correlation and causation ids
that tie it to the business action it belongs to. The service layer sets the provenance
for the duration of one command; the aggregate stamps it on each event it triggers.

This module imports no web, broker or database code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from eventsourcing import domain as es


@dataclass(frozen=True)
class Actor:
    sub: str
    roles: tuple[str, ...] = ()

    def has_any(self, roles: set[str] | frozenset[str]) -> bool:
        return not roles.isdisjoint(self.roles)


@dataclass(frozen=True)
class Provenance:
    actor: Actor
    correlation_id: str
    command: str
    causation_id: str | None = None


_provenance: ContextVar[Provenance | None] = ContextVar("provenance", default=None)


class MissingProvenance(RuntimeError):
    """An event was triggered outside a command: nobody could be held to account for it."""


@contextmanager
def acting(provenance: Provenance) -> Iterator[Provenance]:
    """Run a command on behalf of `provenance.actor`; events triggered inside record it."""
    token = _provenance.set(provenance)
    try:
        yield provenance
    finally:
        _provenance.reset(token)


def now() -> datetime:
    """The time a decision is taken (an aware datetime in UTC)."""
    return datetime.now(UTC)


def current_provenance() -> Provenance:
    provenance = _provenance.get()
    if provenance is None:
        raise MissingProvenance("domain events can only be triggered inside acting(...)")
    return provenance


class Aggregate(es.Aggregate):
    """An eventsourcing aggregate whose events all carry their provenance."""

    class Event(es.Aggregate.Event):
        provenance: Provenance

    class Created(Event, es.Aggregate.Created):
        pass

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        kwargs.setdefault("provenance", current_provenance())
        super().trigger_event(event_class, **kwargs)

    @classmethod
    def _create(cls, event_class: type[Any], *, id: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("provenance", current_provenance())
        return super()._create(event_class, id=id, **kwargs)


# Refusals. Each names the rule that was broken; the HTTP layer turns them into problems.


class DomainError(Exception):
    """A command was refused. Nothing was recorded."""

    status: ClassVar[int] = 409
    title: ClassVar[str] = "A business rule refused the command"
    default_rule: ClassVar[str] = "rule-violated"

    def __init__(self, detail: str, rule: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.rule = rule or self.default_rule
        self.extra = extra


class RuleViolated(DomainError):
    """The command breaks a business rule in the aggregate's current state."""


class NotFound(DomainError):
    status = 404
    title = "Not found"
    default_rule = "not-found"


class InvalidValue(DomainError):
    status = 422
    title = "A value is not valid"
    default_rule = "invalid-value"


class NotPermitted(DomainError):
    status = 403
    title = "Not permitted"
    default_rule = "not-permitted"


class VersionMismatch(DomainError):
    """The caller saw an older version of the aggregate than the one stored (If-Match)."""

    status = 412
    title = "The resource has changed since you read it"
    default_rule = "version-mismatch"

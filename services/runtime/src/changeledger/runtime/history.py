"""Reading the audit trail: an aggregate's history (when, who, why, what changed), its
state at any time, the changes between two times, one business action traced by its
correlation id, and an export with the envelope fields. All of it from the event store
alone, so it works the same on SQLite and PostgreSQL, for any service.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from changeledger.runtime.domain import Provenance
from changeledger.runtime.rawlog import raw_log
from changeledger.runtime.relay import envelope_id
from changeledger.runtime.store import ServiceApplication

Change = tuple[str, Any, Any]
#: Values that are their own plain copy (exactly these types, not their subclasses).
_SCALARS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """A JSON-friendly copy of a value: dataclasses as objects, enums as their values."""
    if type(value) in _SCALARS:  # most values: no need to ask what else they are
        return value
    if isinstance(value, Enum):
        return plain(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        # In a fixed order: a set's order differs between processes (str hashing is
        # randomised), and its plain copy is compared and hashed across them.
        return sorted((plain(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def state_of(aggregate: Any) -> dict[str, Any]:
    """An aggregate's fields, without the event-sourcing bookkeeping."""
    if aggregate is None:
        return {}
    fields = {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}
    return {k: plain(v) for k, v in sorted(fields.items())}


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted paths (`budget.amount`), so changes name exact fields."""
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat |= flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return flat
    return {prefix: value}


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Each field that differs between two states, by its dotted path."""
    return field_changes(flatten(before), flatten(after))


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Each key whose value differs between two flat mappings, in key order."""
    return [
        (name, old.get(name), new.get(name))
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    ]


@dataclasses.dataclass(frozen=True)
class Entry:
    """One event of an aggregate: when, who, why, and what it changed."""

    service: str
    aggregate_id: UUID
    version: int
    at: datetime
    event: str
    actor: str
    roles: tuple[str, ...]
    command: str
    correlation_id: str
    causation_id: str | None
    changes: tuple[Change, ...]

    def as_json(self) -> dict[str, Any]:
        fields: dict[str, Any] = plain(dataclasses.asdict(self))
        return fields | {
            "changes": [{"field": f, "before": b, "after": a} for f, b, a in self.changes]
        }


def _event_name(event: Any) -> str:
    return type(event).__qualname__


def _entry(service: str, event: Any, changed: list[Change]) -> Entry:
    provenance: Provenance = event.provenance
    return Entry(
        service=service,
        aggregate_id=event.originator_id,
        version=event.originator_version,
        at=event.timestamp,
        event=_event_name(event),
        actor=provenance.actor.sub,
        roles=provenance.actor.roles,
        command=provenance.command,
        correlation_id=provenance.correlation_id,
        causation_id=provenance.causation_id,
        changes=tuple(changed),
    )


def _events(app: ServiceApplication, aggregate_id: UUID) -> Iterator[Any]:
    return iter(app.events.get(aggregate_id))


def history(app: ServiceApplication, aggregate_id: UUID) -> list[Entry]:
    """Every event of the aggregate, each with the fields it changed."""
    entries: list[Entry] = []
    aggregate: Any = None
    before: dict[str, Any] = {}
    for event in _events(app, aggregate_id):
        aggregate = event.mutate(aggregate)
        after = state_of(aggregate)
        entries.append(_entry(app.name, event, changes(before, after)))
        before = after
    return entries


def state_at(app: ServiceApplication, aggregate_id: UUID, moment: datetime) -> dict[str, Any]:
    """The aggregate's fields as they were at `moment` (empty if it did not exist yet)."""
    aggregate: Any = None
    for event in _events(app, aggregate_id):
        if event.timestamp > moment:
            break
        aggregate = event.mutate(aggregate)
    return state_of(aggregate)


def changed_between(
    app: ServiceApplication, aggregate_id: UUID, since: datetime, until: datetime
) -> tuple[list[Change], list[Entry]]:
    """The net field changes from `since` to `until`, and the events that made them."""
    before, after = state_at(app, aggregate_id, since), state_at(app, aggregate_id, until)
    events = [e for e in history(app, aggregate_id) if since < e.at <= until]
    return changes(before, after), events


def stored_events(
    app: ServiceApplication, since: datetime | None = None, until: datetime | None = None
) -> Iterator[tuple[int, Any]]:
    """Every stored event in log order, with its log position (streamed)."""
    decoder = app.decoder
    ids: dict[str, UUID] = {}
    for position, key, version, topic, state in raw_log(app):
        originator_id = ids.get(key) or ids.setdefault(key, UUID(key))
        event: Any = decoder.decode(topic, originator_id, version, state)
        if since is not None and event.timestamp < since:
            continue
        if until is not None and event.timestamp > until:
            continue
        yield position, event


def trace(app: ServiceApplication, correlation_id: str) -> list[Entry]:
    """The events of one business action in this service (those sharing its
    correlation id), in log order."""
    return [
        _entry(app.name, event, [])
        for _, event in stored_events(app)
        if getattr(event, "provenance", None) is not None
        and event.provenance.correlation_id == correlation_id
    ]


EXPORT_FIELDS = (
    "id",
    "source",
    "type",
    "subject",
    "version",
    "time",
    "actor",
    "roles",
    "command",
    "correlationid",
    "causationid",
    "sequence",
    "chain",
    "data",
)


def export_record(service: str, position: int, event: Any) -> dict[str, Any]:
    """A stored event with the envelope fields, for a regulator or an archive."""
    provenance: Provenance | None = getattr(event, "provenance", None)
    data = {
        k: plain(v)
        for k, v in vars(event).items()
        if k not in {"originator_id", "originator_version", "timestamp", "provenance", "_chain"}
    }
    return {
        "id": str(envelope_id(service, event.originator_id, event.originator_version)),
        "source": service,
        "type": _event_name(event),
        "subject": str(event.originator_id),
        "version": event.originator_version,
        "time": event.timestamp.isoformat(),
        "actor": provenance.actor.sub if provenance else None,
        "roles": " ".join(provenance.actor.roles) if provenance else "",
        "command": provenance.command if provenance else None,
        "correlationid": provenance.correlation_id if provenance else None,
        "causationid": provenance.causation_id if provenance else None,
        "sequence": position,
        "chain": getattr(event, "_chain", None),
        "data": json.dumps(data, sort_keys=True),
    }

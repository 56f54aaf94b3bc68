"""What-if replays: the store as it was at a time, copied into a scratch store, and
hypothetical commands applied to the copy. The real store is only read.

A command is a line of JSON naming one of the service application's own commands and
its arguments, for example

    {"command": "reject_change", "args": {"change_id": "...", "reason": "too risky"},
     "actor": {"sub": "carl", "roles": ["change-authority"]}}

Arguments are converted to the command's parameter types (ids, dates, enums, value
objects) by pydantic; the domain checks its rules as it would for a real request. Other
services' reactions are not replayed: the fork is of one service.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventsourcing.persistence import StoredEvent
from pydantic import ConfigDict, ValidationError, validate_call

from changeledger.runtime.audit import notifications_after
from changeledger.runtime.domain import Actor, DomainError, Provenance, acting
from changeledger.runtime.history import Entry, history
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import ServiceApplication, open_store

_BATCH = 1000


@dataclass
class Outcome:
    line: int
    command: str
    status: str  # applied, refused or invalid
    detail: str = ""
    rule: str | None = None
    http_status: int | None = None
    changed: list[Entry] = field(default_factory=list)

    @property
    def conflict(self) -> bool:
        return self.status == "refused" and self.http_status in (409, 412)


def fork(app: ServiceApplication, until: datetime, scratch: Settings) -> ServiceApplication:
    """A scratch store holding the real store's events up to `until` (byte for byte)."""
    copy = open_store(type(app), app.name, scratch)
    batch: list[StoredEvent] = []
    for notification in notifications_after(app, 0):
        if app.mapper.to_domain_event(notification).timestamp > until:  # type: ignore[attr-defined]
            continue
        batch.append(
            StoredEvent(
                originator_id=notification.originator_id,
                originator_version=notification.originator_version,
                topic=notification.topic,
                state=notification.state,
            )
        )
        if len(batch) >= _BATCH:
            copy.process_recorder.insert_events(batch)
            batch = []
    if batch:
        copy.process_recorder.insert_events(batch)
    return copy


def commands_of(lines: Iterable[str]) -> list[tuple[int, dict[str, Any] | str]]:
    """Each non-blank line, parsed (or the reason it could not be)."""
    found: list[tuple[int, dict[str, Any] | str]] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            found.append((number, f"not JSON: {error}"))
            continue
        if not isinstance(parsed, dict) or not isinstance(parsed.get("command"), str):
            found.append((number, 'each line is {"command": ..., "args": {...}}'))
            continue
        found.append((number, parsed))
    return found


def apply(fork: ServiceApplication, lines: Iterable[str]) -> list[Outcome]:
    """Apply each command to the fork, in order; a refused one changes nothing."""
    outcomes = []
    for number, parsed in commands_of(lines):
        if isinstance(parsed, str):
            outcomes.append(Outcome(number, "?", "invalid", parsed))
            continue
        outcomes.append(_apply(fork, number, parsed))
    return outcomes


def _apply(fork: ServiceApplication, number: int, line: dict[str, Any]) -> Outcome:
    name = line["command"]
    method = getattr(fork, name, None)
    if name.startswith("_") or name not in vars(type(fork)) or not callable(method):
        return Outcome(number, name, "invalid", f"{type(fork).__name__} has no command {name!r}")
    who = line.get("actor") or {}
    actor = Actor(str(who.get("sub", "what-if")), tuple(who.get("roles", ())))
    provenance = Provenance(actor, f"what-if:{number}", f"what-if:{name}")
    head = fork.process_recorder.max_notification_id() or 0
    try:
        with acting(provenance):
            checked = validate_call(config=ConfigDict(arbitrary_types_allowed=True))(method)
            checked(**(line.get("args") or {}))
    except ValidationError as error:
        return Outcome(number, name, "invalid", str(error).splitlines()[0])
    except DomainError as refused:
        return Outcome(number, name, "refused", refused.detail, refused.rule, refused.status)
    except TypeError as error:
        return Outcome(number, name, "invalid", str(error))
    touched = {n.originator_id for n in notifications_after(fork, head)}
    changed = [
        entry
        for aggregate_id in touched
        for entry in history(fork, aggregate_id)  # type: ignore[arg-type]
        if entry.correlation_id == provenance.correlation_id
    ]
    return Outcome(number, name, "applied", changed=changed)

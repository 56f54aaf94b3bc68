"""Idempotency-Key: a command sent again with the same key is answered, not applied, again.

The outcome of a keyed command is recorded as an `IdempotencyRecord`, in the same
transaction as the command's own events, so a command and its record exist together or
not at all. The record keeps a fingerprint of the request (method, path and body) and the
response. A retry with the same key and the same request gets the recorded response; the
same key with a different request is refused.
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from changeledger.runtime.domain import Aggregate

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:changeledger:idempotency")


def record_id(actor: str, key: str) -> UUID:
    return uuid5(_NAMESPACE, f"{actor}\n{key}")


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


class IdempotencyRecord(Aggregate):
    class Recorded(Aggregate.Created):
        actor: str
        key: str
        fingerprint: str
        status: int
        body: Any

    @staticmethod
    def create_id(actor: str, key: str) -> UUID:
        return record_id(actor, key)

    @event(Recorded)
    def __init__(self, actor: str, key: str, fingerprint: str, status: int, body: Any) -> None:
        self.actor = actor
        self.key = key
        self.fingerprint = fingerprint
        self.status = status
        self.body = body


@dataclass
class KeyedCommand:
    """A command in flight with an Idempotency-Key, waiting for its save."""

    actor: str
    key: str
    fingerprint: str
    status: int
    #: Renders the response from the aggregate the command saved first.
    render: Any
    recorded: bool = False

    def record_for(self, primary: Any) -> IdempotencyRecord:
        body = self.render(primary).model_dump(mode="json") if self.render else None
        if body is None:
            body = {"id": str(primary.id), "version": primary.version}
        self.recorded = True
        return IdempotencyRecord(
            actor=self.actor,
            key=self.key,
            fingerprint=self.fingerprint,
            status=self.status,
            body=body,
        )


keyed_command: ContextVar[KeyedCommand | None] = ContextVar("keyed_command", default=None)


class Replay(Exception):
    """The command was already applied: answer with what was answered then."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__("replayed")
        self.status = status
        self.body = body

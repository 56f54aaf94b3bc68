"""Idempotency-Key: a command sent again with the same key is answered, not applied, again.

A keyed command is recorded as an `IdempotencyRecord` in the same transaction as the
command's own events, so a command and its record exist together or not at all: the key
can never apply the command twice. The record keeps a fingerprint of the request (method,
path and body), the status, and the aggregate the command saved first. The response body
is added to the record just after, from what the command returned. A retry with the same
key and request gets the recorded response (or, if the process stopped in between, the
aggregate's id and version); the same key with a different request is refused.
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
        aggregate_id: UUID
        aggregate_version: int

    @staticmethod
    def create_id(actor: str, key: str) -> UUID:
        return record_id(actor, key)

    @event(Recorded)
    def __init__(
        self,
        actor: str,
        key: str,
        fingerprint: str,
        status: int,
        aggregate_id: UUID,
        aggregate_version: int,
    ) -> None:
        self.actor = actor
        self.key = key
        self.fingerprint = fingerprint
        self.status = status
        self.aggregate_id = aggregate_id
        self.aggregate_version = aggregate_version
        self.body: Any = None

    class Answered(Aggregate.Event):
        body: Any

    @event(Answered)
    def answer(self, body: Any) -> None:
        self.body = body

    @property
    def response(self) -> Any:
        if self.body is not None:
            return self.body
        return {"id": str(self.aggregate_id), "version": self.aggregate_version}


@dataclass
class KeyedCommand:
    """A command in flight with an Idempotency-Key."""

    app: Any
    actor: str
    key: str
    fingerprint: str
    status: int
    #: Renders the response from what the command returns (a route's `response_model.of`).
    render: Any
    record: IdempotencyRecord | None = None

    @property
    def recorded(self) -> bool:
        return self.record is not None

    def record_for(self, primary: Any) -> IdempotencyRecord:
        """The record to save with the command's events (`primary` is saved first)."""
        self.record = IdempotencyRecord(
            actor=self.actor,
            key=self.key,
            fingerprint=self.fingerprint,
            status=self.status,
            aggregate_id=primary.id,
            aggregate_version=primary.version,
        )
        return self.record

    def answered(self, result: Any) -> IdempotencyRecord | None:
        """The record with the response body rendered from `result`, if it can be."""
        if self.record is None or self.render is None:
            return None
        try:
            body = self.render(result).model_dump(mode="json")
        except (AttributeError, TypeError, ValueError):
            return None
        self.record.answer(body)
        return self.record


keyed_command: ContextVar[KeyedCommand | None] = ContextVar("keyed_command", default=None)


class Replay(Exception):
    """The command was already applied: answer with what was answered then."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__("replayed")
        self.status = status
        self.body = body

"""Tampering with a service's store directly in its tables, as an intruder with database
access would: the audit trail must show every such change."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from changeledger.runtime.chain import GENESIS, link, seal, split
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import postgres_conninfo, postgres_schema, sqlite_path


class RawStore:
    def __init__(self, settings: Settings, service: str) -> None:
        self.settings = settings
        self.service = service
        self.postgres = settings.store == "postgres"

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        if self.postgres:
            import psycopg

            with psycopg.connect(**postgres_conninfo(self.settings)) as conn:
                schema = postgres_schema(self.service, self.settings)
                conn.execute(f'SET search_path TO "{schema}"')
                yield conn.cursor()
        else:
            lite = sqlite3.connect(sqlite_path(self.service, self.settings))
            try:
                yield lite.cursor()
                lite.commit()
            finally:
                lite.close()

    def _sql(self, sql: str) -> str:
        sql = sql.replace("{position}", "notification_id" if self.postgres else "rowid")
        # eventsourcing names PostgreSQL tables after the application.
        events, snapshots = (
            (f"{self.service}_events", f"{self.service}_snapshots")
            if self.postgres
            else ("stored_events", "stored_snapshots")
        )
        sql = sql.replace("stored_snapshots", snapshots).replace("stored_events", events)
        return sql.replace("?", "%s") if self.postgres else sql

    def _id(self, originator_id: UUID) -> Any:
        return originator_id if self.postgres else originator_id.hex

    def _column(self, column: str, originator_id: UUID, version: int) -> Any:
        with self._cursor() as cursor:
            cursor.execute(
                self._sql(
                    f"SELECT {column} FROM stored_events "
                    "WHERE originator_id = ? AND originator_version = ?"
                ),
                (self._id(originator_id), version),
            )
            return cursor.fetchone()[0]

    def state(self, originator_id: UUID, version: int) -> bytes:
        return bytes(self._column("state", originator_id, version))

    def write_state(self, originator_id: UUID, version: int, state: bytes) -> None:
        with self._cursor() as cursor:
            cursor.execute(
                self._sql(
                    "UPDATE stored_events SET state = ? "
                    "WHERE originator_id = ? AND originator_version = ?"
                ),
                (state, self._id(originator_id), version),
            )

    def alter(self, originator_id: UUID, version: int, old: bytes, new: bytes) -> None:
        state = self.state(originator_id, version)
        assert old in state, f"{old!r} is not in the stored event"
        self.write_state(originator_id, version, state.replace(old, new))

    def delete(self, originator_id: UUID, version: int) -> None:
        with self._cursor() as cursor:
            cursor.execute(
                self._sql(
                    "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = ?"
                ),
                (self._id(originator_id), version),
            )

    def swap(self, originator_id: UUID, first: int, second: int) -> None:
        a, b = self.state(originator_id, first), self.state(originator_id, second)
        self.write_state(originator_id, first, b)
        self.write_state(originator_id, second, a)

    def insert(self, originator_id: UUID, topic: str, state: bytes) -> None:
        with self._cursor() as cursor:
            cursor.execute(
                self._sql(
                    "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
                    "VALUES (?, 1, ?, ?)"
                ),
                (self._id(originator_id), topic, state),
            )

    def topic(self, originator_id: UUID, version: int) -> str:
        return str(self._column("topic", originator_id, version))

    def forge(self, like: UUID, new_id: UUID) -> None:
        """A new aggregate copied from `like`'s first event, its chain recomputed (the
        chain is unkeyed: only the signed checkpoints can show this)."""
        parts = split(self.state(like, 1))
        assert parts is not None
        opened = bytes(parts[0])
        topic = self.topic(like, 1)
        self.insert(new_id, topic, seal(opened, link(GENESIS, topic, new_id, 1, opened)))

    def corrupt_snapshots(self, originator_id: UUID, old: bytes, new: bytes) -> int:
        """Rewrite `old` as `new` in the aggregate's snapshots; returns how many."""
        with self._cursor() as cursor:
            cursor.execute(
                self._sql(
                    "SELECT originator_version, state FROM stored_snapshots WHERE originator_id = ?"
                ),
                (self._id(originator_id),),
            )
            found = cursor.fetchall()
            for version, state in found:
                cursor.execute(
                    self._sql(
                        "UPDATE stored_snapshots SET state = ? "
                        "WHERE originator_id = ? AND originator_version = ?"
                    ),
                    (bytes(state).replace(old, new), self._id(originator_id), version),
                )
            return len(found)

    def truncate_after(self, position: int) -> None:
        with self._cursor() as cursor:
            cursor.execute(self._sql("DELETE FROM stored_events WHERE {position} > ?"), (position,))

    def checksum(self) -> str:
        """A hash of every row of the events and snapshots tables."""
        import hashlib

        digest = hashlib.sha256()
        with self._cursor() as cursor:
            for table in ("stored_events", "stored_snapshots"):
                cursor.execute(
                    self._sql(
                        f"SELECT originator_id, originator_version, topic, state FROM {table} "
                        "ORDER BY originator_id, originator_version"
                    )
                )
                for row in cursor.fetchall():
                    digest.update(
                        repr(
                            [
                                str(c) if not isinstance(c, bytes | memoryview) else bytes(c)
                                for c in row
                            ]
                        ).encode()
                    )
        return digest.hexdigest()

    def head(self) -> int:
        with self._cursor() as cursor:
            cursor.execute(self._sql("SELECT max({position}) FROM stored_events"))
            return int(cursor.fetchone()[0] or 0)

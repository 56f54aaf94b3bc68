"""eventsourcing's PostgreSQL persistence, with notifications that name the saving process,
and commands' inserts in one round trip.

Every insert transaction NOTIFYs the store's channel, and the relay listens to it for
saves by other processes (`PostgresWakeups`). Its own process's saves reach it directly,
so a notification of one of them would only send it to read the store for nothing: the
payload names the recorder that saved, and the listener passes over its own.

eventsourcing's insert looks at each result before it sends COMMIT: four or five round
trips, each one more wait on a busy machine. Here BEGIN, the tracking record, the table
lock, NOTIFY, the INSERT and COMMIT go in one pipeline with one sync: a conflict aborts
the rest of it, COMMIT included, and is raised at the sync. For that, a tracking record
that does not move forward must fail its statement, where eventsourcing's returns no row.

A connection that fails after COMMIT was sent leaves it unknown whether the save was
recorded. The insert is tried again, as eventsourcing does; when that attempt conflicts,
the store is asked whether it holds these very events, and if so their positions are the
answer. (Otherwise the caller would see a conflict with its own save, and a command
retried on it would be applied twice.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres import PostgresFactory, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier, Literal


class NamingProcessRecorder(PostgresProcessRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Fresh for each recorder, so for each process (workers included).
        self.saver = uuid4().hex
        self._notify = SQL("NOTIFY {0}, {1}").format(
            Identifier(self.channel_name), Literal(self.saver)
        )
        # A position that does not move forward sets the key to NULL, which its NOT NULL
        # refuses: an IntegrityError, as eventsourcing raises, and the transaction aborts.
        # (So a redelivered record leaves a "null value" error in the server's log.)
        self._advance_tracking = SQL(
            "INSERT INTO {0}.{1} AS t VALUES (%(name)s, %(position)s) "
            "ON CONFLICT (application_name) DO UPDATE SET "
            "notification_id = EXCLUDED.notification_id, "
            "application_name = CASE WHEN t.notification_id < EXCLUDED.notification_id "
            "THEN t.application_name END"
        ).format(Identifier(self.datastore.schema), Identifier(self.tracking_table_name))
        self._select_saved = SQL(
            "SELECT notification_id, topic, state FROM {0}.{1} "
            "WHERE originator_id = %s AND originator_version = %s"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))

    def _notify_channel(self, curs: Cursor[DictRow]) -> None:
        curs.execute(self._notify)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions: Sequence[int] | None
        if not stored_events or not self.datastore.single_row_tracking:
            positions = super().insert_events(stored_events, **kwargs)
        else:
            positions = self._insert_in_one_round_trip(stored_events, kwargs.get("tracking"))
        return positions

    def _insert_in_one_round_trip(
        self, stored_events: Sequence[StoredEvent], tracking: Tracking | None
    ) -> list[int]:
        # Built first: each statement runs as soon as it is sent, and the table lock is
        # held from LOCK to COMMIT.
        rows = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        unsure = False

        @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
        def attempt() -> list[int]:
            nonlocal unsure
            try:
                return self._send(rows, tracking)
            except (InterfaceError, OperationalError):
                unsure = True  # the connection may have failed after COMMIT, not before
                raise
            except IntegrityError:
                # After such a failure, the conflict may be with the lost attempt itself:
                # then these events are saved, and saved once.
                if unsure and (positions := self._positions_if_saved(stored_events)):
                    return positions
                raise

        positions: list[int] = attempt()  # (eventsourcing's `retry` is untyped)
        return positions

    def _send(self, rows: list[Any], tracking: Tracking | None) -> list[int]:
        # On an error, the pool's connection context rolls back what the pipeline left:
        # a transaction that a failed statement aborted (the COMMIT with it), or one that
        # was left open by a failure before the COMMIT was sent.
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            # BEGIN and COMMIT as statements: psycopg's transaction() would nest a
            # pipeline, and each nested one ends with a sync of its own.
            with conn.pipeline():
                conn.execute(_BEGIN)
                self._lock_table(curs)  # its lock timeout bounds the tracking row's wait too
                if tracking is not None:
                    position = {
                        "name": tracking.application_name,
                        "position": tracking.notification_id,
                    }
                    conn.execute(self._advance_tracking, position, prepare=True)
                self._notify_channel(curs)
                curs.execute(self.insert_events_statement, (rows,))
                conn.execute(_COMMIT)
            return [row["notification_id"] for row in curs.fetchall()]

    def _positions_if_saved(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        """The log positions of `stored_events` if the store holds each of them as it is
        (topic and state, byte for byte); empty if it holds any other way or not at all."""
        positions = []
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            for e in stored_events:
                curs.execute(self._select_saved, (e.originator_id, e.originator_version))
                row = curs.fetchone()
                if row is None or (row["topic"], bytes(row["state"])) != (e.topic, e.state):
                    return []
                positions.append(row["notification_id"])
        return positions


_BEGIN, _COMMIT = SQL("BEGIN"), SQL("COMMIT")


class NamingPostgresFactory(PostgresFactory):
    process_recorder_class = NamingProcessRecorder

"""A store's log read as plain rows, for reading all of it (verifying, rebuilding):
reading it through the recorder's notifications costs more than either (a UUID and an
object for every row).

A `Share` of the log is the events of some of its aggregates: those whose id's last
character, as a code point, is `number` modulo `of`. Shares are disjoint, cover the
log, and are selected in the database, so each process of a rebuild reads only its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg.sql import SQL, Identifier

from changeledger.runtime.audit import notifications_after
from changeledger.runtime.store import ServiceApplication

_BATCH = 5000

#: One stored event: log position, aggregate id (as text), version, topic and stored state.
RawEvent = tuple[int, str, int, str, bytes]


class Share(NamedTuple):
    number: int
    of: int


ALL = Share(0, 1)


def can_share(app: ServiceApplication) -> bool:
    """Whether the store can select a share of its log (SQLite and PostgreSQL can)."""
    return isinstance(app.recorder, SQLiteAggregateRecorder | PostgresAggregateRecorder)


def raw_log(
    app: ServiceApplication, after: int = 0, up_to: int = 2**62, share: Share = ALL
) -> Iterator[RawEvent]:
    """The stored log in order from `after` to `up_to`, or the share of it."""
    recorder: Any = app.recorder
    # The whole log without a condition that always holds: it would slow the scan.
    of, number = int(share.of), int(share.number)
    sql_share = f"AND unicode(substr(originator_id, -1)) % {of} = {number} "
    pg_share = f"AND ascii(right(originator_id::text, 1)) %% {of} = {number} "
    if share == ALL:
        sql_share = pg_share = ""
    if isinstance(recorder, SQLiteAggregateRecorder):
        statement: Any = (
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE rowid > ? AND rowid <= ? "
            + sql_share
            + "ORDER BY rowid LIMIT ?"
        )

        known: dict[str, str] = {}

        def text(key: Any) -> str:  # SQLite keeps UUIDs as their hex digits
            found = known.get(key)
            if found is None:
                found = known[key] = str(UUID(hex=key))
            return found

    elif isinstance(recorder, PostgresAggregateRecorder):
        statement = SQL(
            "SELECT notification_id, originator_id::text, originator_version, topic, state "
            "FROM {schema}.{table} WHERE notification_id > %s AND notification_id <= %s "
            + pg_share
            + "ORDER BY notification_id LIMIT %s"
        ).format(
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
        )

        def text(key: Any) -> str:
            return str(key)

    else:  # any other recorder: through its notifications
        if share != ALL:
            raise ValueError(f"{type(recorder).__name__} cannot select a share of the log")
        for n in notifications_after(app, after):
            if n.id > up_to:
                return
            yield n.id, str(n.originator_id), n.originator_version, n.topic, n.state
        return
    position = after
    while True:
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (position, up_to, _BATCH))
            rows = cursor.fetchall()
        if rows and isinstance(rows[0], dict):  # PostgreSQL's rows are dicts
            rows = [tuple(row.values()) for row in rows]
        yield from [(row[0], text(row[1]), row[2], row[3], bytes(row[4])) for row in rows]
        if len(rows) < _BATCH:
            return
        position = rows[-1][0]

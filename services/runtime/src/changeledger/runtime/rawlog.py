"""A store's log read as plain rows, for reading all of it (verifying, rebuilding):
reading it through the recorder's notifications costs more than either (a UUID and an
object for every row).

A `Share` of the log is the events of a range of aggregate ids: `number` of `of` equal
ranges. Shares are disjoint and cover the log. A share is read aggregate by aggregate,
through the index of the events' primary key, so each process of a rebuild reads only
its own events (scanning the whole log for them took each process as long again).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from changeledger.runtime.audit import notifications_after
from changeledger.runtime.store import ServiceApplication

_BATCH = 5000
_COLUMNS = "originator_version, topic, state"

#: One stored event: log position, aggregate id (as text), version, topic and stored state.
RawEvent = tuple[int, str, int, str, bytes]


class Share(NamedTuple):
    number: int
    of: int

    def bounds(self) -> tuple[UUID | None, UUID | None]:
        """The share's first aggregate id, and the next share's (None: no bound)."""
        ids = 2**128

        def at(number: int) -> UUID | None:
            return UUID(int=number * ids // self.of) if 0 < number < self.of else None

        return at(self.number), at(self.number + 1)


ALL = Share(0, 1)


def can_share(app: ServiceApplication) -> bool:
    """Whether the store can read a share of its log (SQLite and PostgreSQL can)."""
    return isinstance(app.recorder, SQLiteAggregateRecorder | PostgresAggregateRecorder)


def raw_log(app: ServiceApplication, after: int = 0, up_to: int = 2**62) -> Iterator[RawEvent]:
    """The stored log in order from `after` to `up_to`."""
    recorder: Any = app.recorder
    if isinstance(recorder, SQLiteAggregateRecorder):
        statement: Any = (
            f"SELECT rowid, originator_id, {_COLUMNS} FROM {recorder.events_table_name} "
            "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?"
        )
    elif isinstance(recorder, PostgresAggregateRecorder):
        statement = _postgres(
            recorder,
            "WHERE notification_id > %s AND notification_id <= %s "
            "ORDER BY notification_id LIMIT %s",
        )
    else:  # any other recorder: through its notifications
        for n in notifications_after(app, after):
            if n.id > up_to:
                return
            yield n.id, str(n.originator_id), n.originator_version, n.topic, n.state
        return
    position = after
    while rows := _rows(recorder, statement, (position, up_to, _BATCH)):
        yield from rows
        position = rows[-1][0]


def raw_share(app: ServiceApplication, share: Share) -> Iterator[RawEvent]:
    """The share's events, in the order of their aggregates' ids and their versions; the
    ids as the database keeps them (hex digits in SQLite, for `UUID` to read)."""
    recorder: Any = app.recorder
    first, beyond = share.bounds()
    # Each batch seeks past the last row of the one before (as one condition: SQLite
    # would not seek with it beside another lower bound).
    where = "WHERE (originator_id, originator_version) > ({}, {}) "
    where += "AND originator_id < {} " if beyond else ""
    order = "ORDER BY originator_id, originator_version LIMIT {}"
    if isinstance(recorder, SQLiteAggregateRecorder):  # ids as their hex digits
        bounds: list[Any] = [beyond.hex] if beyond else []
        after: tuple[Any, int] = (first.hex if first else "", 0)
        statement: Any = (
            f"SELECT rowid, originator_id, {_COLUMNS} FROM {recorder.events_table_name} "
            + (where + order).format(*["?"] * 4)
        )
    elif isinstance(recorder, PostgresAggregateRecorder):
        bounds = [beyond] if beyond else []
        after = (first or UUID(int=0), 0)
        statement = _postgres(recorder, (where + order).format("%s::uuid", *["%s"] * 3))
    else:
        raise ValueError(f"{type(recorder).__name__} cannot read a share of the log")
    while rows := _rows(recorder, statement, (*after, *bounds, _BATCH), as_text=False):
        yield from rows
        after = (rows[-1][1], rows[-1][2])


def _postgres(recorder: PostgresAggregateRecorder, where: str) -> Any:
    return SQL(
        f"SELECT notification_id, originator_id::text, {_COLUMNS} FROM {{schema}}.{{table}} "
        + where
    ).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )


def _rows(
    recorder: Any, statement: Any, parameters: tuple[Any, ...], as_text: bool = True
) -> list[RawEvent]:
    sqlite = isinstance(recorder, SQLiteAggregateRecorder)
    with recorder.datastore.transaction(commit=False) as cursor:
        # Plain tuples: cheaper than the recorder's rows (sqlite3.Row, or dicts).
        cursor.row_factory = None if sqlite else tuple_row
        cursor.execute(statement, parameters)
        rows: list[RawEvent] = cursor.fetchall()
    if sqlite and as_text:
        return [(at, _text(key), version, topic, state) for at, key, version, topic, state in rows]
    return rows


_known: dict[str, str] = {}


def _text(key: str) -> str:
    """An aggregate id as text, from its hex digits (as SQLite keeps it)."""
    found = _known.get(key)
    if found is None:
        if len(_known) > 100_000:
            _known.clear()
        found = _known[key] = str(UUID(hex=key))
    return found

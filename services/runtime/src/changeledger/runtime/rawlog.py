"""A store's log read as plain rows, for reading all of it (verifying, rebuilding):
reading it through the recorder's notifications costs more than either (a UUID and an
object for every row).

A `Share` of the log is the events of a range of aggregate ids: `number` of `of` equal
ranges. Shares are disjoint and cover the log. A share is read aggregate by aggregate,
through the index of the events' primary key, so each process of a rebuild reads only
its own events (scanning the whole log for them took each process as long again).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from changeledger.runtime.audit import notifications_after
from changeledger.runtime.store import ServiceApplication

_BATCH = 5000
#: Aggregates whose latest snapshots are read in one query.
_SNAPSHOT_BATCH = 500
_COLUMNS = "originator_version, topic, state"

#: One stored event: log position, aggregate id (as text), version, topic and stored state.
RawEvent = tuple[int, str, int, str, bytes]
#: One stored snapshot: version, topic and stored state.
RawSnapshot = tuple[int, str, bytes]


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


def latest_snapshots(app: ServiceApplication, ids: Sequence[UUID]) -> dict[UUID, RawSnapshot]:
    """The latest snapshot of each of these aggregates that has one, read in batches of
    aggregates (rather than a query for each)."""
    if app.snapshots is None:
        return {}
    recorder: Any = app.snapshots.recorder
    latest: dict[UUID, RawSnapshot] = {}
    for start in range(0, len(ids), _SNAPSHOT_BATCH):
        batch = ids[start : start + _SNAPSHOT_BATCH]
        if isinstance(recorder, SQLiteAggregateRecorder):  # ids as their hex digits
            by_hex = {i.hex: i for i in batch}
            # SQLite takes the other columns from the row with the greatest version.
            statement: Any = (
                f"SELECT originator_id, MAX(originator_version), topic, state "
                f"FROM {recorder.events_table_name} "
                f"WHERE originator_id IN ({', '.join('?' * len(batch))}) GROUP BY originator_id"
            )
            rows = _rows(recorder, statement, tuple(by_hex), as_text=False)
            latest |= {by_hex[key]: (v, topic, state) for key, v, topic, state in rows}
        elif isinstance(recorder, PostgresAggregateRecorder):
            statement = _postgres(
                recorder,
                "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version DESC",
                select="DISTINCT ON (originator_id) originator_id, ",
            )
            rows = _rows(recorder, statement, (list(batch),))
            latest |= {key: (v, topic, bytes(state)) for key, v, topic, state in rows}
        else:
            for aggregate_id in batch:
                for found in recorder.select_events(aggregate_id, desc=True, limit=1):
                    latest[aggregate_id] = (found.originator_version, found.topic, found.state)
    return latest


def _postgres(
    recorder: PostgresAggregateRecorder,
    where: str,
    select: str = "notification_id, originator_id::text, ",
) -> Any:
    return SQL(f"SELECT {select}{_COLUMNS} FROM {{schema}}.{{table}} " + where).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )


# Retried as the recorder's own reads are: a pooled connection that died with a server
# restart fails once, and is dropped.
@retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
def _rows(
    recorder: Any, statement: Any, parameters: tuple[Any, ...], as_text: bool = True
) -> list[Any]:
    sqlite = isinstance(recorder, SQLiteAggregateRecorder)
    with recorder.datastore.transaction(commit=False) as cursor:
        # Plain tuples: cheaper than the recorder's rows (sqlite3.Row, or dicts).
        cursor.row_factory = None if sqlite else tuple_row
        cursor.execute(statement, parameters)
        rows: list[Any] = cursor.fetchall()
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

"""eventsourcing's PostgreSQL persistence, with notifications that name the saving process.

Every insert transaction NOTIFYs the store's channel, and the relay listens to it for
saves by other processes (`PostgresWakeups`). Its own process's saves reach it directly,
so a notification of one of them would only send it to read the store for nothing: the
payload names the recorder that saved, and the listener passes over its own.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from eventsourcing.postgres import PostgresFactory, PostgresProcessRecorder
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

    def _notify_channel(self, curs: Cursor[DictRow]) -> None:
        curs.execute(self._notify)


class NamingPostgresFactory(PostgresFactory):
    process_recorder_class = NamingProcessRecorder

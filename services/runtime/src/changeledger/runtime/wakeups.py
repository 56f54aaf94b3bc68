"""Wake-ups from saves made by other processes: another replica of the same service, or
an operator's tool. In-process saves wake the relay directly (`on_saved`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class PostgresWakeups:
    """LISTENs on the channel that eventsourcing NOTIFYs in every insert transaction, and
    calls `wake` on each notification, that is, once each such transaction commits."""

    def __init__(self, conninfo: dict[str, Any], channel: str, wake: Callable[[], None]) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self.wake = wake
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="pg-wakeups", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        while not self._stopping.is_set():
            try:
                with psycopg.connect(**self.conninfo, autocommit=True) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    self.wake()  # catch up on whatever was saved while nobody listened
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self.wake()
            except psycopg.Error as error:
                log.warning("listening for saves failed (%s); retrying", error)
                self._stopping.wait(1.0)

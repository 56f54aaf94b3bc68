"""Wake-ups from saves made by other processes: another replica of the same service, or
an operator's tool. In-process saves reach the relay directly (`on_recorded`)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import socket
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class PostgresWakeups:
    """LISTENs on the channel that eventsourcing NOTIFYs in every insert transaction, and
    calls `wake` on each notification, that is, once each such transaction commits;
    except for those whose payload is `own` (this process's saves, which its relay has)."""

    def __init__(
        self,
        conninfo: dict[str, Any],
        channel: str,
        wake: Callable[[], None],
        own: str | None = None,
    ) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self.wake = wake
        self.own = own
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
                        for notify in conn.notifies(timeout=0.5):
                            if notify.payload != self.own:
                                self.wake()
            except psycopg.Error as error:
                log.warning("listening for saves failed (%s); retrying", error)
                self._stopping.wait(1.0)


class SocketWakeups:
    """Saves made by the other workers on one SQLite store (`serve --workers`): a worker
    whose relay does not lead sends a datagram after each save to a socket that the
    leading relay's process listens on.

    The socket is in Linux's abstract namespace, named after the store's path: nothing on
    disk to clean up, and the name is freed when its process ends, however it ends. So the
    workers must share the host and its network namespace (as `serve --workers` does).
    Elsewhere than Linux there is no such namespace: the leader finds other workers' saves
    at its next poll."""

    #: Datagrams read per wake, so that a flood cannot hold the event loop.
    DRAIN_LIMIT = 1024

    def __init__(self, store: Path) -> None:
        digest = hashlib.sha256(str(store.resolve()).encode()).hexdigest()[:40]
        self.address = f"\0changeledger-saves-{digest}"
        self.supported = sys.platform == "linux"
        self._sender: socket.socket | None = None
        if self.supported:
            self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sender.setblocking(False)

    def announce(self) -> None:
        """Tell the listening leader, if any, that a save committed. Thread-safe; never
        blocks nor raises."""
        # Refused when no process listens (no leader yet); full when wakes are already
        # pending, and one wake reads everything saved so far.
        if self._sender is not None:
            with contextlib.suppress(OSError):
                self._sender.sendto(b"s", self.address)

    @contextlib.asynccontextmanager
    async def listening(self, wake: Callable[[], None]) -> AsyncIterator[bool]:
        """Within it, `wake` runs (on the event loop) after other processes' saves;
        yields False when the socket could not be bound."""
        if not self.supported:
            yield False
            return
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            receiver.bind(self.address)
        except OSError as error:
            receiver.close()
            log.warning("not told of other workers' saves (%s): polling for them", error)
            yield False
            return

        def drain() -> None:
            with contextlib.suppress(OSError):
                for _ in range(self.DRAIN_LIMIT):
                    receiver.recv(64)
            wake()

        loop = asyncio.get_running_loop()
        try:
            receiver.setblocking(False)
            loop.add_reader(receiver.fileno(), drain)
            try:
                yield True
            finally:
                loop.remove_reader(receiver.fileno())
        finally:
            receiver.close()

    def close(self) -> None:
        if self._sender is not None:
            self._sender.close()

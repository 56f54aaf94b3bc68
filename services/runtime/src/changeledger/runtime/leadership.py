"""At most one relay per store: a file lock beside a SQLite store, or a PostgreSQL
advisory lock held on a connection of its own. A lock dies with its holder, so a crashed
replica never blocks the others."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock, Timeout

log = logging.getLogger(__name__)


def advisory_key(name: str) -> int:
    """PostgreSQL's advisory locks are keyed by a 64-bit integer: a stable one for `name`."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Leadership(Protocol):
    async def acquire(self) -> None:
        """Wait until this process holds the lock."""

    async def still_held(self) -> bool:
        """False once the lock has been lost (its connection died, for example)."""

    async def release(self) -> None: ...


class FileLeadership:
    def __init__(self, path: Path, retry_seconds: float = 1.0) -> None:
        self.lock = FileLock(path, thread_local=False)
        self.retry_seconds = retry_seconds

    async def acquire(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.lock.acquire, timeout=0)
                return
            except Timeout:
                await asyncio.sleep(self.retry_seconds)

    async def still_held(self) -> bool:
        return self.lock.is_locked

    async def release(self) -> None:
        if self.lock.is_locked:
            self.lock.release(force=True)


class PostgresLeadership:
    """The lock's connection is asked whether it is alive at most every `check_seconds`,
    rather than before each batch the relay publishes: a round trip each. A lost lock is
    noticed within that time; a replica that took over meanwhile may publish a batch
    again, which consumers recognise and ignore."""

    def __init__(
        self,
        conninfo: dict[str, Any],
        name: str,
        retry_seconds: float = 1.0,
        check_seconds: float = 0.5,
    ) -> None:
        self.conninfo = conninfo
        self.key = advisory_key(name)
        self.retry_seconds = retry_seconds
        self.check_seconds = check_seconds
        self._conn: Any = None
        self._checked_at = 0.0

    async def acquire(self) -> None:
        import psycopg

        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(**self.conninfo, autocommit=True)
            except psycopg.OperationalError as error:
                log.warning("relay lock: database unavailable (%s); retrying", error)
                await asyncio.sleep(self.retry_seconds)
                continue
            row = await (
                await conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
            ).fetchone()
            if row and row[0]:
                self._conn, self._checked_at = conn, time.monotonic()
                return
            await conn.close()
            await asyncio.sleep(self.retry_seconds)

    async def still_held(self) -> bool:
        import psycopg

        if self._conn is None or self._conn.closed:
            return False
        if time.monotonic() - self._checked_at < self.check_seconds:
            return True
        try:
            await self._conn.execute("SELECT 1")
        except psycopg.Error:
            await self.release()
            return False
        self._checked_at = time.monotonic()
        return True

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            await conn.close()  # closing the session releases the advisory lock

"""Event stores: the eventsourcing application base every service extends, and its factory.

A service's store is one SQLite file under `data_dir`, or one PostgreSQL schema. It keeps
the events, the notification log (which is also the outbox) and the tracking records that
make consumers and the relay exactly-once, all written in one transaction per save.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    ProjectorFunction,
    project_aggregate,
)
from eventsourcing.domain import DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import (
    EventStore,
    JSONTranscoder,
    Mapper,
    ProcessRecorder,
    Recording,
    Tracking,
    Transcoding,
)
from eventsourcing.sqlite import SQLiteRecorder
from filelock import FileLock

from changeledger.runtime.chain import ChainHeads, ChainingMapper, split
from changeledger.runtime.domain import Actor, Aggregate, NotFound, Provenance, VersionMismatch
from changeledger.runtime.group_commit import GroupCommit, GroupCommittingEventStore, Recorded
from changeledger.runtime.idempotency import keyed_command
from changeledger.runtime.leadership import advisory_key
from changeledger.runtime.on_loop import off_the_loop
from changeledger.runtime.settings import Settings

if TYPE_CHECKING:
    from changeledger.runtime.decoding import EventDecoder

A = TypeVar("A", bound=Aggregate)


_identity_map: ContextVar[dict[UUID, Any] | None] = ContextVar("identity_map", default=None)


class ServiceApplication(Application[UUID]):
    """Base of each service's application: commands and queries over its own store."""

    #: Value objects that events carry: frozen dataclasses, stored as JSON objects, and
    #: plain Enums (not StrEnum: JSON would store those as bare strings), stored as values.
    value_objects: ClassVar[tuple[type, ...]] = ()
    #: Aggregates that may grow long histories: a snapshot is taken every N events.
    snapshotted: ClassVar[tuple[type[Aggregate], ...]] = ()

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        interval = int(self.env.get("SNAPSHOT_INTERVAL") or 100)
        # Configured per store, so the library's class-level setting is shadowed here.
        self.snapshotting_intervals = dict.fromkeys(self.snapshotted, interval)  # type: ignore[misc]
        self._saved_listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()

    @cached_property
    def decoder(self) -> EventDecoder:
        """The fast decoder of this store's events (orjson where the mapper allows)."""
        from changeledger.runtime.decoding import EventDecoder  # it builds on this module

        return EventDecoder(self.mapper)

    def events_naming(self, aggregate_id: UUID, value: UUID) -> Iterator[Any]:
        """The aggregate's events that may name the id `value` (callers check the field
        they mean), without decoding the rest of a long history."""
        return self.decoder.naming(self.recorder.select_events(aggregate_id), value)

    def construct_mapper(self) -> Mapper[UUID]:
        # Every event is chained to its aggregate's previous one (tamper evidence).
        self.chain_heads = ChainHeads()
        self.chain_heads.read = self.stored_chain
        return ChainingMapper(super().construct_mapper(), self.chain_heads)

    def construct_event_store(self) -> EventStore[UUID]:
        # Commands saved at the same time share one transaction (group commit).
        return GroupCommittingEventStore(super().construct_event_store())

    def stored_chain(self, originator_id: UUID, version: int) -> str | None:
        """The chain hash stored with an aggregate's event at `version` (None when there
        is no such event, or it carries no chain)."""
        found = self.recorder.select_events(originator_id, gt=version - 1, lte=version, limit=1)
        if not found:
            return None
        assert isinstance(self.mapper, ChainingMapper)
        parts = split(self.mapper.plain(found[0]))
        return parts[1] if parts else None

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        self.chain_heads.begin()
        try:
            recordings = super()._record(processing_event)
        except BaseException:
            self.chain_heads.rollback()
            raise
        self.chain_heads.commit()
        return recordings

    @property
    def process_recorder(self) -> ProcessRecorder:
        assert isinstance(self.recorder, ProcessRecorder)
        return self.recorder

    def configure(self, settings: Settings) -> None:
        """Called once the store is open, with the service's settings (for adapters)."""

    def construct_recorder(self) -> ProcessRecorder:
        # A process recorder can write tracking records in the same transaction as events.
        return self.factory.process_recorder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(TimedeltaAsSeconds())
        for cls in (Actor, Provenance, *self.value_objects):
            transcoder.register(EnumAsValue(cls) if issubclass(cls, Enum) else DataclassAsDict(cls))

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """Save, adding the Idempotency-Key record of the command in flight, if any, to the
        same transaction."""
        pending = keyed_command.get()
        if pending is not None and not pending.recorded:
            primary = next((o for o in objs if isinstance(o, Aggregate)), None)
            if primary is not None:
                objs = (*objs, pending.record_for(primary))
        return super().save(*objs, **kwargs)

    def record_refusal(self, *objs: Aggregate) -> None:
        """Save the record of a refused command before refusing it (auditors see attempts).
        Not the command's result: no Idempotency-Key record goes with it, so a retry is
        judged again."""
        super().save(*objs)

    def save_tracked(
        self, *objs: MutableOrImmutableAggregate[UUID] | None, tracking: Tracking
    ) -> list[Recording[UUID]]:
        """Save new events and a tracking record atomically (raises IntegrityError when
        the tracking position was already recorded, so the whole save is undone)."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent(tracking=tracking)
        processing_event.collect_events(*objs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def on_saved(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from the saving thread) after each save that recorded events."""
        with self._listeners_lock:
            self._saved_listeners.append(listener)

    def on_recorded(self, listener: Recorded) -> None:
        """Call `listener` with each save's recordings right after its commit, from the
        writing thread while it still holds the write: so in the order of the log (of
        what this process writes). It must be quick, and must not save. The events are
        those the command made (events and their values are never changed once made),
        not decoded from the store: they carry no `_chain`."""
        assert isinstance(self.events, GroupCommittingEventStore)
        self.events.on_recorded(listener)

    def on_unannounced(self, listener: Callable[[], None]) -> None:
        """Call `listener` when a save may have committed without `on_recorded` being told
        (its write failed, yet may have committed; or it could not be told in order)."""
        assert isinstance(self.events, GroupCommittingEventStore)
        self.events.on_unannounced(listener)

    @cached_property
    def commands_on_loop(self) -> bool:
        """Whether HTTP commands run on the event loop (`runtime.on_loop`): only when
        reading this store is a call within the process (SQLite), not a round trip."""
        return isinstance(self.recorder, SQLiteRecorder)

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> None:
        # A snapshot rebuilds its aggregate from the store, and is written outside the
        # group commit: so between its writes (a writer waiting in SQLite's pool holds
        # up every read), and, for a command on the event loop, in a worker thread.
        off_the_loop(self._snapshot_between_writes, aggregate_id, version, projector_func)

    def _snapshot_between_writes(
        self, aggregate_id: UUID, version: int | None, projector_func: ProjectorFunction[Any, Any]
    ) -> None:
        with self.group_commit.turn():
            super().take_snapshot(aggregate_id, version, projector_func)

    def close(self) -> None:
        # Commands on the loop leave their writes to a thread; one may still be writing
        # when its command was cancelled (a client gone, a shutdown's deadline).
        self.group_commit.wait_written(timeout=15.0)
        super().close()

    @property
    def group_commit(self) -> GroupCommit:
        """How this process's saves are grouped into writes (its counts are in /readyz)."""
        assert isinstance(self.events, GroupCommittingEventStore)
        return self.events.group

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if recordings:
            for listener in list(self._saved_listeners):
                listener()

    @contextmanager
    def unit_of_work(self) -> Iterator[dict[UUID, Aggregate]]:
        """Within it, `get` hands out one shared instance per aggregate, so several changes
        made before one save build on each other. `enlist` adds new aggregates to it."""
        token = _identity_map.set({})
        try:
            yield cast(dict[UUID, Aggregate], _identity_map.get())
        finally:
            _identity_map.reset(token)

    @staticmethod
    def pending() -> dict[UUID, Any]:
        """The aggregates of the unit of work in progress (empty outside one)."""
        return dict(_identity_map.get() or {})

    def enlist(self, *aggregates: Aggregate) -> None:
        identity_map = _identity_map.get()
        if identity_map is not None:
            for aggregate in aggregates:
                identity_map[aggregate.id] = aggregate

    def get(
        self,
        aggregate_id: UUID,
        cls: type[A],
        *,
        as_of: datetime | None = None,
        expected_version: int | None = None,
    ) -> A:
        """An aggregate of the expected type, as it is now or as it was at `as_of`.

        With `expected_version` (a request's If-Match), an aggregate that has moved on since
        the caller read it is refused with VersionMismatch."""
        aggregate = self._get(aggregate_id, cls, as_of)
        if expected_version is not None and aggregate.version != expected_version:
            raise VersionMismatch(
                f"{cls.__name__} {aggregate_id} is at version {aggregate.version}, "
                f"not {expected_version}",
                current_version=aggregate.version,
            )
        return aggregate

    def update(
        self,
        aggregate_id: UUID,
        cls: type[A],
        command: Callable[[A], object],
        expected_version: int | None = None,
    ) -> A:
        """Load, apply one domain command (which checks its rules first), save it with
        its consequences."""
        aggregate = self.get(aggregate_id, cls, expected_version=expected_version)
        command(aggregate)
        self.save(*self.consequences(aggregate))
        return aggregate

    def consequences(self, *changed: Aggregate) -> list[Aggregate]:
        """`changed`, and whatever else must change with them in the same transaction
        (a service overrides this; by default, nothing else)."""
        return list(changed)

    def _get(self, aggregate_id: UUID, cls: type[A], as_of: datetime | None) -> A:
        identity_map = _identity_map.get() if as_of is None else None
        if identity_map is not None and aggregate_id in identity_map:
            aggregate: Any = identity_map[aggregate_id]
            if not isinstance(aggregate, cls):
                raise NotFound(f"{cls.__name__} {aggregate_id} does not exist")
            return aggregate
        if as_of is None:
            try:
                aggregate = self.repository.get(aggregate_id)
            except AggregateNotFoundError:
                raise NotFound(f"{cls.__name__} {aggregate_id} does not exist") from None
        else:
            aggregate = self._project_until(aggregate_id, as_of, cls)
        if not isinstance(aggregate, cls):
            raise NotFound(f"{cls.__name__} {aggregate_id} does not exist")
        if identity_map is not None:
            identity_map[aggregate_id] = aggregate
        return aggregate

    def _project_until(self, aggregate_id: UUID, as_of: datetime, cls: type[A]) -> A:
        aggregate: Any = None
        events: Iterable[Any] = self.events.get(aggregate_id)
        for event in events:
            if event.timestamp > as_of:
                break
            aggregate = event.mutate(aggregate)
        if aggregate is None:
            raise NotFound(f"{cls.__name__} {aggregate_id} did not exist at {as_of.isoformat()}")
        return cast(A, aggregate)

    def contains(self, aggregate_id: UUID) -> bool:
        """Whether the aggregate exists (one indexed read; nothing is rebuilt)."""
        identity_map = _identity_map.get()
        if identity_map is not None and aggregate_id in identity_map:
            return True
        return bool(self.recorder.select_events(aggregate_id, limit=1))


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class TimedeltaAsSeconds(Transcoding):
    type = timedelta
    name = "timedelta_seconds"

    def encode(self, obj: timedelta) -> float:
        return obj.total_seconds()

    def decode(self, data: float) -> timedelta:
        return timedelta(seconds=data)


class EnumAsValue(Transcoding):
    """Stores a (non-str) Enum member as its value."""

    def __init__(self, cls: type[Enum]) -> None:
        if issubclass(cls, str | int):
            raise TypeError(f"{cls} mixes in str or int, which JSON would store as a plain value")
        self.type = cls
        self.name = f"{cls.__module__}.{cls.__qualname__}"

    def encode(self, obj: Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> Enum:
        return cast(Enum, self.type(data))


class DataclassAsDict(Transcoding):
    """Stores a frozen dataclass as a JSON object of its fields (tuples kept as tuples)."""

    def __init__(self, cls: type) -> None:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls} is not a dataclass")
        self.type = cls
        self.name = f"{cls.__module__}.{cls.__qualname__}"
        self._tuples = {f.name for f in dataclasses.fields(cls) if str(f.type).startswith("tuple")}

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        values = {k: tuple(v) if k in self._tuples else v for k, v in data.items()}
        return self.type(**values)


def store_env(service: str, settings: Settings) -> dict[str, str]:
    """The eventsourcing environment for one service's store."""
    env = {
        "IS_SNAPSHOTTING_ENABLED": "y",
        "SNAPSHOT_INTERVAL": str(settings.snapshot_interval),
        "AGGREGATE_CACHE_MAXSIZE": "1000",
        # Aggregates returned from the cache are copies, so a refused command that
        # mutated one in memory leaves nothing behind.
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "y",
    }
    if settings.cipher_key is not None:
        env |= {
            "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
            "CIPHER_KEY": settings.cipher_key.get_secret_value(),
            "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
        }
    if settings.store == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(sqlite_path(service, settings)),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    else:
        env |= {
            # eventsourcing's, with notifications that name the saving process.
            "PERSISTENCE_MODULE": "changeledger.runtime.postgres_store:NamingPostgresFactory",
            "POSTGRES_HOST": settings.postgres_host,
            "POSTGRES_PORT": str(settings.postgres_port),
            "POSTGRES_USER": settings.postgres_user,
            "POSTGRES_PASSWORD": settings.postgres_password.get_secret_value(),
            "POSTGRES_DBNAME": settings.postgres_dbname,
            "POSTGRES_SCHEMA": postgres_schema(service, settings),
            "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
            # Enough for every store thread to hold a connection at once.
            "POSTGRES_MAX_OVERFLOW": str(
                max(
                    settings.postgres_pool_size,
                    settings.store_threads - settings.postgres_pool_size,
                )
            ),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            # No ping before each use of a pooled connection: it is a round trip on every
            # store call. One that died with a server restart fails its first use and the
            # pool drops it; the recorder's calls (and rawlog's) try again on another, up
            # to ten times, and a command that still fails gets a 503.
            "POSTGRES_PRE_PING": "n",
            "POSTGRES_LOCK_TIMEOUT": "10",
            # Inserts lock the table, so ids commit in order and a gap in the log below a
            # committed event is final (the relay and views rely on it); the database
            # functions insert without that lock. Pinned, whatever the environment says.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "30",
        }
    return env


def sqlite_path(service: str, settings: Settings) -> Path:
    return settings.data_dir / f"{service}.sqlite"


def postgres_schema(service: str, settings: Settings) -> str:
    return f"{settings.postgres_schema_prefix}{service}"


def postgres_conninfo(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.postgres_host,
        "port": settings.postgres_port,
        "user": settings.postgres_user,
        "password": settings.postgres_password.get_secret_value(),
        "dbname": settings.postgres_dbname,
        "connect_timeout": 5,
    }


@contextmanager
def _creating_alone(service: str, settings: Settings) -> Iterator[None]:
    """Open a store one process at a time: processes starting together on a fresh one
    (`serve --workers`, replicas, a tool beside a service) would otherwise race to create
    its schema, tables and their first rows, and the loser fails on a duplicate key. A
    PostgreSQL advisory lock named after the schema; a file lock beside a SQLite store."""
    if settings.store != "postgres":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(settings.data_dir / f"{service}.create.lock"):
            yield
        return
    import psycopg
    from psycopg import sql

    schema = postgres_schema(service, settings)
    with psycopg.connect(**postgres_conninfo(settings), autocommit=True) as conn:
        key = advisory_key(f"changeledger-create:{schema}")
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


AppT = TypeVar("AppT", bound=ServiceApplication)


def open_store(app_class: type[AppT], service: str, settings: Settings) -> AppT:
    # Creating the application creates its tables when they are missing.
    with _creating_alone(service, settings):
        return app_class(env=store_env(service, settings))

"""Look into a service's store directly, as an auditor would."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError, Notification

from changeledger.planning.application import PlanningApplication
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import ServiceApplication, open_store

AppT = TypeVar("AppT", bound=ServiceApplication)


@contextmanager
def opened(app_class: type[AppT], service: str, settings: Settings) -> Iterator[AppT]:
    app = open_store(app_class, service, settings)
    try:
        yield app
    finally:
        app.close()


def notifications(app: ServiceApplication) -> Iterator[Notification]:
    start = 1
    while batch := app.process_recorder.select_notifications(start, 1000):
        yield from batch
        start = batch[-1].id + 1


def type_name(notification: Notification) -> str:
    """The event's class, qualified by its aggregate: `RiskRegister.Opened`."""
    return notification.topic.rsplit(":", 1)[-1]


def event_counts(app: ServiceApplication) -> Counter[str]:
    return Counter(map(type_name, notifications(app)))


def events_of(app: ServiceApplication, name: str) -> list[Any]:
    return [app.mapper.to_domain_event(n) for n in notifications(app) if type_name(n) == name]


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment under which `changeledger ...` opens the same stores."""
    return {
        "CHANGELEDGER_DATA_DIR": str(settings.data_dir),
        "CHANGELEDGER_STORE": settings.store,
        "CHANGELEDGER_POSTGRES_HOST": settings.postgres_host,
        "CHANGELEDGER_POSTGRES_PORT": str(settings.postgres_port),
        "CHANGELEDGER_POSTGRES_SCHEMA_PREFIX": settings.postgres_schema_prefix,
        "CHANGELEDGER_SNAPSHOT_INTERVAL": str(settings.snapshot_interval),
        "COLUMNS": "240",  # tables wide enough not to wrap what tests look for
    } | extra


def lose_a_conflict(app: PlanningApplication, release_id: UUID) -> None:
    """Two changes to one release from the same version: the second save fails. On
    PostgreSQL its log position is used up all the same (a sequence is not given back)."""
    mine, theirs = app.release(release_id), app.release(release_id)
    mine.put_on_hold("mine")
    theirs.put_on_hold("theirs")
    app.save(mine)
    with pytest.raises(IntegrityError):
        app.save(theirs)

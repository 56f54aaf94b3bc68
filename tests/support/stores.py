"""Look into a service's store directly, as an auditor would."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

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


def event_counts(app: ServiceApplication) -> Counter[str]:
    """How many stored events there are of each type (by the class's qualified name)."""
    counts: Counter[str] = Counter()
    start = 1
    while True:
        batch = app.process_recorder.select_notifications(start, 1000)
        if not batch:
            return counts
        for notification in batch:
            counts[notification.topic.rsplit(":", 1)[-1]] += 1
        start = batch[-1].id + 1


def events_of(app: ServiceApplication, type_name: str) -> list[Any]:
    found: list[Any] = []
    start = 1
    while True:
        batch = app.process_recorder.select_notifications(start, 1000)
        if not batch:
            return found
        for notification in batch:
            if notification.topic.endswith(":" + type_name):
                found.append(app.mapper.to_domain_event(notification))
        start = batch[-1].id + 1

"""Which integration event types exist, at which versions, and on which topic each travels."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from changeledger.contracts.envelope import Envelope

SERVICES = ("planning", "risk", "communication", "cmdb")


def topic_of(service: str) -> str:
    """The topic a service publishes its events to."""
    return f"{service}.events"


def dlq_of(topic: str) -> str:
    """The dead-letter topic for messages from `topic` that could not be handled."""
    return f"{topic}.dlq"


def owner_of(topic: str) -> str:
    """The service that publishes to `topic`."""
    return topic.removesuffix(".dlq").removesuffix(".events")


class IntegrationEvent(BaseModel):
    """Base of every published event. Unknown fields are ignored so that a consumer of an
    older version keeps working when a newer producer adds optional fields."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    version: ClassVar[int]

    @classmethod
    def source(cls) -> str:
        return cls.event_type.split(".", 1)[0]

    @classmethod
    def topic(cls) -> str:
        return topic_of(cls.source())


class UnknownEventType(LookupError):
    """An envelope names a type or version that is not in the registry."""


_registry: dict[tuple[str, int], type[IntegrationEvent]] = {}

E = TypeVar("E", bound=type[IntegrationEvent])


def event_type(name: str, *, version: int) -> Callable[[E], E]:
    """Register a model as version `version` of the event type `name`."""

    def register(cls: E) -> E:
        key = (name, version)
        if key in _registry:
            raise ValueError(f"{name} v{version} is registered twice")
        if name.split(".", 1)[0] not in SERVICES:
            raise ValueError(f"{name} does not start with a service name")
        cls.event_type = name
        cls.version = version
        _registry[key] = cls
        return cls

    return register


def model_for(name: str, version: int) -> type[IntegrationEvent]:
    try:
        return _registry[(name, version)]
    except KeyError:
        raise UnknownEventType(f"unknown event type {name} v{version}") from None


def registered() -> Iterator[type[IntegrationEvent]]:
    """Every registered event model, in a stable order."""
    for key in sorted(_registry):
        yield _registry[key]


def parse_event(envelope: Envelope) -> IntegrationEvent:
    """Validate an envelope's data against the model its type and version name."""
    model = model_for(envelope.type, envelope.dataversion)
    if envelope.source != model.source():
        raise ValueError(f"{envelope.type} cannot come from source {envelope.source!r}")
    return model.model_validate(envelope.data)

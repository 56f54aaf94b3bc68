"""Each service's AsyncAPI document, generated from its contracts and policies with
FastStream: the topic it publishes, with every event type and version on it (inside the
envelope), and the topics it consumes, with the events it reacts to. Served at
`/docs/asyncapi` (and as JSON at `/docs/asyncapi.json`)."""

from __future__ import annotations

from typing import Any, Union

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from faststream.specification.base.specification import Specification
from pydantic import Field, create_model

from changeledger.contracts import Envelope, IntegrationEvent, registered, topic_of
from changeledger.runtime.consumer import Policies
from changeledger.runtime.settings import Settings


def _envelope_of(name: str, models: list[type[IntegrationEvent]]) -> type[Envelope]:
    """The envelope with `data` as one of `models` (its `type` and `dataversion` say
    which)."""
    data: Any = models[0] if len(models) == 1 else Union[tuple(models)]  # noqa: UP007
    envelope: type[Envelope] = create_model(
        name,
        __base__=Envelope,
        data=(data, Field(description="The event; `type` and `dataversion` name its model")),
    )
    return envelope


def asyncapi_document(
    service: str, description: str, policies: Policies[Any], settings: Settings
) -> Specification:
    # A broker for the document only: it is never connected.
    broker = KafkaBroker(settings.kafka_bootstrap_servers, description=description)
    own = [model for model in registered() if model.source() == service]
    if own:
        topic = settings.topic(topic_of(service))
        broker.publisher(
            topic,
            title=f"{topic}:publish",
            description=(
                f"Every event {service} publishes, keyed by its aggregate id (so one "
                "aggregate's events stay in order). Unknown fields are to be ignored."
            ),
            schema=_envelope_of(f"{service.title()}Envelope", own),
        )
    for consumed in sorted(policies.topics):
        models = policies.models(consumed)
        envelope = _envelope_of(
            f"{service.title()}Reads{consumed.title().replace('.', '')}", models
        )

        async def react(message: Any) -> None:  # documentation only
            return None

        react.__annotations__ = {"message": envelope, "return": None}
        broker.subscriber(
            settings.topic(consumed),
            group_id=service,
            title=f"{settings.topic(consumed)}:{service}",
            description=f"What {service} reacts to: " + ", ".join(m.event_type for m in models),
        )(react)
    return AsyncAPI(
        broker,
        title=f"Changeledger {service}",
        version="1",
        description=description,
        schema_version="3.0.0",
    ).to_specification()

"""Feeding a service's policies the contract events another service publishes, without a
broker: for unit tests of reactions (the consumer itself is tested on the real broker)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from changeledger.contracts import Envelope, IntegrationEvent
from changeledger.runtime.consumer import Policies
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.store import ServiceApplication


def envelope_of(event: IntegrationEvent, correlation_id: str = "corr-elsewhere") -> Envelope:
    return Envelope(
        id=uuid4(),
        source=event.source(),
        type=event.event_type,
        dataversion=event.version,
        time=datetime.now(UTC),
        subject=str(uuid4()),
        actor={"sub": "someone", "roles": []},
        correlationid=correlation_id,
        sequence=1,
        data=event.model_dump(mode="json"),
    )


def tell(
    app: ServiceApplication,
    policies: Policies[Any],
    event: IntegrationEvent,
    correlation_id: str = "corr-elsewhere",
) -> None:
    """Run the policy for `event` as the consumer would (in the business action the
    envelope names), and save what it changed."""
    envelope = envelope_of(event, correlation_id)
    route = policies.route(envelope)
    assert route is not None, f"nothing reacts to {event.event_type}"
    policy = Provenance(
        Actor(f"service:{app.name}", ("service",)), correlation_id, "policy", str(envelope.id)
    )
    with acting(policy), app.unit_of_work():
        app.save(*route.handler(app, event, envelope))

"""Events published by the communication service on `communication.events`."""

from __future__ import annotations

from uuid import UUID

from pydantic import AwareDatetime

from changeledger.contracts.registry import IntegrationEvent, event_type


@event_type("communication.stakeholder.registered", version=1)
class StakeholderRegistered(IntegrationEvent):
    stakeholder_id: UUID
    name: str
    role: str
    organisation: str
    power: int
    interest: int
    quadrant: str


@event_type("communication.stakeholder.updated", version=1)
class StakeholderUpdated(IntegrationEvent):
    stakeholder_id: UUID
    name: str
    role: str
    organisation: str
    power: int
    interest: int
    quadrant: str


@event_type("communication.stakeholder.retired", version=1)
class StakeholderRetired(IntegrationEvent):
    stakeholder_id: UUID
    reason: str


class MessageFacts(IntegrationEvent):
    message_id: UUID
    release_id: UUID | None


@event_type("communication.message.planned", version=1)
class MessagePlanned(MessageFacts):
    purpose: str
    subject: str
    send_at: AwareDatetime
    ack_required: bool


@event_type("communication.message.sent", version=1)
class MessageSent(MessageFacts):
    recipients: int
    sent_at: AwareDatetime


@event_type("communication.message.delivered", version=1)
class MessageDelivered(MessageFacts):
    pass


@event_type("communication.message.failed", version=1)
class MessageFailed(MessageFacts):
    recipient_id: UUID | None = None


@event_type("communication.message.acknowledged", version=1)
class MessageAcknowledged(MessageFacts):
    recipient_id: UUID
    at: AwareDatetime


@event_type("communication.message.overdue", version=1)
class MessageOverdue(MessageFacts):
    unacknowledged: list[UUID]


@event_type("communication.message.escalated", version=1)
class MessageEscalated(MessageFacts):
    escalation_id: UUID

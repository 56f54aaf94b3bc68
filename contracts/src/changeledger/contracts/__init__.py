"""Changeledger's published language: envelope, integration events, topics and schemas."""

from changeledger.contracts import cmdb, communication, planning, risk
from changeledger.contracts.envelope import Actor, Envelope
from changeledger.contracts.registry import (
    SERVICES,
    IntegrationEvent,
    UnknownEventType,
    dlq_of,
    event_type,
    model_for,
    owner_of,
    parse_event,
    registered,
    topic_of,
)

__all__ = [
    "SERVICES",
    "Actor",
    "Envelope",
    "IntegrationEvent",
    "UnknownEventType",
    "cmdb",
    "communication",
    "dlq_of",
    "event_type",
    "model_for",
    "owner_of",
    "parse_event",
    "planning",
    "registered",
    "risk",
    "topic_of",
]

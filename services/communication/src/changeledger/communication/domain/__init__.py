"""Communication's domain: stakeholders, planned messages, and what it knows of releases."""

from changeledger.communication.domain.change import (
    KnownChange,
    KnownCi,
    known_change_id,
    known_ci_id,
)
from changeledger.communication.domain.message import (
    Attempt,
    Audience,
    Message,
    MessageState,
    Recipient,
    recipient_id,
)
from changeledger.communication.domain.release import KnownRelease, known_release_id
from changeledger.communication.domain.stakeholder import (
    HIGH_POWER,
    Channel,
    Engagement,
    Quadrant,
    Stakeholder,
)

__all__ = [
    "HIGH_POWER",
    "Attempt",
    "Audience",
    "Channel",
    "Engagement",
    "KnownChange",
    "KnownCi",
    "KnownRelease",
    "Message",
    "MessageState",
    "Quadrant",
    "Recipient",
    "Stakeholder",
    "known_change_id",
    "known_ci_id",
    "known_release_id",
    "recipient_id",
]

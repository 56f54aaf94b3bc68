"""Communication's domain events as the contract events other services see."""

from __future__ import annotations

from typing import Any

from changeledger.communication.domain import Message, Quadrant, Stakeholder
from changeledger.contracts import communication as contract
from changeledger.runtime.relay import Translations

translations = Translations()
on = translations.add


def stakeholder(e: Any) -> dict[str, Any]:
    return {
        "stakeholder_id": e.originator_id,
        "name": e.name,
        "role": e.role,
        "organisation": e.organisation,
        "power": e.power,
        "interest": e.interest,
        "quadrant": Quadrant.of(e.power, e.interest).value,
    }


on(Stakeholder.Registered, lambda e: contract.StakeholderRegistered(**stakeholder(e)))
on(Stakeholder.Updated, lambda e: contract.StakeholderUpdated(**stakeholder(e)))
on(
    Stakeholder.Retired,
    lambda e: contract.StakeholderRetired(stakeholder_id=e.originator_id, reason=e.reason),
)


def message(e: Any) -> dict[str, Any]:
    return {"message_id": e.originator_id, "release_id": e.release_id}


on(
    Message.Planned,
    lambda e: contract.MessagePlanned(
        **message(e),
        purpose=e.purpose,
        subject=e.subject,
        send_at=e.send_at,
        ack_required=e.ack_required,
    ),
)
on(
    Message.Dispatched,
    lambda e: contract.MessageSent(**message(e), recipients=len(e.recipients), sent_at=e.sent_at),
)
on(Message.Delivered, lambda e: contract.MessageDelivered(**message(e)))
on(
    Message.RecipientFailed,
    lambda e: contract.MessageFailed(**message(e), recipient_id=e.recipient_id),
)
on(Message.Failed, lambda e: contract.MessageFailed(**message(e)))
on(
    Message.Acknowledged,
    lambda e: contract.MessageAcknowledged(**message(e), recipient_id=e.recipient_id, at=e.at),
)
on(
    Message.BecameOverdue,
    lambda e: contract.MessageOverdue(**message(e), unacknowledged=list(e.unacknowledged)),
)
on(
    Message.Escalated,
    lambda e: contract.MessageEscalated(**message(e), escalation_id=e.escalation_id),
)

"""A planned communication, from its plan to every recipient's acknowledgement.

    Planned -> Sent -> Delivered -> Acknowledged
                  \\-> Overdue -> Escalated        (acknowledgement not given in time)
    Planned -> Cancelled;  Sent -> Failed          (no recipient could be reached)

Sending is recorded before anything leaves: `Dispatched` fixes the recipients and the
rendered text, then each delivery attempt is recorded with its outcome. A restart finds
the deliveries still to make in the store, so nothing is skipped; a delivery that was
made but not yet recorded when the process died is sent again with the same message id
(`Message-ID` for mail, `Idempotency-Key` for webhooks), for the receiver to recognise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from changeledger.communication.domain.stakeholder import Channel, Quadrant
from changeledger.runtime.domain import Aggregate, InvalidValue, NotFound, RuleViolated

_RECIPIENT = uuid5(NAMESPACE_URL, "urn:changeledger:communication:recipient")
MAX_ATTEMPTS = 6


class MessageState(Enum):
    PLANNED = "Planned"
    SENT = "Sent"
    DELIVERED = "Delivered"
    ACKNOWLEDGED = "Acknowledged"
    OVERDUE = "Overdue"
    ESCALATED = "Escalated"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


@dataclass(frozen=True)
class Audience:
    """Who a message is for: everyone any of the parts names, resolved when it is sent
    (so it reaches whoever subscribes by then). Retired stakeholders are left out."""

    stakeholder_ids: tuple[UUID, ...] = ()
    quadrants: tuple[Quadrant, ...] = ()
    subscribers_of_release: UUID | None = None
    subscribers_of_cis: tuple[str, ...] = ()
    #: The stakeholders who own these CIs (as the CMDB last said).
    owners_of_cis: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.stakeholder_ids
            or self.quadrants
            or self.subscribers_of_release
            or self.subscribers_of_cis
            or self.owners_of_cis
        )


@dataclass(frozen=True)
class Recipient:
    id: UUID
    stakeholder_id: UUID
    channel: Channel
    address: str
    delivered_at: datetime | None = None
    failed: bool = False
    attempts: int = 0
    last_attempt_at: datetime | None = None
    acknowledged_at: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.delivered_at is None and not self.failed

    def due_for_attempt(self, now: datetime, backoff: timedelta) -> bool:
        """Retries wait longer each time: backoff, 2 x backoff, 4 x backoff, ..."""
        if not self.pending:
            return False
        if self.last_attempt_at is None:
            return True
        return bool(now >= self.last_attempt_at + backoff * 2 ** (self.attempts - 1))


@dataclass(frozen=True)
class Attempt:
    recipient_id: UUID
    at: datetime
    delivered: bool
    detail: str


def recipient_id(message_id: UUID, stakeholder_id: UUID) -> UUID:
    return uuid5(_RECIPIENT, f"{message_id}/{stakeholder_id}")


class Message(Aggregate):
    #: Version 2 added the change a message is about; older snapshots are upcast.
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["change_id"] = None

    class Event(Aggregate.Event):
        release_id: UUID | None

    class Planned(Event, Aggregate.Created):
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["change_id"] = None

        change_id: UUID | None
        audience: Audience
        channel: Channel | None
        send_at: datetime
        subject: str
        body: str
        ack_required: bool
        ack_within: timedelta | None
        purpose: str

    @event(Planned)
    def __init__(
        self,
        release_id: UUID | None,
        change_id: UUID | None,
        audience: Audience,
        channel: Channel | None,
        send_at: datetime,
        subject: str,
        body: str,
        ack_required: bool,
        ack_within: timedelta | None,
        purpose: str,
    ) -> None:
        self.release_id = release_id
        self.change_id = change_id
        self.audience = audience
        self.channel = channel
        self.send_at = send_at
        self.subject = subject
        self.body = body
        self.ack_required = ack_required
        self.ack_within = ack_within
        self.purpose = purpose
        self.state = MessageState.PLANNED
        self.recipients: list[Recipient] = []
        self.sent_at: datetime | None = None
        self.sent_subject: str | None = None
        self.sent_body: str | None = None
        self.escalation_id: UUID | None = None

    @classmethod
    def plan(
        cls,
        release_id: UUID | None,
        audience: Audience,
        channel: Channel | None,
        send_at: datetime,
        subject: str,
        body: str,
        ack_required: bool,
        ack_within: timedelta | None,
        purpose: str = "manual",
        message_id: UUID | None = None,
        change_id: UUID | None = None,
    ) -> Message:
        _check(send_at, subject, ack_required, ack_within)
        message: Message = cls._create(
            cls.Planned,
            id=message_id,
            release_id=release_id,
            change_id=change_id,
            audience=audience,
            channel=channel,
            send_at=send_at,
            subject=subject,
            body=body,
            ack_required=ack_required,
            ack_within=ack_within,
            purpose=purpose,
        )
        return message

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        # Every event says which release it concerns, for subscribers.
        kwargs.setdefault("release_id", self.release_id)
        super().trigger_event(event_class, **kwargs)

    @property
    def ack_by(self) -> datetime | None:
        if not self.ack_required or self.ack_within is None or self.sent_at is None:
            return None
        return self.sent_at + self.ack_within

    def _require(self, allowed: set[MessageState], doing: str) -> None:
        if self.state not in allowed:
            raise RuleViolated(
                f"cannot {doing} a message that is {self.state.value}",
                rule="message-state",
                state=self.state.value,
            )

    class Edited(Aggregate.Event):
        audience: Audience
        channel: Channel | None
        send_at: datetime
        subject: str
        body: str
        ack_required: bool
        ack_within: timedelta | None

    def edit(self, **changes: Any) -> None:
        """Change anything about the message until it is sent."""
        self._require({MessageState.PLANNED}, "edit")
        fields = {
            "audience": self.audience,
            "channel": self.channel,
            "send_at": self.send_at,
            "subject": self.subject,
            "body": self.body,
            "ack_required": self.ack_required,
            "ack_within": self.ack_within,
        } | {k: v for k, v in changes.items() if v is not None}
        _check(fields["send_at"], fields["subject"], fields["ack_required"], fields["ack_within"])
        self._edited(**fields)

    @event(Edited)
    def _edited(
        self,
        audience: Audience,
        channel: Channel | None,
        send_at: datetime,
        subject: str,
        body: str,
        ack_required: bool,
        ack_within: timedelta | None,
    ) -> None:
        self.audience, self.channel, self.send_at = audience, channel, send_at
        self.subject, self.body = subject, body
        self.ack_required, self.ack_within = ack_required, ack_within

    class Cancelled(Aggregate.Event):
        reason: str

    def cancel(self, reason: str) -> None:
        self._require({MessageState.PLANNED}, "cancel")
        self._cancelled(reason)

    @event(Cancelled)
    def _cancelled(self, reason: str) -> None:
        self.state = MessageState.CANCELLED

    class Dispatched(Aggregate.Event):
        recipients: tuple[Recipient, ...]
        subject: str
        body: str
        sent_at: datetime

    def dispatch(
        self, recipients: tuple[Recipient, ...], subject: str, body: str, now: datetime
    ) -> None:
        """Fix who gets it and what it says, before anything is sent."""
        self._require({MessageState.PLANNED}, "send")
        self._dispatched(recipients, subject, body, now)
        if not recipients:
            self._settle()

    @event(Dispatched)
    def _dispatched(
        self, recipients: tuple[Recipient, ...], subject: str, body: str, sent_at: datetime
    ) -> None:
        self.recipients = list(recipients)
        self.sent_subject, self.sent_body, self.sent_at = subject, body, sent_at
        self.state = MessageState.SENT

    class AttemptRecorded(Aggregate.Event):
        attempt: Attempt

    class RecipientFailed(Aggregate.Event):
        recipient_id: UUID

    def record_attempt(self, attempt: Attempt) -> None:
        recipient = self.recipient(attempt.recipient_id)
        if not recipient.pending:
            return  # delivered or given up on already: nothing to record twice
        self._attempt_recorded(attempt)
        if not attempt.delivered and self.recipient(attempt.recipient_id).attempts >= MAX_ATTEMPTS:
            self._recipient_failed(attempt.recipient_id)
        self._settle()

    @event(AttemptRecorded)
    def _attempt_recorded(self, attempt: Attempt) -> None:
        self._replace(
            attempt.recipient_id,
            lambda r: replace(
                r,
                attempts=r.attempts + 1,
                last_attempt_at=attempt.at,
                delivered_at=attempt.at if attempt.delivered else None,
            ),
        )

    @event(RecipientFailed)
    def _recipient_failed(self, recipient_id: UUID) -> None:
        self._replace(recipient_id, lambda r: replace(r, failed=True))

    class Delivered(Aggregate.Event):
        pass

    class Failed(Aggregate.Event):
        pass

    def _settle(self) -> None:
        """Once no delivery is pending: Delivered if anyone got it, else Failed."""
        if self.state is not MessageState.SENT or any(r.pending for r in self.recipients):
            return
        if any(r.delivered_at for r in self.recipients) or not self.recipients:
            self._delivered()
        else:
            self._failed()

    @event(Delivered)
    def _delivered(self) -> None:
        self.state = MessageState.DELIVERED

    @event(Failed)
    def _failed(self) -> None:
        self.state = MessageState.FAILED

    class Acknowledged(Aggregate.Event):
        recipient_id: UUID
        at: datetime

    def acknowledge(self, recipient_id: UUID, now: datetime) -> None:
        """One recipient acknowledges; each link works once."""
        recipient = self.recipient(recipient_id)
        if recipient.acknowledged_at is not None:
            raise RuleViolated("this acknowledgement was already given", rule="ack-used")
        if self.state not in (
            MessageState.SENT,
            MessageState.DELIVERED,
            MessageState.OVERDUE,
            MessageState.ESCALATED,
        ):
            raise RuleViolated("this message cannot be acknowledged", rule="message-state")
        self._acknowledged(recipient_id, now)

    @event(Acknowledged)
    def _acknowledged(self, recipient_id: UUID, at: datetime) -> None:
        self._replace(recipient_id, lambda r: replace(r, acknowledged_at=at))
        reached = [r for r in self.recipients if r.delivered_at or r.acknowledged_at]
        if reached and all(r.acknowledged_at for r in reached):
            self.state = MessageState.ACKNOWLEDGED

    class BecameOverdue(Aggregate.Event):
        unacknowledged: tuple[UUID, ...]

    def check_overdue(self, now: datetime) -> bool:
        ack_by = self.ack_by
        if ack_by is None or now <= ack_by:
            return False
        if self.state not in (MessageState.SENT, MessageState.DELIVERED):
            return False
        waiting = tuple(r.stakeholder_id for r in self.recipients if r.acknowledged_at is None)
        if not waiting:
            return False
        self._became_overdue(waiting)
        return True

    @event(BecameOverdue)
    def _became_overdue(self, unacknowledged: tuple[UUID, ...]) -> None:
        self.state = MessageState.OVERDUE

    class Escalated(Aggregate.Event):
        escalation_id: UUID

    def escalate(self, escalation_id: UUID) -> None:
        self._require({MessageState.OVERDUE}, "escalate")
        self._escalated(escalation_id)

    @event(Escalated)
    def _escalated(self, escalation_id: UUID) -> None:
        self.escalation_id = escalation_id
        self.state = MessageState.ESCALATED

    # Recipients

    def recipient(self, recipient_id: UUID) -> Recipient:
        for recipient in self.recipients:
            if recipient.id == recipient_id:
                return recipient
        raise NotFound(f"no recipient {recipient_id} on this message")

    def _replace(self, recipient_id: UUID, change: Any) -> None:
        self.recipients = [change(r) if r.id == recipient_id else r for r in self.recipients]


def _check(
    send_at: datetime, subject: str, ack_required: bool, ack_within: timedelta | None
) -> None:
    if send_at.tzinfo is None:
        raise InvalidValue("the send time needs a time zone", rule="send-at-timezone")
    if not subject.strip():
        raise InvalidValue("a message needs a subject", rule="subject")
    if ack_required and (ack_within is None or ack_within <= timedelta(0)):
        raise InvalidValue("an acknowledgement needs a time to be given in", rule="ack-within")

"""Communication's commands, its scheduler and its queries, over its own store.

The scheduler (`tick`) runs on the service's clock: it sends the messages whose time has
come, delivers what is pending (with retries), and marks late acknowledgements overdue
and escalates them. Every step is recorded before the next one, so after a restart it
carries on from the store: nothing skipped, nothing sent twice (see `domain.message`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta
from string import Template
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from changeledger.communication.channels import Channels, DeliveryFailed, Letter, Smtp, Webhook
from changeledger.communication.domain import (
    HIGH_POWER,
    Attempt,
    Audience,
    Channel,
    Engagement,
    KnownChange,
    KnownRelease,
    Message,
    MessageState,
    Quadrant,
    Recipient,
    Stakeholder,
    recipient_id,
)
from changeledger.communication.reports import CommunicationBoard
from changeledger.communication.settings import CommunicationSettings, webhook_secret
from changeledger.runtime.auth import key_file
from changeledger.runtime.domain import Aggregate, NotFound, RuleViolated, now
from changeledger.runtime.projection import LiveProjection
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import ServiceApplication

_MESSAGES = uuid5(NAMESPACE_URL, "urn:changeledger:communication:message")


def reaction_message_id(*parts: object) -> UUID:
    """The one message a reaction plans, whatever number of times the event arrives."""
    return uuid5(_MESSAGES, "/".join(map(str, parts)))


class CommunicationApplication(ServiceApplication):
    name = "communication"
    snapshotted = (Stakeholder, Message, KnownRelease, KnownChange)
    value_objects = (Audience, Recipient, Attempt, Channel, Quadrant, Engagement, MessageState)

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.board = LiveProjection(self, CommunicationBoard)
        self.channels: Channels | None = None
        self.ack_secret = b""
        self.public_url = "http://127.0.0.1:8003"
        self.backoff = timedelta(seconds=30)

    def configure(self, settings: Settings) -> None:
        own = CommunicationSettings(**settings.model_dump())
        self.channels = Channels(
            {Channel.EMAIL: Smtp(own), Channel.WEBHOOK: Webhook(own, webhook_secret(own))}
        )
        self.ack_secret = key_file(own.data_dir, "ack-links.key")
        self.public_url = own.public_url.rstrip("/")
        self.backoff = timedelta(seconds=own.delivery_backoff_seconds)

    # Stakeholders

    def register_stakeholder(self, **fields: Any) -> Stakeholder:
        stakeholder = Stakeholder.register(**fields)
        self.save(stakeholder)
        return stakeholder

    def stakeholder(
        self,
        stakeholder_id: UUID,
        as_of: datetime | None = None,
        expected_version: int | None = None,
    ) -> Stakeholder:
        return self.get(stakeholder_id, Stakeholder, as_of=as_of, expected_version=expected_version)

    def update_stakeholder(
        self, stakeholder_id: UUID, expected_version: int | None = None, **fields: Any
    ) -> Stakeholder:
        return self.update(
            stakeholder_id, Stakeholder, lambda s: s.update(**fields), expected_version
        )

    def assess_engagement(
        self,
        stakeholder_id: UUID,
        current: Engagement,
        desired: Engagement,
        expected_version: int | None = None,
    ) -> Stakeholder:
        return self.update(
            stakeholder_id,
            Stakeholder,
            lambda s: s.assess_engagement(current, desired),
            expected_version,
        )

    def subscribe(
        self,
        stakeholder_id: UUID,
        release_id: UUID | None,
        ci: str | None,
        expected_version: int | None = None,
    ) -> Stakeholder:
        return self.update(
            stakeholder_id, Stakeholder, lambda s: s.subscribe(release_id, ci), expected_version
        )

    def unsubscribe(
        self,
        stakeholder_id: UUID,
        release_id: UUID | None,
        ci: str | None,
        expected_version: int | None = None,
    ) -> Stakeholder:
        return self.update(
            stakeholder_id, Stakeholder, lambda s: s.unsubscribe(release_id, ci), expected_version
        )

    def retire_stakeholder(
        self, stakeholder_id: UUID, reason: str, expected_version: int | None = None
    ) -> Stakeholder:
        return self.update(
            stakeholder_id, Stakeholder, lambda s: s.retire(reason), expected_version
        )

    # Messages

    def plan_message(self, **fields: Any) -> Message:
        message = Message.plan(**fields)
        self.save(message)
        return message

    def message(
        self, message_id: UUID, as_of: datetime | None = None, expected_version: int | None = None
    ) -> Message:
        return self.get(message_id, Message, as_of=as_of, expected_version=expected_version)

    def edit_message(
        self, message_id: UUID, expected_version: int | None = None, **changes: Any
    ) -> Message:
        return self.update(message_id, Message, lambda m: m.edit(**changes), expected_version)

    def cancel_message(
        self, message_id: UUID, reason: str, expected_version: int | None = None
    ) -> Message:
        return self.update(message_id, Message, lambda m: m.cancel(reason), expected_version)

    # The scheduler

    def tick(self, at: datetime | None = None) -> dict[str, int]:
        """One turn of the scheduler; returns how much it did."""
        at = at or now()
        return {
            "sent": self.dispatch_due(at),
            "attempts": self.deliver_pending(at),
            "overdue": self.check_overdue(at),
        }

    def dispatch_due(self, at: datetime) -> int:
        due = self.board.query(lambda b: b.due(at))
        for message_id in due:
            message = self.message(message_id)
            if message.state is not MessageState.PLANNED:
                continue
            recipients, context = self._resolve(message)
            message.dispatch(
                recipients,
                Template(message.subject).safe_substitute(context),
                Template(message.body).safe_substitute(context),
                at,
            )
            self.save(message)
        return len(due)

    def _resolve(self, message: Message) -> tuple[tuple[Recipient, ...], dict[str, str]]:
        def resolve(
            board: CommunicationBoard,
        ) -> tuple[list[Stakeholder], KnownRelease | None, KnownChange | None]:
            release = board.release(message.release_id) if message.release_id else None
            change = board.change(message.change_id) if message.change_id else None
            return board.audience(message.audience), release, change

        stakeholders, release, change = self.board.query(resolve)
        recipients = []
        for stakeholder in stakeholders:
            address = stakeholder.address(message.channel) or stakeholder.address()
            if address is not None:
                channel, where = address
                recipients.append(
                    Recipient(
                        recipient_id(message.id, stakeholder.id), stakeholder.id, channel, where
                    )
                )
        context = {"release_id": str(message.release_id or "")}
        if release is not None:
            context |= {
                "release_name": release.name,
                "release_owner": release.owner,
                "window_start": release.window_start.isoformat() if release.window_start else "",
                "window_end": release.window_end.isoformat() if release.window_end else "",
            }
        if change is not None:
            context |= change.fields()
        return tuple(recipients), context

    def deliver_pending(self, at: datetime) -> int:
        if self.channels is None:
            return 0
        attempts = 0
        for message_id in self.board.query(lambda b: b.in_delivery()):
            message = self.message(message_id)
            for recipient in list(message.recipients):
                if not recipient.due_for_attempt(at, self.backoff):
                    continue
                attempts += 1
                letter = self._letter(message, recipient)
                try:
                    detail, delivered = self.channels.send(letter), True
                except DeliveryFailed as failure:
                    detail, delivered = str(failure), False
                message.record_attempt(Attempt(recipient.id, at, delivered, detail[:500]))
                self.save(message)
        return attempts

    def _letter(self, message: Message, recipient: Recipient) -> Letter:
        stakeholder = self.stakeholder(recipient.stakeholder_id)
        link = self.ack_link(message.id, recipient.stakeholder_id) if message.ack_required else None
        context = {"stakeholder_name": stakeholder.name, "ack_link": link or ""}
        body = Template(message.sent_body or "").safe_substitute(context)
        if link and link not in body:
            body += f"\n\nPlease acknowledge: {link}\n"
        subject = Template(message.sent_subject or "").safe_substitute(context)
        return Letter(str(message.id), recipient, subject, body, link)

    def check_overdue(self, at: datetime) -> int:
        late = self.board.query(lambda b: b.awaiting_ack(at))
        for message_id in late:
            message = self.message(message_id)
            if message.check_overdue(at):
                escalation = self._escalation_for(message, at)
                if escalation is not None:
                    message.escalate(escalation.id)
                self.save(message, escalation)
        return len(late)

    def _escalation_for(self, message: Message, at: datetime) -> Message | None:
        """A message to the release owner and the release's high-power stakeholders."""
        if message.release_id is None:
            return None
        release_id = message.release_id

        def people(board: CommunicationBoard) -> list[UUID]:
            release = board.release(release_id)
            owners = board.named(release.owner) if release else []
            return [s.id for s in [*owners, *board.high_power(release_id, HIGH_POWER)]]

        stakeholder_ids = tuple(dict.fromkeys(self.board.query(people)))
        if not stakeholder_ids:
            return None
        return Message.plan(
            release_id=release_id,
            audience=Audience(stakeholder_ids=stakeholder_ids),
            channel=None,
            send_at=at,
            subject=f"Not acknowledged: {message.sent_subject}",
            body=(
                f"The message {message.sent_subject!r} sent on {message.sent_at} was not "
                "acknowledged in time by everyone it was sent to."
            ),
            ack_required=False,
            ack_within=None,
            purpose="escalation",
            message_id=reaction_message_id(message.id, "escalation"),
        )

    # Acknowledgement links

    def ack_link(self, message_id: UUID, stakeholder_id: UUID) -> str:
        return f"{self.public_url}/acks/{self.ack_token(message_id, stakeholder_id)}"

    def ack_token(self, message_id: UUID, stakeholder_id: UUID) -> str:
        mac = hmac.new(self.ack_secret, message_id.bytes + stakeholder_id.bytes, hashlib.sha256)
        return f"{message_id.hex}.{stakeholder_id.hex}.{mac.hexdigest()[:40]}"

    def acknowledge(self, token: str, at: datetime | None = None) -> tuple[Message, UUID]:
        """Single use, for one recipient; a token that does not check out is not found."""
        unknown = NotFound("no such acknowledgement link", rule="ack-unknown")
        try:
            message_hex, stakeholder_hex, _ = token.split(".")
            message_id, stakeholder_id = UUID(hex=message_hex), UUID(hex=stakeholder_hex)
        except ValueError:
            raise unknown from None
        if not hmac.compare_digest(token, self.ack_token(message_id, stakeholder_id)):
            raise unknown
        if not self.contains(message_id):
            raise unknown
        message = self.message(message_id)
        try:
            message.acknowledge(recipient_id(message_id, stakeholder_id), at or now())
        except NotFound:
            raise unknown from None
        self.save(message)
        return message, stakeholder_id

    # Reactions: what planning and risk cause

    def plan_once(self, message_id: UUID, **fields: Any) -> Sequence[Aggregate]:
        """Plan a message a reaction calls for, unless it was planned already."""
        if self.contains(message_id):
            return []
        message = Message.plan(message_id=message_id, **fields)
        self.enlist(message)
        return [message]

    def cancel_stale(self, release_id: UUID, purpose: str, keep: set[UUID]) -> list[Aggregate]:
        stale = self.board.query(
            lambda b: [
                m.id
                for m in b.messages(release_id, "Planned")
                if m.purpose == purpose and m.id not in keep
            ]
        )
        cancelled: list[Aggregate] = []
        for message_id in stale:
            message = self.message(message_id)
            try:
                message.cancel("the release was rescheduled")
            except RuleViolated:
                continue
            cancelled.append(message)
        return cancelled

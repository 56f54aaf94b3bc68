"""Communication's read side: stakeholders, messages and what is known of releases."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from changeledger.communication.domain import (
    Audience,
    KnownChange,
    KnownCi,
    KnownRelease,
    Message,
    MessageState,
    Quadrant,
    Stakeholder,
    known_change_id,
    known_ci_id,
    known_release_id,
)
from changeledger.runtime.projection import AggregateIndex

SENT_OR_LATER = frozenset(set(MessageState) - {MessageState.PLANNED, MessageState.CANCELLED})


@dataclass(frozen=True)
class Rates:
    """How a message (or a release's messages) fared, recipient by recipient."""

    messages: int
    recipients: int
    delivered: int
    acknowledged: int
    awaiting_ack: int
    overdue: int
    failed: int

    @classmethod
    def of(cls, messages: list[Message]) -> Rates:
        sent = [m for m in messages if m.state in SENT_OR_LATER]
        recipients = [r for m in sent for r in m.recipients]
        needs_ack = [r for m in sent if m.ack_required for r in m.recipients]
        states = Counter(m.state for m in sent)
        return cls(
            messages=len(sent),
            recipients=len(recipients),
            delivered=sum(1 for r in recipients if r.delivered_at),
            acknowledged=sum(1 for r in needs_ack if r.acknowledged_at),
            awaiting_ack=len(needs_ack),
            overdue=states[MessageState.OVERDUE] + states[MessageState.ESCALATED],
            failed=sum(1 for r in recipients if r.failed),
        )


class CommunicationBoard(AggregateIndex):
    indexed = (Stakeholder, Message, KnownRelease, KnownChange, KnownCi)

    def stakeholders(self, include_retired: bool = False) -> list[Stakeholder]:
        found = [s for s in self.all(Stakeholder) if include_retired or not s.retired]
        return sorted(found, key=lambda s: s.name)

    def audience(self, audience: Audience) -> list[Stakeholder]:
        """Everyone the audience names, active, each once."""
        owners = {
            ci.owner
            for key in audience.owners_of_cis
            if (ci := self.get(KnownCi, known_ci_id(key))) is not None
        }
        return [
            s
            for s in self.stakeholders()
            if s.id in audience.stakeholder_ids
            or s.quadrant in audience.quadrants
            or (audience.subscribers_of_release and audience.subscribers_of_release in s.releases)
            or any(ci in s.cis for ci in audience.subscribers_of_cis)
            or s.name in owners
        ]

    def high_power(self, release_id: UUID, power: int) -> list[Stakeholder]:
        return [s for s in self.stakeholders() if release_id in s.releases and s.power >= power]

    def named(self, name: str) -> list[Stakeholder]:
        return [s for s in self.stakeholders() if s.name == name]

    def grid(self) -> dict[Quadrant, list[Stakeholder]]:
        grid: dict[Quadrant, list[Stakeholder]] = {q: [] for q in Quadrant}
        for stakeholder in self.stakeholders():
            grid[stakeholder.quadrant].append(stakeholder)
        return grid

    def release(self, release_id: UUID) -> KnownRelease | None:
        return self.get(KnownRelease, known_release_id(release_id))

    def change(self, change_id: UUID) -> KnownChange | None:
        return self.get(KnownChange, known_change_id(change_id))

    def messages(self, release_id: UUID | None = None, state: str | None = None) -> list[Message]:
        found = [
            m
            for m in self.all(Message)
            if (release_id is None or m.release_id == release_id)
            and (state is None or m.state.value == state)
        ]
        return sorted(found, key=lambda m: (m.send_at, m.created_on))

    def due(self, now: datetime) -> list[UUID]:
        return [m.id for m in self.messages(state="Planned") if m.send_at <= now]

    def in_delivery(self) -> list[UUID]:
        return [m.id for m in self.all(Message) if m.state is MessageState.SENT]

    def awaiting_ack(self, now: datetime) -> list[UUID]:
        return [
            m.id
            for m in self.all(Message)
            if m.state in (MessageState.SENT, MessageState.DELIVERED)
            and m.ack_by is not None
            and now > m.ack_by
        ]

    def monitoring(self) -> tuple[Rates, dict[UUID | None, Rates], list[tuple[Message, Rates]]]:
        messages = self.messages()
        by_release: dict[UUID | None, list[Message]] = {}
        for message in messages:
            by_release.setdefault(message.release_id, []).append(message)
        return (
            Rates.of(messages),
            {release: Rates.of(group) for release, group in by_release.items()},
            [(m, Rates.of([m])) for m in messages if m.state in SENT_OR_LATER],
        )

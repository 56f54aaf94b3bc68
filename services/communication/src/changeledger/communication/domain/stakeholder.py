"""Stakeholders: who they are, how to reach them, and where they sit on the
power/interest grid."""

from __future__ import annotations

from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from changeledger.runtime.domain import Aggregate, InvalidValue, RuleViolated


class Channel(Enum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class Quadrant(Enum):
    MANAGE_CLOSELY = "Manage closely"
    KEEP_SATISFIED = "Keep satisfied"
    KEEP_INFORMED = "Keep informed"
    MONITOR = "Monitor"

    @classmethod
    def of(cls, power: int, interest: int) -> Quadrant:
        """High means 3 or more on the 1-5 scales."""
        if power >= 3:
            return cls.MANAGE_CLOSELY if interest >= 3 else cls.KEEP_SATISFIED
        return cls.KEEP_INFORMED if interest >= 3 else cls.MONITOR


class Engagement(Enum):
    UNAWARE = "Unaware"
    RESISTANT = "Resistant"
    NEUTRAL = "Neutral"
    SUPPORTIVE = "Supportive"
    LEADING = "Leading"


HIGH_POWER = 4


def _scale(name: str, value: int) -> None:
    if not 1 <= value <= 5:
        raise InvalidValue(f"{name} runs from 1 to 5, not {value}", rule="scale")


class Stakeholder(Aggregate):
    class Registered(Aggregate.Created):
        name: str
        role: str
        organisation: str
        email: str | None
        webhook_url: str | None
        channel: Channel
        power: int
        interest: int

    @event(Registered)
    def __init__(
        self,
        name: str,
        role: str,
        organisation: str,
        email: str | None,
        webhook_url: str | None,
        channel: Channel,
        power: int,
        interest: int,
    ) -> None:
        self.name = name
        self.role = role
        self.organisation = organisation
        self.email = email
        self.webhook_url = webhook_url
        self.channel = channel
        self.power = power
        self.interest = interest
        self.engagement_current = Engagement.UNAWARE
        self.engagement_desired = Engagement.SUPPORTIVE
        self.releases: list[UUID] = []
        self.cis: list[str] = []
        self.retired = False

    @classmethod
    def register(cls, **fields: Any) -> Stakeholder:
        cls._check(fields)
        return cls(**fields)

    @staticmethod
    def _check(fields: dict[str, Any]) -> None:
        _scale("power", fields["power"])
        _scale("interest", fields["interest"])
        channel: Channel = fields["channel"]
        if channel is Channel.EMAIL and not fields.get("email"):
            raise InvalidValue(
                "email is the preferred channel, so an address is needed", rule="no-address"
            )
        if channel is Channel.WEBHOOK and not fields.get("webhook_url"):
            raise InvalidValue(
                "webhook is the preferred channel, so a URL is needed", rule="no-address"
            )

    @property
    def quadrant(self) -> Quadrant:
        return Quadrant.of(self.power, self.interest)

    def address(self, channel: Channel | None = None) -> tuple[Channel, str] | None:
        """Where to reach them on `channel` (default: their preferred one)."""
        channel = channel or self.channel
        address = self.email if channel is Channel.EMAIL else self.webhook_url
        return (channel, address) if address else None

    def _require_active(self) -> None:
        if self.retired:
            raise RuleViolated("this stakeholder is retired", rule="stakeholder-retired")

    class Updated(Aggregate.Event):
        name: str
        role: str
        organisation: str
        email: str | None
        webhook_url: str | None
        channel: Channel
        power: int
        interest: int

    def update(self, **fields: Any) -> None:
        self._require_active()
        current = {
            "name": self.name,
            "role": self.role,
            "organisation": self.organisation,
            "email": self.email,
            "webhook_url": self.webhook_url,
            "channel": self.channel,
            "power": self.power,
            "interest": self.interest,
        }
        merged = current | {k: v for k, v in fields.items() if v is not None}
        self._check(merged)
        if merged != current:
            self._updated(**merged)

    @event(Updated)
    def _updated(
        self,
        name: str,
        role: str,
        organisation: str,
        email: str | None,
        webhook_url: str | None,
        channel: Channel,
        power: int,
        interest: int,
    ) -> None:
        self.name, self.role, self.organisation = name, role, organisation
        self.email, self.webhook_url, self.channel = email, webhook_url, channel
        self.power, self.interest = power, interest

    class EngagementAssessed(Aggregate.Event):
        current: Engagement
        desired: Engagement

    def assess_engagement(self, current: Engagement, desired: Engagement) -> None:
        self._require_active()
        self._engagement_assessed(current, desired)

    @event(EngagementAssessed)
    def _engagement_assessed(self, current: Engagement, desired: Engagement) -> None:
        self.engagement_current = current
        self.engagement_desired = desired

    class Subscribed(Aggregate.Event):
        release_id: UUID | None
        ci: str | None

    def subscribe(self, release_id: UUID | None = None, ci: str | None = None) -> None:
        self._require_active()
        if (release_id is None) == (ci is None):
            raise InvalidValue("subscribe to one release or one CI", rule="subscription")
        if release_id in self.releases or ci in self.cis:
            return
        self._subscribed(release_id, ci)

    @event(Subscribed)
    def _subscribed(self, release_id: UUID | None, ci: str | None) -> None:
        if release_id is not None:
            self.releases.append(release_id)
        if ci is not None:
            self.cis.append(ci)

    class Unsubscribed(Aggregate.Event):
        release_id: UUID | None
        ci: str | None

    def unsubscribe(self, release_id: UUID | None = None, ci: str | None = None) -> None:
        if release_id in self.releases or ci in self.cis:
            self._unsubscribed(release_id, ci)

    @event(Unsubscribed)
    def _unsubscribed(self, release_id: UUID | None, ci: str | None) -> None:
        self.releases = [r for r in self.releases if r != release_id]
        self.cis = [c for c in self.cis if c != ci]

    class Retired(Aggregate.Event):
        reason: str

    def retire(self, reason: str) -> None:
        self._require_active()
        self._retired(reason)

    @event(Retired)
    def _retired(self, reason: str) -> None:
        self.retired = True

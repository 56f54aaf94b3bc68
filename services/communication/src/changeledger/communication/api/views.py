"""What communication's API answers, and the shapes it accepts."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, EmailStr, Field

from changeledger.communication import domain as d
from changeledger.communication.reports import Rates

Name = Field(min_length=1, max_length=200)


class StakeholderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Name
    role: str = Name
    organisation: str = Name
    email: EmailStr | None = None
    webhook_url: AnyHttpUrl | None = None
    channel: d.Channel = d.Channel.EMAIL
    power: int = Field(ge=1, le=5)
    interest: int = Field(ge=1, le=5)

    def fields(self) -> dict[str, object]:
        values = self.model_dump()
        values["webhook_url"] = str(self.webhook_url) if self.webhook_url else None
        return values


class StakeholderView(BaseModel):
    id: UUID
    version: int
    name: str
    role: str
    organisation: str
    email: str | None
    webhook_url: str | None
    channel: d.Channel
    power: int
    interest: int
    quadrant: d.Quadrant
    engagement_current: d.Engagement
    engagement_desired: d.Engagement
    releases: list[UUID]
    cis: list[str]
    retired: bool

    @classmethod
    def of(cls, s: d.Stakeholder) -> StakeholderView:
        return cls(
            id=s.id,
            version=s.version,
            name=s.name,
            role=s.role,
            organisation=s.organisation,
            email=s.email,
            webhook_url=s.webhook_url,
            channel=s.channel,
            power=s.power,
            interest=s.interest,
            quadrant=s.quadrant,
            engagement_current=s.engagement_current,
            engagement_desired=s.engagement_desired,
            releases=list(s.releases),
            cis=list(s.cis),
            retired=s.retired,
        )


class AudienceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stakeholder_ids: list[UUID] = Field(default=[], max_length=1000)
    quadrants: list[d.Quadrant] = []
    subscribers_of_release: UUID | None = None
    subscribers_of_cis: list[str] = Field(default=[], max_length=500)
    owners_of_cis: list[str] = Field(
        default=[], max_length=500, description="The owners of these CIs, as the CMDB says"
    )

    def audience(self) -> d.Audience:
        return d.Audience(
            stakeholder_ids=tuple(self.stakeholder_ids),
            quadrants=tuple(self.quadrants),
            subscribers_of_release=self.subscribers_of_release,
            subscribers_of_cis=tuple(self.subscribers_of_cis),
            owners_of_cis=tuple(self.owners_of_cis),
        )

    @classmethod
    def of(cls, a: d.Audience) -> AudienceBody:
        return cls(
            stakeholder_ids=list(a.stakeholder_ids),
            quadrants=list(a.quadrants),
            subscribers_of_release=a.subscribers_of_release,
            subscribers_of_cis=list(a.subscribers_of_cis),
            owners_of_cis=list(a.owners_of_cis),
        )


class RecipientView(BaseModel):
    id: UUID
    stakeholder_id: UUID
    channel: d.Channel
    attempts: int
    delivered_at: datetime | None
    failed: bool
    acknowledged_at: datetime | None


class MessageView(BaseModel):
    id: UUID
    version: int
    release_id: UUID | None
    change_id: UUID | None
    purpose: str
    audience: AudienceBody
    channel: d.Channel | None
    send_at: datetime
    subject: str
    body: str
    ack_required: bool
    ack_within_hours: float | None
    ack_by: datetime | None
    state: d.MessageState
    sent_at: datetime | None
    recipients: list[RecipientView]
    escalation_id: UUID | None

    @classmethod
    def of(cls, m: d.Message) -> MessageView:
        return cls(
            id=m.id,
            version=m.version,
            release_id=m.release_id,
            change_id=m.change_id,
            purpose=m.purpose,
            audience=AudienceBody.of(m.audience),
            channel=m.channel,
            send_at=m.send_at,
            subject=m.sent_subject or m.subject,
            body=m.sent_body or m.body,
            ack_required=m.ack_required,
            ack_within_hours=m.ack_within.total_seconds() / 3600 if m.ack_within else None,
            ack_by=m.ack_by,
            state=m.state,
            sent_at=m.sent_at,
            recipients=[
                RecipientView(
                    id=r.id,
                    stakeholder_id=r.stakeholder_id,
                    channel=r.channel,
                    attempts=r.attempts,
                    delivered_at=r.delivered_at,
                    failed=r.failed,
                    acknowledged_at=r.acknowledged_at,
                )
                for r in m.recipients
            ],
            escalation_id=m.escalation_id,
        )


class RatesView(BaseModel):
    messages: int
    recipients: int
    delivered: int
    acknowledged: int
    awaiting_ack: int
    overdue: int
    failed: int
    delivered_rate: float | None
    acknowledged_rate: float | None

    @classmethod
    def of(cls, r: Rates) -> RatesView:
        return cls(
            **r.__dict__,
            delivered_rate=round(r.delivered / r.recipients, 3) if r.recipients else None,
            acknowledged_rate=(
                round(r.acknowledged / r.awaiting_ack, 3) if r.awaiting_ack else None
            ),
        )


class ReleaseRates(BaseModel):
    release_id: UUID | None
    rates: RatesView


class MessageRates(BaseModel):
    message_id: UUID
    release_id: UUID | None
    subject: str
    state: d.MessageState
    rates: RatesView


class MonitoringView(BaseModel):
    overall: RatesView
    releases: list[ReleaseRates]
    messages: list[MessageRates]

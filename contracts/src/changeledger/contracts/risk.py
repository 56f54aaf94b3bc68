"""Events published by the risk service on `risk.events`.

Every risk and issue event carries the release it belongs to and, for risks, the rating
the risk has after the event, which is what planning's deployment gate needs.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from changeledger.contracts.registry import IntegrationEvent, event_type

Rating = Literal["Low", "Medium", "High", "Critical"]
Severity = Literal["low", "medium", "high", "critical"]


@event_type("risk.register.opened", version=1)
class RiskRegisterOpened(IntegrationEvent):
    """A release's risk register was opened."""

    register_id: UUID
    release_id: UUID


@event_type("risk.exposure.changed", version=1)
class RiskExposureChanged(IntegrationEvent):
    """A release's risk exposure, as it stands after a change to its register."""

    release_id: UUID
    open_risks: int
    open_issues: int
    highest_score: int
    unaccepted_critical: int
    #: Grows with every change to the register: a subscriber keeps the highest it has seen
    #: and ignores older reports that arrive late.
    register_version: int | None = None


class RiskFacts(IntegrationEvent):
    """What every risk event says about its risk."""

    risk_id: UUID
    release_id: UUID | None
    rating: Rating | None


@event_type("risk.risk.identified", version=1)
class RiskIdentified(RiskFacts):
    cause: str
    event: str
    effect: str
    category: str
    owner: str
    change_id: UUID | None
    proximity: date | None


@event_type("risk.risk.assessed", version=1)
class RiskAssessed(RiskFacts):
    inherent_likelihood: int
    inherent_impact: int
    residual_likelihood: int | None
    residual_impact: int | None
    score: int
    assessed_by: str


@event_type("risk.risk.response_chosen", version=1)
class RiskResponseChosen(RiskFacts):
    response: Literal["avoid", "reduce", "transfer", "accept", "share"]
    reason: str


@event_type("risk.risk.mitigation_added", version=1)
class RiskMitigationAdded(RiskFacts):
    mitigation_id: UUID
    action: str
    owner: str
    due: date


@event_type("risk.risk.mitigation_completed", version=1)
class RiskMitigationCompleted(RiskFacts):
    mitigation_id: UUID
    completed_on: date


@event_type("risk.risk.escalated", version=1)
class RiskEscalated(RiskFacts):
    reason: str


@event_type("risk.risk.accepted", version=1)
class RiskAccepted(RiskFacts):
    reason: str
    accepted_by: str


@event_type("risk.risk.closed", version=1)
class RiskClosed(RiskFacts):
    reason: str


@event_type("risk.risk.materialised", version=1)
class RiskMaterialised(RiskFacts):
    issue_id: UUID


class IssueFacts(IntegrationEvent):
    issue_id: UUID
    release_id: UUID | None


@event_type("risk.issue.raised", version=1)
class IssueRaised(IssueFacts):
    title: str
    severity: Severity
    owner: str
    change_id: UUID | None
    risk_id: UUID | None


@event_type("risk.issue.status_changed", version=1)
class IssueStatusChanged(IssueFacts):
    state: Literal["Investigating", "Resolved", "Closed"]
    note: str


@event_type("risk.issue.resolved", version=1)
class IssueResolved(IssueFacts):
    resolution: str


@event_type("risk.issue.closed", version=1)
class IssueClosed(IssueFacts):
    pass

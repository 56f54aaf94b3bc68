"""What risk's API answers."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from changeledger.risk import domain as d
from changeledger.risk.reports import Overdue


class ScoreBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    likelihood: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)

    def score(self) -> d.Score:
        return d.Score(self.likelihood, self.impact)


class ScoreView(BaseModel):
    likelihood: int
    impact: int
    score: int
    rating: d.Rating

    @classmethod
    def of(cls, score: d.Score | None) -> ScoreView | None:
        if score is None:
            return None
        return cls(
            likelihood=score.likelihood, impact=score.impact, score=score.value, rating=score.rating
        )


class AssessmentView(BaseModel):
    inherent: ScoreView
    residual: ScoreView | None
    assessed_by: str


class MitigationView(BaseModel):
    id: UUID
    action: str
    owner: str
    due: date
    status: d.ActionStatus
    completed_on: date | None

    @classmethod
    def of(cls, m: d.Mitigation) -> MitigationView:
        return cls(
            id=m.id,
            action=m.action,
            owner=m.owner,
            due=m.due,
            status=m.status,
            completed_on=m.completed_on,
        )


class EscalationView(BaseModel):
    reason: str


class RiskView(BaseModel):
    id: UUID
    version: int
    cause: str
    event: str
    effect: str
    category: d.Category
    owner: str
    release_id: UUID | None
    change_id: UUID | None
    proximity: date | None
    state: d.RiskState
    current: ScoreView | None
    rating: d.Rating | None
    assessments: list[AssessmentView] = Field(description="Every assessment, oldest first")
    response: d.Response | None
    response_reason: str | None
    mitigations: list[MitigationView]
    escalations: list[EscalationView]
    issue_id: UUID | None
    closed_reason: str | None
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, risk: d.Risk) -> RiskView:
        return cls(
            id=risk.id,
            version=risk.version,
            cause=risk.cause,
            event=risk.event,
            effect=risk.effect,
            category=risk.category,
            owner=risk.owner,
            release_id=risk.release_id,
            change_id=risk.change_id,
            proximity=risk.proximity,
            state=risk.state,
            current=ScoreView.of(risk.score),
            rating=risk.rating,
            assessments=[
                AssessmentView(
                    inherent=ScoreView.of(a.inherent),
                    residual=ScoreView.of(a.residual),
                    assessed_by=a.assessed_by,
                )
                for a in risk.assessments
            ],
            response=risk.response,
            response_reason=risk.response_reason,
            mitigations=[MitigationView.of(m) for m in risk.mitigations],
            escalations=[EscalationView(reason=e.reason) for e in risk.escalations],
            issue_id=risk.issue_id,
            closed_reason=risk.closed_reason,
            created_on=risk.created_on,
            modified_on=risk.modified_on,
        )


class IssueView(BaseModel):
    id: UUID
    version: int
    title: str
    description: str
    severity: d.Severity
    owner: str
    release_id: UUID | None
    change_id: UUID | None
    risk_id: UUID | None
    state: d.IssueState
    resolution: str | None
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, issue: d.Issue) -> IssueView:
        return cls(
            id=issue.id,
            version=issue.version,
            title=issue.title,
            description=issue.description,
            severity=issue.severity,
            owner=issue.owner,
            release_id=issue.release_id,
            change_id=issue.change_id,
            risk_id=issue.risk_id,
            state=issue.state,
            resolution=issue.resolution,
            created_on=issue.created_on,
            modified_on=issue.modified_on,
        )


class MaterialisedView(BaseModel):
    risk: RiskView
    issue: IssueView


class ExposureView(BaseModel):
    open_risks: int
    open_issues: int
    highest_score: int
    unaccepted_critical: int


class RegisterView(BaseModel):
    id: UUID
    version: int
    release_id: UUID
    release_name: str
    opened_on: datetime
    exposure: ExposureView
    risks: list[RiskView] = Field(description="The open risks")
    issues: list[IssueView] = Field(description="The open issues")


class HeatmapView(BaseModel):
    basis: str
    release_id: UUID | None
    likelihood_by_impact: list[list[int]] = Field(
        description="cells[likelihood - 1][impact - 1]: how many open risks sit there"
    )


class OverdueView(BaseModel):
    risk_id: UUID
    release_id: UUID | None
    rating: d.Rating | None
    mitigation: MitigationView

    @classmethod
    def of(cls, overdue: Overdue) -> OverdueView:
        return cls(
            risk_id=overdue.risk.id,
            release_id=overdue.risk.release_id,
            rating=overdue.risk.rating,
            mitigation=MitigationView.of(overdue.mitigation),
        )

"""What planning's API answers: views of its aggregates and reports."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from changeledger.planning import domain as d
from changeledger.planning.reports import CalendarEntries, Load, Realisation

CENTS = Decimal("0.01")


class MoneyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(ge=0, max_digits=15, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")

    def money(self) -> d.Money:
        return d.Money(self.amount.quantize(CENTS), self.currency)


class MoneyView(BaseModel):
    """An amount as answered: unlike a request's, it may be below zero (an overspend)."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, money: d.Money | None) -> MoneyView | None:
        return None if money is None else cls(amount=money.amount, currency=money.currency)


class WindowBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime
    end: AwareDatetime

    def window(self) -> d.Window:
        return d.Window(self.start, self.end)

    @classmethod
    def of(cls, window: d.Window | None) -> WindowBody | None:
        return None if window is None else cls(start=window.start, end=window.end)


class WorkItemView(BaseModel):
    id: UUID
    rank: int
    title: str
    description: str


class AllocationView(BaseModel):
    id: UUID
    person: str
    role: str
    effort_days: Decimal
    period_start: date
    period_end: date


class BenefitView(BaseModel):
    id: UUID
    measure: str
    unit: str
    baseline: Decimal
    target: Decimal
    due: date
    actual: Decimal | None
    measured_on: date | None


class BudgetView(BaseModel):
    requested: MoneyView | None
    allocated: MoneyView | None
    spent: MoneyView | None
    remaining: MoneyView | None
    overspent: bool

    @classmethod
    def of(cls, release: d.Release) -> BudgetView:
        remaining = None
        overspent = False
        if release.allocated is not None and release.spent is not None:
            left = release.allocated.amount - release.spent.amount
            overspent = left < 0
            remaining = MoneyView(amount=left, currency=release.allocated.currency)
        return cls(
            requested=MoneyView.of(release.requested),
            allocated=MoneyView.of(release.allocated),
            spent=MoneyView.of(release.spent),
            remaining=remaining,
            overspent=overspent,
        )


class AssessmentView(BaseModel):
    assessor: str
    outcome: d.Outcome
    reason: str


class ExposureView(BaseModel):
    open_risks: int
    open_issues: int
    highest_score: int
    unaccepted_critical: int


class ReleaseView(BaseModel):
    id: UUID
    version: int
    name: str
    owner: str
    priority: d.Priority
    state: d.ReleaseState
    held_from: d.ReleaseState | None
    target_start: date
    target_end: date
    window: WindowBody | None
    cis: list[str]
    ci_versions: dict[str, str] = Field(description="The version each CI will be at once deployed")
    scope: list[WorkItemView]
    allocations: list[AllocationView]
    budget: BudgetView
    benefits: list[BenefitView]
    benefits_assessment: AssessmentView | None
    benefits_review: str | None
    risk_exposure: ExposureView
    risk_register_id: UUID | None
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, release: d.Release) -> ReleaseView:
        assessment = release.assessment
        return cls(
            id=release.id,
            version=release.version,
            name=release.name,
            owner=release.owner,
            priority=release.priority,
            state=release.state,
            held_from=release.held_from,
            target_start=release.target.start,
            target_end=release.target.end,
            window=WindowBody.of(release.window),
            cis=list(release.cis),
            ci_versions=dict(release.ci_versions),
            scope=[
                WorkItemView(id=i.id, rank=n + 1, title=i.title, description=i.description)
                for n, i in enumerate(release.scope)
            ],
            allocations=[
                AllocationView(
                    id=a.id,
                    person=a.person,
                    role=a.role,
                    effort_days=a.effort_days,
                    period_start=a.period.start,
                    period_end=a.period.end,
                )
                for a in release.allocations
            ],
            budget=BudgetView.of(release),
            benefits=[
                BenefitView(
                    id=b.id,
                    measure=b.measure,
                    unit=b.unit,
                    baseline=b.baseline,
                    target=b.target,
                    due=b.due,
                    actual=b.actual,
                    measured_on=b.measured_on,
                )
                for b in release.benefits
            ],
            benefits_assessment=(
                AssessmentView(
                    assessor=assessment.assessor,
                    outcome=assessment.outcome,
                    reason=assessment.reason,
                )
                if assessment
                else None
            ),
            benefits_review=release.benefits_review,
            risk_exposure=ExposureView(
                open_risks=release.exposure.open_risks,
                open_issues=release.exposure.open_issues,
                highest_score=release.exposure.highest_score,
                unaccepted_critical=release.exposure.unaccepted_critical,
            ),
            risk_register_id=release.risk_register_id,
            created_on=release.created_on,
            modified_on=release.modified_on,
        )


class DecisionView(BaseModel):
    decided_by: str
    decided_at: datetime
    reason: str


class ChangeView(BaseModel):
    id: UUID
    version: int
    type: d.ChangeType
    category: d.ChangeCategory
    title: str
    description: str
    state: d.ChangeState
    affected_cis: list[str]
    ci_scope: list[str]
    target_release_id: UUID | None
    impact: d.Level
    urgency: d.Level
    priority: int = Field(description="1 (highest) to 4, from impact and urgency")
    backout_plan: str
    reason: str
    requested_by: str
    assessment: dict[str, str] | None
    decision: DecisionView | None
    window: WindowBody | None
    review_outcome: d.ReviewOutcome | None
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, change: d.ChangeRequest) -> ChangeView:
        a, decision = change.assessment, change.decision
        return cls(
            id=change.id,
            version=change.version,
            type=change.type,
            category=change.category,
            title=change.title,
            description=change.description,
            state=change.state,
            affected_cis=list(change.affected_cis),
            ci_scope=list(change.ci_scope),
            target_release_id=change.target_release_id,
            impact=change.impact,
            urgency=change.urgency,
            priority=change.priority,
            backout_plan=change.backout_plan,
            reason=change.reason,
            requested_by=change.requested_by,
            assessment=(
                {"assessor": a.assessor, "risk": a.risk.value, "notes": a.notes} if a else None
            ),
            decision=(
                DecisionView(
                    decided_by=decision.decided_by,
                    decided_at=decision.decided_at,
                    reason=decision.reason,
                )
                if decision
                else None
            ),
            window=WindowBody.of(change.window),
            review_outcome=change.review,
            created_on=change.created_on,
            modified_on=change.modified_on,
        )


class FreezeWindowView(BaseModel):
    id: UUID
    name: str
    start: datetime
    end: datetime
    reason: str

    @classmethod
    def of(cls, freeze: d.FreezeWindow) -> FreezeWindowView:
        return cls(
            id=freeze.id,
            name=freeze.name,
            start=freeze.window.start,
            end=freeze.window.end,
            reason=freeze.reason,
        )


class CalendarView(BaseModel):
    start: date
    end: date
    releases: list[ReleaseView]
    changes: list[ChangeView]
    freeze_windows: list[FreezeWindowView]

    @classmethod
    def of(cls, period: d.Period, entries: CalendarEntries) -> CalendarView:
        return cls(
            start=period.start,
            end=period.end,
            releases=[ReleaseView.of(r) for r in entries.releases],
            changes=[ChangeView.of(c) for c in entries.changes],
            freeze_windows=[FreezeWindowView.of(f) for f in entries.freezes],
        )


class LoadView(BaseModel):
    person: str
    allocated_days: Decimal
    capacity_days: int
    overallocated: bool
    release_ids: list[UUID]

    @classmethod
    def of(cls, load: Load) -> LoadView:
        return cls(
            person=load.person,
            allocated_days=load.allocated_days,
            capacity_days=load.capacity_days,
            overallocated=load.overallocated,
            release_ids=sorted(load.releases),
        )


class RealisationView(BaseModel):
    release_id: UUID
    release_name: str
    benefit_id: UUID
    measure: str
    unit: str
    baseline: Decimal
    target: Decimal
    actual: Decimal | None
    due: date
    realised_percent: Decimal | None

    @classmethod
    def of(cls, r: Realisation) -> RealisationView:
        return cls(
            release_id=r.release_id,
            release_name=r.release_name,
            benefit_id=r.benefit_id,
            measure=r.measure,
            unit=r.unit,
            baseline=r.baseline,
            target=r.target,
            actual=r.actual,
            due=r.due,
            realised_percent=r.realised_percent,
        )

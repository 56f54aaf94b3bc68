"""A release, managed like a project from planning through to benefits realisation.

    Planned -> Approved (budget allocated) -> Scheduled -> InProgress -> Deployed -> Closed
    Planned, Approved and Scheduled can be put OnHold and resumed; anything not yet
    Deployed can be Cancelled.

Rules: no budget before the benefits are assessed and approved; no scope change after
Scheduled without an authorised change request that names the release; no Deployed while
an open Critical risk is not accepted; no Closed without a benefits review.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import event

from changeledger.planning.domain.values import Money, Period, Priority, Window
from changeledger.runtime.domain import (
    Aggregate,
    InvalidValue,
    NotFound,
    NotPermitted,
    RuleViolated,
    current_provenance,
)

if TYPE_CHECKING:
    from changeledger.planning.domain.change import ChangeRequest


class ReleaseState(Enum):
    PLANNED = "Planned"
    APPROVED = "Approved"
    SCHEDULED = "Scheduled"
    IN_PROGRESS = "InProgress"
    DEPLOYED = "Deployed"
    CLOSED = "Closed"
    ON_HOLD = "OnHold"
    CANCELLED = "Cancelled"


S = ReleaseState
HOLDABLE = frozenset({S.PLANNED, S.APPROVED, S.SCHEDULED})
FINISHED = frozenset({S.DEPLOYED, S.CLOSED, S.CANCELLED})
#: From Scheduled on, the scope changes only through an authorised change request.
SCOPE_LOCKED = frozenset({S.SCHEDULED, S.IN_PROGRESS})


class Outcome(Enum):
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class WorkItem:
    id: UUID
    title: str
    description: str


@dataclass(frozen=True)
class Allocation:
    id: UUID
    person: str
    role: str
    effort_days: Decimal
    period: Period


@dataclass(frozen=True)
class Benefit:
    id: UUID
    measure: str
    unit: str
    baseline: Decimal
    target: Decimal
    due: date
    actual: Decimal | None = None
    measured_on: date | None = None


@dataclass(frozen=True)
class BenefitsAssessment:
    assessor: str
    outcome: Outcome
    reason: str


@dataclass(frozen=True)
class RiskExposure:
    """What planning knows of a release's risks, as the risk service last reported."""

    open_risks: int = 0
    open_issues: int = 0
    highest_score: int = 0
    unaccepted_critical: int = 0
    #: The risk register's version the report was made at (0: unknown).
    register_version: int = 0


class Release(Aggregate):
    #: Version 2 added the planned CI versions; older snapshots are upcast (see below).
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["ci_versions"] = {}

    class Planned(Aggregate.Created):
        name: str
        owner: str
        priority: Priority
        target: Period

    @event(Planned)
    def __init__(self, name: str, owner: str, priority: Priority, target: Period) -> None:
        self.name = name
        self.owner = owner
        self.priority = priority
        self.target = target
        self.state = S.PLANNED
        self.held_from: ReleaseState | None = None
        self.window: Window | None = None
        self.cis: tuple[str, ...] = ()
        self.scope: list[WorkItem] = []
        # Lists, not dicts keyed by id: snapshots store state as JSON objects.
        self.allocations: list[Allocation] = []
        self.requested: Money | None = None
        self.allocated: Money | None = None
        self.spent: Money | None = None
        self.benefits: list[Benefit] = []
        self.assessment: BenefitsAssessment | None = None
        self.benefits_recorded_by: list[str] = []
        self.benefits_review: str | None = None
        self.exposure = RiskExposure()
        self.risk_register_id: UUID | None = None
        self.ci_versions: dict[str, str] = {}

    @staticmethod
    def plan(name: str, owner: str, priority: Priority, target: Period, today: date) -> Release:
        if target.start <= today:
            raise InvalidValue(
                "a release is planned ahead: its target window must start after today",
                rule="target-window-ahead",
            )
        return Release(name=name, owner=owner, priority=priority, target=target)

    # Lifecycle

    def _require(self, allowed: frozenset[ReleaseState] | set[ReleaseState], doing: str) -> None:
        if self.state not in allowed:
            names = ", ".join(sorted(s.value for s in allowed))
            raise RuleViolated(
                f"cannot {doing} a release that is {self.state.value} (only when {names})",
                rule="release-state",
                state=self.state.value,
            )

    class PutOnHold(Aggregate.Event):
        reason: str

    def put_on_hold(self, reason: str) -> None:
        self._require(HOLDABLE, "put on hold")
        self._put_on_hold(reason)

    @event(PutOnHold)
    def _put_on_hold(self, reason: str) -> None:
        self.held_from, self.state = self.state, S.ON_HOLD

    class Resumed(Aggregate.Event):
        pass

    def resume(self) -> None:
        self._require({S.ON_HOLD}, "resume")
        self._resumed()

    @event(Resumed)
    def _resumed(self) -> None:
        assert self.held_from is not None
        self.state, self.held_from = self.held_from, None

    class Cancelled(Aggregate.Event):
        reason: str

    def cancel(self, reason: str) -> None:
        self._require(set(S) - FINISHED, "cancel")
        self._cancelled(reason)

    @event(Cancelled)
    def _cancelled(self, reason: str) -> None:
        self.state = S.CANCELLED

    class Scheduled(Aggregate.Event):
        window: Window
        cis: tuple[str, ...]

    def schedule(self, window: Window, cis: tuple[str, ...]) -> None:
        """Take a deployment window, touching `cis`; the calendar checks freezes and clashes."""
        self._require({S.APPROVED, S.SCHEDULED}, "schedule")
        window.require_ahead()
        self._scheduled(window, cis)

    @event(Scheduled)
    def _scheduled(self, window: Window, cis: tuple[str, ...]) -> None:
        self.window = window
        self.cis = cis
        self.state = S.SCHEDULED

    class Started(Aggregate.Event):
        pass

    def start(self) -> None:
        self._require({S.SCHEDULED}, "start")
        self._started()

    @event(Started)
    def _started(self) -> None:
        self.state = S.IN_PROGRESS

    class Deployed(Aggregate.Event):
        pass

    def mark_deployed(self) -> None:
        self._require({S.IN_PROGRESS}, "mark deployed")
        if self.exposure.unaccepted_critical:
            raise RuleViolated(
                f"the release has {self.exposure.unaccepted_critical} open Critical risk(s) "
                "that have not been accepted",
                rule="critical-risk-open",
                unaccepted_critical=self.exposure.unaccepted_critical,
            )
        self._deployed()

    @event(Deployed)
    def _deployed(self) -> None:
        self.state = S.DEPLOYED

    class Closed(Aggregate.Event):
        pass

    def close(self) -> None:
        self._require({S.DEPLOYED}, "close")
        if self.benefits_review is None:
            raise RuleViolated(
                "a release is closed only after its benefits review", rule="benefits-review-first"
            )
        self._closed()

    @event(Closed)
    def _closed(self) -> None:
        self.state = S.CLOSED

    # The CI versions it deploys

    class CiVersionPlanned(Aggregate.Event):
        ci: str
        version: str

    def plan_ci_version(self, ci: str, version: str, release_cis: tuple[str, ...]) -> None:
        """The version `ci` will be at once the release is deployed; the CMDB applies it
        then, under the release's change that covers the CI."""
        self._require(set(S) - FINISHED, "plan a CI version for")
        if not version.strip() or len(version) > 64 or any(c.isspace() for c in version):
            raise InvalidValue(f"{version!r} is not a version", rule="ci-version")
        if ci not in release_cis:
            raise RuleViolated(
                f"{ci} is not touched by any live change that targets this release",
                rule="ci-not-in-release",
                release_cis=list(release_cis),
            )
        if self.ci_versions.get(ci) != version:
            self._ci_version_planned(ci, version)

    @event(CiVersionPlanned)
    def _ci_version_planned(self, ci: str, version: str) -> None:
        self.ci_versions = {**self.ci_versions, ci: version}

    # Prioritised work

    def _require_scope_change(self, change: ChangeRequest | None) -> UUID | None:
        self._require(set(S) - FINISHED, "change the scope of")
        state = self.held_from if self.state is S.ON_HOLD else self.state
        if state not in SCOPE_LOCKED:
            return change.id if change else None
        if change is None or not change.authorises_scope_of(self.id):
            raise RuleViolated(
                "once a release is Scheduled, its scope changes only through an authorised "
                "change request that names it",
                rule="scope-change-needs-authorised-change",
            )
        return change.id

    class WorkItemAdded(Aggregate.Event):
        item: WorkItem
        position: int
        change_id: UUID | None

    def add_work_item(
        self, item: WorkItem, position: int | None = None, change: ChangeRequest | None = None
    ) -> None:
        change_id = self._require_scope_change(change)
        if any(existing.id == item.id for existing in self.scope):
            raise RuleViolated(f"work item {item.id} is already in scope", rule="duplicate-item")
        at = len(self.scope) if position is None else max(0, min(position, len(self.scope)))
        self._work_item_added(item, at, change_id)

    @event(WorkItemAdded)
    def _work_item_added(self, item: WorkItem, position: int, change_id: UUID | None) -> None:
        self.scope.insert(position, item)

    class WorkItemRemoved(Aggregate.Event):
        item_id: UUID
        change_id: UUID | None

    def remove_work_item(self, item_id: UUID, change: ChangeRequest | None = None) -> None:
        change_id = self._require_scope_change(change)
        self._position_of(item_id)
        self._work_item_removed(item_id, change_id)

    @event(WorkItemRemoved)
    def _work_item_removed(self, item_id: UUID, change_id: UUID | None) -> None:
        self.scope = [item for item in self.scope if item.id != item_id]

    class WorkItemMoved(Aggregate.Event):
        item_id: UUID
        position: int

    def move_work_item(self, item_id: UUID, position: int) -> None:
        """Reprioritise: the item takes `position` (0 is the top) in the ranked backlog."""
        self._require(set(S) - FINISHED, "reprioritise")
        current = self._position_of(item_id)
        target = max(0, min(position, len(self.scope) - 1))
        if target != current:
            self._work_item_moved(item_id, target)

    def move_up(self, item_id: UUID) -> None:
        self.move_work_item(item_id, self._position_of(item_id) - 1)

    def move_down(self, item_id: UUID) -> None:
        self.move_work_item(item_id, self._position_of(item_id) + 1)

    @event(WorkItemMoved)
    def _work_item_moved(self, item_id: UUID, position: int) -> None:
        item = self.scope.pop(self._position_of(item_id))
        self.scope.insert(position, item)

    def _position_of(self, item_id: UUID) -> int:
        for position, item in enumerate(self.scope):
            if item.id == item_id:
                return position
        raise NotFound(f"work item {item_id} is not in this release's scope")

    # Resources

    class ResourcesAllocated(Aggregate.Event):
        allocation: Allocation

    def allocate(self, allocation: Allocation) -> None:
        self._require(set(S) - FINISHED, "allocate resources to")
        if allocation.effort_days <= 0:
            raise InvalidValue("effort must be more than zero days", rule="effort")
        if allocation.effort_days > allocation.period.working_days():
            raise InvalidValue(
                f"{allocation.effort_days} days of effort do not fit in the "
                f"{allocation.period.working_days()} working days of the period",
                rule="effort-exceeds-period",
            )
        if any(a.id == allocation.id for a in self.allocations):
            raise RuleViolated(f"allocation {allocation.id} exists", rule="duplicate-allocation")
        self._resources_allocated(allocation)

    @event(ResourcesAllocated)
    def _resources_allocated(self, allocation: Allocation) -> None:
        self.allocations.append(allocation)

    class ResourcesReleased(Aggregate.Event):
        allocation_id: UUID

    def release_allocation(self, allocation_id: UUID) -> None:
        if not any(a.id == allocation_id for a in self.allocations):
            raise NotFound(f"allocation {allocation_id} is not on this release")
        self._resources_released(allocation_id)

    @event(ResourcesReleased)
    def _resources_released(self, allocation_id: UUID) -> None:
        self.allocations = [a for a in self.allocations if a.id != allocation_id]

    # Funds and benefits

    class BudgetRequested(Aggregate.Event):
        amount: Money

    def request_budget(self, amount: Money) -> None:
        self._require({S.PLANNED}, "request a budget for")
        if amount.amount == 0:
            raise InvalidValue("a budget request must be more than zero", rule="money-amount")
        self._budget_requested(amount)

    @event(BudgetRequested)
    def _budget_requested(self, amount: Money) -> None:
        self.requested = amount

    class BenefitRecorded(Aggregate.Event):
        benefit: Benefit
        recorded_by: str

    def record_benefit(self, benefit: Benefit) -> None:
        """Benefits are stated before the budget: recording one asks for a new assessment."""
        self._require({S.PLANNED}, "record expected benefits of")
        if any(b.id == benefit.id for b in self.benefits):
            raise RuleViolated(f"benefit {benefit.id} exists", rule="duplicate-benefit")
        self._benefit_recorded(benefit, current_provenance().actor.sub)

    @event(BenefitRecorded)
    def _benefit_recorded(self, benefit: Benefit, recorded_by: str) -> None:
        self.benefits.append(benefit)
        self.assessment = None
        if recorded_by not in self.benefits_recorded_by:
            self.benefits_recorded_by.append(recorded_by)

    class BenefitsAssessed(Aggregate.Event):
        assessment: BenefitsAssessment

    def assess_benefits(self, assessment: BenefitsAssessment) -> None:
        self._require({S.PLANNED}, "assess the benefits of")
        if not self.benefits:
            raise RuleViolated(
                "there are no benefits to assess: record them first", rule="no-benefits"
            )
        if not assessment.reason.strip():
            raise InvalidValue("an assessment needs a reason", rule="assessment-reason")
        if assessment.assessor in {self.owner, *self.benefits_recorded_by}:
            raise NotPermitted(
                "benefits are assessed by someone other than the release's owner and "
                "whoever stated them",
                rule="self-assessment",
            )
        self._benefits_assessed(assessment)

    @event(BenefitsAssessed)
    def _benefits_assessed(self, assessment: BenefitsAssessment) -> None:
        self.assessment = assessment

    class BudgetAllocated(Aggregate.Event):
        amount: Money

    def allocate_budget(self, amount: Money) -> None:
        self._require({S.PLANNED}, "allocate a budget to")
        if self.assessment is None or self.assessment.outcome is not Outcome.APPROVED:
            state = "were rejected" if self.assessment else "have not been assessed"
            raise RuleViolated(
                f"no budget before the benefits are assessed and approved: they {state}",
                rule="benefits-not-approved",
            )
        if self.requested is None:
            raise RuleViolated("no budget has been requested", rule="no-budget-request")
        if not amount <= self.requested:
            raise RuleViolated(
                f"{amount} is more than the {self.requested} requested",
                rule="allocation-exceeds-request",
            )
        self._budget_allocated(amount)

    @event(BudgetAllocated)
    def _budget_allocated(self, amount: Money) -> None:
        self.allocated = amount
        self.spent = Money.zero(amount.currency)
        self.state = S.APPROVED

    class SpendRecorded(Aggregate.Event):
        amount: Money
        description: str

    def record_spend(self, amount: Money, description: str) -> None:
        if self.allocated is None or self.spent is None:
            raise RuleViolated(
                "nothing can be spent before a budget is allocated", rule="no-budget"
            )
        self._require(set(S) - {S.CLOSED, S.CANCELLED}, "record spend on")
        self.spent.require_same_currency(amount)
        self._spend_recorded(amount, description)

    @event(SpendRecorded)
    def _spend_recorded(self, amount: Money, description: str) -> None:
        assert self.spent is not None
        self.spent = self.spent + amount

    # What planning learns from the risk service

    class RiskRegisterOpened(Aggregate.Event):
        register_id: UUID

    def note_risk_register(self, register_id: UUID) -> None:
        """Record that the risk service opened this release's register (once)."""
        if self.risk_register_id != register_id:
            self._risk_register_opened(register_id)

    @event(RiskRegisterOpened)
    def _risk_register_opened(self, register_id: UUID) -> None:
        self.risk_register_id = register_id

    class RiskExposureChanged(Aggregate.Event):
        exposure: RiskExposure

    def note_risk_exposure(self, exposure: RiskExposure) -> None:
        """Keep the latest report; one older than what is known arrived late."""
        stale = 0 < exposure.register_version <= self.exposure.register_version
        if exposure != self.exposure and not stale:
            self._risk_exposure_changed(exposure)

    @event(RiskExposureChanged)
    def _risk_exposure_changed(self, exposure: RiskExposure) -> None:
        self.exposure = exposure

    # Benefits realisation

    class BenefitRealised(Aggregate.Event):
        benefit_id: UUID
        actual: Decimal
        measured_on: date

    def record_actual(self, benefit_id: UUID, actual: Decimal, measured_on: date) -> None:
        self._require({S.DEPLOYED}, "record realised benefits of")
        if not any(b.id == benefit_id for b in self.benefits):
            raise NotFound(f"benefit {benefit_id} is not one of this release's")
        self._benefit_realised(benefit_id, actual, measured_on)

    @event(BenefitRealised)
    def _benefit_realised(self, benefit_id: UUID, actual: Decimal, measured_on: date) -> None:
        self.benefits = [
            replace(b, actual=actual, measured_on=measured_on) if b.id == benefit_id else b
            for b in self.benefits
        ]

    class BenefitsReviewed(Aggregate.Event):
        reviewer: str
        summary: str

    def review_benefits(self, reviewer: str, summary: str) -> None:
        self._require({S.DEPLOYED}, "review the benefits of")
        unmeasured = [b.measure for b in self.benefits if b.actual is None]
        if unmeasured:
            raise RuleViolated(
                f"record the actual value of every benefit first: {', '.join(unmeasured)}",
                rule="benefits-unmeasured",
            )
        self._benefits_reviewed(reviewer, summary)

    @event(BenefitsReviewed)
    def _benefits_reviewed(self, reviewer: str, summary: str) -> None:
        self.benefits_review = summary

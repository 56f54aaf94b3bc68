"""Planning's commands and queries, over its own store.

Commands load aggregates, call the domain method (which checks its rules first) and save;
a refused command raises before anything is saved. Methods that act on an existing
aggregate take `expected_version` (the request's If-Match).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from changeledger.planning.domain import (
    CALENDAR_ID,
    Allocation,
    Benefit,
    BenefitsAssessment,
    Booking,
    ChangeCategory,
    ChangeRequest,
    ChangeState,
    ChangeType,
    DeploymentCalendar,
    FreezeWindow,
    Level,
    Money,
    Outcome,
    Period,
    Priority,
    Release,
    ReleaseState,
    ReviewOutcome,
    RiskExposure,
    Window,
    WorkItem,
)
from changeledger.planning.domain.change import ChangeAssessment, Decision
from changeledger.planning.reports import Portfolio
from changeledger.runtime.domain import NotFound, current_provenance, now
from changeledger.runtime.projection import LiveProjection
from changeledger.runtime.store import ServiceApplication

#: Releases whose deployment window is booked in the calendar.
BOOKED = frozenset({ReleaseState.SCHEDULED, ReleaseState.IN_PROGRESS})


class PlanningApplication(ServiceApplication):
    name = "planning"
    snapshotted = (Release, ChangeRequest, DeploymentCalendar)
    value_objects = (
        Money,
        Period,
        Window,
        WorkItem,
        Allocation,
        Benefit,
        BenefitsAssessment,
        RiskExposure,
        Decision,
        ChangeAssessment,
        FreezeWindow,
        Booking,
        Priority,
        Level,
        Outcome,
        ReleaseState,
        ChangeType,
        ChangeCategory,
        ChangeState,
        ReviewOutcome,
    )

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.portfolio = LiveProjection(self, Portfolio)

    # Releases

    def plan_release(self, name: str, owner: str, priority: Priority, target: Period) -> Release:
        release = Release.plan(name, owner, priority, target, today=now().date())
        self.save(release)
        return release

    def release(
        self, release_id: UUID, as_of: datetime | None = None, expected_version: int | None = None
    ) -> Release:
        return self.get(release_id, Release, as_of=as_of, expected_version=expected_version)

    def put_release_on_hold(
        self, release_id: UUID, reason: str, expected_version: int | None = None
    ) -> Release:
        return self.update(release_id, Release, lambda r: r.put_on_hold(reason), expected_version)

    def resume_release(self, release_id: UUID, expected_version: int | None = None) -> Release:
        return self.update(release_id, Release, lambda r: r.resume(), expected_version)

    def cancel_release(
        self, release_id: UUID, reason: str, expected_version: int | None = None
    ) -> Release:
        release = self.release(release_id, expected_version=expected_version)
        release.cancel(reason)
        calendar = self._calendar()
        calendar.cancel_booking(release_id)
        self.save(release, calendar)
        return release

    def schedule_release(
        self, release_id: UUID, window: Window, expected_version: int | None = None
    ) -> Release:
        release = self.release(release_id, expected_version=expected_version)
        cis = self.cis_of_release(release_id)
        release.schedule(window, cis)
        calendar = self._calendar()
        calendar.book(Booking(release_id, window, cis))
        self.save(release, calendar)
        return release

    def start_release(self, release_id: UUID, expected_version: int | None = None) -> Release:
        return self.update(release_id, Release, lambda r: r.start(), expected_version)

    def mark_release_deployed(
        self, release_id: UUID, expected_version: int | None = None
    ) -> Release:
        return self.update(release_id, Release, lambda r: r.mark_deployed(), expected_version)

    def close_release(self, release_id: UUID, expected_version: int | None = None) -> Release:
        return self.update(release_id, Release, lambda r: r.close(), expected_version)

    def plan_ci_version(
        self, release_id: UUID, ci: str, version: str, expected_version: int | None = None
    ) -> Release:
        cis = self.cis_of_release(release_id)
        return self.update(
            release_id, Release, lambda r: r.plan_ci_version(ci, version, cis), expected_version
        )

    # Prioritised work

    def add_work_item(
        self,
        release_id: UUID,
        title: str,
        description: str,
        position: int | None = None,
        change_id: UUID | None = None,
        expected_version: int | None = None,
    ) -> Release:
        release = self.release(release_id, expected_version=expected_version)
        item = WorkItem(uuid4(), title, description)
        release.add_work_item(item, position, self._change_or_none(change_id))
        self.save(release)
        return release

    def remove_work_item(
        self,
        release_id: UUID,
        item_id: UUID,
        change_id: UUID | None = None,
        expected_version: int | None = None,
    ) -> Release:
        return self.update(
            release_id,
            Release,
            lambda r: r.remove_work_item(item_id, self._change_or_none(change_id)),
            expected_version,
        )

    def move_work_item(
        self,
        release_id: UUID,
        item_id: UUID,
        *,
        position: int | None = None,
        direction: str | None = None,
        expected_version: int | None = None,
    ) -> Release:
        release = self.release(release_id, expected_version=expected_version)
        if direction == "up":
            release.move_up(item_id)
        elif direction == "down":
            release.move_down(item_id)
        elif position is not None:
            release.move_work_item(item_id, position)
        self.save(release)
        return release

    def _change_or_none(self, change_id: UUID | None) -> ChangeRequest | None:
        return None if change_id is None else self.change(change_id)

    # Resources

    def allocate_resources(
        self,
        release_id: UUID,
        person: str,
        role: str,
        effort_days: Decimal,
        period: Period,
        expected_version: int | None = None,
    ) -> Release:
        return self.update(
            release_id,
            Release,
            lambda r: r.allocate(Allocation(uuid4(), person, role, effort_days, period)),
            expected_version,
        )

    def release_allocation(
        self, release_id: UUID, allocation_id: UUID, expected_version: int | None = None
    ) -> Release:
        return self.update(
            release_id, Release, lambda r: r.release_allocation(allocation_id), expected_version
        )

    # Funds and benefits

    def request_budget(
        self, release_id: UUID, amount: Money, expected_version: int | None = None
    ) -> Release:
        return self.update(
            release_id, Release, lambda r: r.request_budget(amount), expected_version
        )

    def record_benefit(
        self,
        release_id: UUID,
        measure: str,
        unit: str,
        baseline: Decimal,
        target: Decimal,
        due: date,
        expected_version: int | None = None,
    ) -> Release:
        return self.update(
            release_id,
            Release,
            lambda r: r.record_benefit(Benefit(uuid4(), measure, unit, baseline, target, due)),
            expected_version,
        )

    def assess_benefits(
        self,
        release_id: UUID,
        outcome: Outcome,
        reason: str,
        expected_version: int | None = None,
    ) -> Release:
        release = self.release(release_id, expected_version=expected_version)
        assessor = current_provenance().actor.sub
        release.assess_benefits(BenefitsAssessment(assessor, outcome, reason))
        self.save(release)
        return release

    def allocate_budget(
        self, release_id: UUID, amount: Money, expected_version: int | None = None
    ) -> Release:
        return self.update(
            release_id, Release, lambda r: r.allocate_budget(amount), expected_version
        )

    def record_spend(
        self,
        release_id: UUID,
        amount: Money,
        description: str,
        expected_version: int | None = None,
    ) -> Release:
        return self.update(
            release_id, Release, lambda r: r.record_spend(amount, description), expected_version
        )

    def record_actual(
        self,
        release_id: UUID,
        benefit_id: UUID,
        actual: Decimal,
        measured_on: date,
        expected_version: int | None = None,
    ) -> Release:
        return self.update(
            release_id,
            Release,
            lambda r: r.record_actual(benefit_id, actual, measured_on),
            expected_version,
        )

    def review_benefits(
        self, release_id: UUID, summary: str, expected_version: int | None = None
    ) -> Release:
        return self.update(
            release_id,
            Release,
            lambda r: r.review_benefits(current_provenance().actor.sub, summary),
            expected_version,
        )

    # Change requests

    def raise_change(
        self,
        type: ChangeType,
        category: ChangeCategory,
        title: str,
        description: str,
        affected_cis: Iterable[str],
        target_release_id: UUID | None,
        impact: Level,
        urgency: Level,
        backout_plan: str,
        reason: str,
    ) -> ChangeRequest:
        release = None if target_release_id is None else self.release(target_release_id)
        change = ChangeRequest.raise_change(
            type,
            category,
            title,
            description,
            affected_cis,
            target_release_id,
            impact,
            urgency,
            backout_plan,
            reason,
        )
        calendar = None
        if release is not None and release.window is not None and release.state in BOOKED:
            # The release now touches these CIs too: its booking must still not clash.
            cis = tuple(sorted({*self.cis_of_release(release.id), *change.affected_cis}))
            calendar = self._calendar()
            calendar.book(Booking(release.id, release.window, cis))
        self.save(change, calendar)
        return change

    def change(
        self, change_id: UUID, as_of: datetime | None = None, expected_version: int | None = None
    ) -> ChangeRequest:
        return self.get(change_id, ChangeRequest, as_of=as_of, expected_version=expected_version)

    def submit_change(self, change_id: UUID, expected_version: int | None = None) -> ChangeRequest:
        return self.update(change_id, ChangeRequest, lambda c: c.submit(), expected_version)

    def assess_change(
        self, change_id: UUID, risk: Level, notes: str, expected_version: int | None = None
    ) -> ChangeRequest:
        return self.update(
            change_id, ChangeRequest, lambda c: c.assess(risk, notes), expected_version
        )

    def authorise_change(
        self,
        change_id: UUID,
        reason: str,
        window: Window,
        ci_scope: Iterable[str] | None = None,
        expected_version: int | None = None,
    ) -> ChangeRequest:
        change = self.change(change_id, expected_version=expected_version)
        self._calendar().check_window(window, emergency=change.type is ChangeType.EMERGENCY)
        change.authorise(reason, window, ci_scope)
        self.save(change)
        return change

    def schedule_change(
        self, change_id: UUID, window: Window, expected_version: int | None = None
    ) -> ChangeRequest:
        change = self.change(change_id, expected_version=expected_version)
        self._calendar().check_window(window, emergency=change.type is ChangeType.EMERGENCY)
        change.schedule(window)
        self.save(change)
        return change

    def reject_change(
        self, change_id: UUID, reason: str, expected_version: int | None = None
    ) -> ChangeRequest:
        return self.update(change_id, ChangeRequest, lambda c: c.reject(reason), expected_version)

    def start_change(self, change_id: UUID, expected_version: int | None = None) -> ChangeRequest:
        return self.update(
            change_id, ChangeRequest, lambda c: c.start_implementation(), expected_version
        )

    def complete_change(
        self,
        change_id: UUID,
        outcome: ReviewOutcome,
        notes: str,
        expected_version: int | None = None,
    ) -> ChangeRequest:
        return self.update(
            change_id, ChangeRequest, lambda c: c.complete(outcome, notes), expected_version
        )

    def close_change(self, change_id: UUID, expected_version: int | None = None) -> ChangeRequest:
        return self.update(change_id, ChangeRequest, lambda c: c.close(), expected_version)

    def cancel_change(
        self, change_id: UUID, reason: str, expected_version: int | None = None
    ) -> ChangeRequest:
        return self.update(change_id, ChangeRequest, lambda c: c.cancel(reason), expected_version)

    # Freeze windows and the calendar

    def declare_freeze(self, name: str, window: Window, reason: str) -> FreezeWindow:
        calendar = self._calendar()
        freeze = FreezeWindow(uuid4(), name, window, reason)
        calendar.declare_freeze(freeze)
        self.save(calendar)
        return freeze

    def freeze_window(self, freeze_id: UUID, as_of: datetime | None = None) -> FreezeWindow:
        calendar = self.calendar_aggregate(as_of)
        for freeze in calendar.freezes if calendar else ():
            if freeze.id == freeze_id:
                return freeze
        raise NotFound(f"freeze window {freeze_id} does not exist")

    def calendar_aggregate(self, as_of: datetime | None = None) -> DeploymentCalendar | None:
        if not self.contains(CALENDAR_ID):
            return None
        try:
            return self.get(CALENDAR_ID, DeploymentCalendar, as_of=as_of)
        except NotFound:
            return None

    def _calendar(self) -> DeploymentCalendar:
        return self.calendar_aggregate() or DeploymentCalendar()

    def cis_of_release(self, release_id: UUID) -> tuple[str, ...]:
        """The CIs a release touches: those of the live changes that target it."""
        return self.portfolio.query(lambda p: p.cis_of_release(release_id))

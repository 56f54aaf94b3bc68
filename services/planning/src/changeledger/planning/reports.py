"""Planning's read side: the portfolio of releases and changes, and what it reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from changeledger.planning.domain import (
    ChangeRequest,
    ChangeState,
    DeploymentCalendar,
    FreezeWindow,
    Period,
    Release,
    ReleaseState,
)
from changeledger.runtime.projection import AggregateIndex

LIVE_CHANGE = frozenset(set(ChangeState) - {ChangeState.REJECTED, ChangeState.CANCELLED})


@dataclass(frozen=True)
class Load:
    person: str
    period: Period
    allocated_days: Decimal
    capacity_days: int
    releases: tuple[UUID, ...]

    @property
    def overallocated(self) -> bool:
        return self.allocated_days > self.capacity_days


@dataclass(frozen=True)
class Realisation:
    release_id: UUID
    release_name: str
    benefit_id: UUID
    measure: str
    unit: str
    baseline: Decimal
    target: Decimal
    actual: Decimal | None
    due: date

    @property
    def realised_percent(self) -> Decimal | None:
        """How much of the targeted improvement was achieved."""
        if self.actual is None or self.target == self.baseline:
            return None
        share = (self.actual - self.baseline) / (self.target - self.baseline) * 100
        return share.quantize(Decimal("0.1"))


@dataclass(frozen=True)
class CalendarEntries:
    releases: list[Release]
    changes: list[ChangeRequest]
    freezes: list[FreezeWindow]


class Portfolio(AggregateIndex):
    """Every release and change request, and the deployment calendar, kept current."""

    indexed = (Release, ChangeRequest, DeploymentCalendar)

    def releases(self, state: str | None = None, owner: str | None = None) -> list[Release]:
        found = [
            r
            for r in self.all(Release)
            if (state is None or r.state.value == state) and (owner is None or r.owner == owner)
        ]
        return sorted(found, key=lambda r: (r.target.start, r.name))

    def changes(
        self,
        state: str | None = None,
        owner: str | None = None,
        release_id: UUID | None = None,
    ) -> list[ChangeRequest]:
        found = [
            c
            for c in self.all(ChangeRequest)
            if (state is None or c.state.value == state)
            and (owner is None or c.requested_by == owner)
            and (release_id is None or c.target_release_id == release_id)
        ]
        return sorted(found, key=lambda c: c.created_on)

    def cis_of_release(self, release_id: UUID) -> tuple[str, ...]:
        cis: set[str] = set()
        for change in self.all(ChangeRequest):
            if change.target_release_id == release_id and change.state in LIVE_CHANGE:
                cis.update(change.affected_cis)
        return tuple(sorted(cis))

    def calendar(
        self, period: Period, state: str | None = None, owner: str | None = None
    ) -> CalendarEntries:
        def in_period(start: date, end: date) -> bool:
            return Period(start, end).overlaps(period)

        releases = [
            r
            for r in self.releases(state, owner)
            if in_period(r.target.start, r.target.end)
            or (r.window is not None and in_period(r.window.start.date(), r.window.end.date()))
        ]
        changes = [
            c
            for c in self.changes(state, owner)
            if c.window is not None and in_period(c.window.start.date(), c.window.end.date())
        ]
        calendars = self.all(DeploymentCalendar)
        freezes = [
            f
            for cal in calendars
            for f in cal.freezes
            if in_period(f.window.start.date(), f.window.end.date())
        ]
        return CalendarEntries(releases, changes, sorted(freezes, key=lambda f: f.window.start))

    def loads(self, period: Period) -> list[Load]:
        """Each person's allocated effort in `period` against their working days in it.

        An allocation's effort is spread evenly over the working days of its own period."""
        days: dict[str, Decimal] = {}
        releases: dict[str, set[UUID]] = {}
        for release in self.all(Release):
            if release.state in (ReleaseState.CANCELLED, ReleaseState.CLOSED):
                continue
            for allocation in release.allocations:
                overlap = allocation.period.intersection(period)
                if overlap is None or not overlap.working_days():
                    continue
                share = Decimal(overlap.working_days()) / allocation.period.working_days()
                days[allocation.person] = days.get(allocation.person, Decimal(0)) + (
                    allocation.effort_days * share
                )
                releases.setdefault(allocation.person, set()).add(release.id)
        capacity = period.working_days()
        return [
            Load(person, period, total.quantize(Decimal("0.01")), capacity, tuple(releases[person]))
            for person, total in sorted(days.items())
        ]

    def realisations(self) -> list[Realisation]:
        return [
            Realisation(
                release.id,
                release.name,
                b.id,
                b.measure,
                b.unit,
                b.baseline,
                b.target,
                b.actual,
                b.due,
            )
            for release in self.releases()
            for b in release.benefits
        ]

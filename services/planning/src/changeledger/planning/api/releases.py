"""Releases: lifecycle, prioritised work, resources, funds and benefits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import Field

from changeledger.planning.api.common import (
    CHANGE_MANAGERS,
    RELEASE_MANAGER,
    AsOf,
    Planning,
)
from changeledger.planning.api.views import MoneyBody, ReleaseView, WindowBody
from changeledger.planning.domain import Outcome, Period, Priority, ReleaseState
from changeledger.runtime.domain import InvalidValue
from changeledger.runtime.http import Body, Command, etag, query, requires
from changeledger.runtime.paging import Paged

router = APIRouter(prefix="/releases", tags=["releases"])
Text = Field(min_length=1, max_length=200)
LongText = Field(min_length=1, max_length=4000)


class PlanRelease(Body):
    name: str = Text
    owner: str = Text
    priority: Priority
    target_start: date = Field(description="Start of the target window; after today")
    target_end: date


class Reason(Body):
    reason: str = LongText


class Schedule(Body):
    window: WindowBody


class AddWorkItem(Body):
    title: str = Text
    description: str = Field(default="", max_length=4000)
    position: int | None = Field(default=None, ge=0, description="0 is the top; default last")
    change_id: UUID | None = Field(
        default=None, description="The authorised change request; needed once Scheduled"
    )


class PlanCiVersion(Body):
    version: str = Field(min_length=1, max_length=64, pattern=r"^\S+$")


class RemoveWorkItem(Body):
    change_id: UUID | None = None


class MoveWorkItem(Body):
    position: int | None = Field(default=None, ge=0)
    direction: Literal["up", "down"] | None = None


class Allocate(Body):
    person: str = Text
    role: str = Text
    effort_days: Decimal = Field(gt=0, max_digits=7, decimal_places=2)
    period_start: date
    period_end: date


class RecordBenefit(Body):
    measure: str = Text
    unit: str = Field(min_length=1, max_length=40)
    baseline: Decimal = Field(max_digits=18, decimal_places=4)
    target: Decimal = Field(max_digits=18, decimal_places=4)
    due: date


class AssessBenefits(Body):
    outcome: Outcome
    reason: str = LongText


class Spend(Body):
    amount: MoneyBody
    description: str = LongText


class Actual(Body):
    actual: Decimal = Field(max_digits=18, decimal_places=4)
    measured_on: date


class Review(Body):
    summary: str = LongText


def period(start: date, end: date) -> Period:
    return Period(start, end)


@router.post("", status_code=201, response_model=ReleaseView)
async def plan_release(
    body: PlanRelease, app: Planning, command: Command = requires(*RELEASE_MANAGER)
) -> ReleaseView:
    """Plan a release for a target window months ahead."""
    target = period(body.target_start, body.target_end)
    release = await command.run(app.plan_release, body.name, body.owner, body.priority, target)
    return ReleaseView.of(release)


@router.get("", response_model=list[ReleaseView])
async def list_releases(
    app: Planning,
    page: Paged,
    as_of: AsOf = None,
    state: ReleaseState | None = None,
    owner: str | None = Query(default=None, max_length=200),
) -> list[ReleaseView]:
    # Rendered inside the query, while the projection cannot change underneath.
    return await query(
        app.portfolio.query,
        lambda p: [
            ReleaseView.of(r) for r in page.of(p.releases(state.value if state else None, owner))
        ],
        as_of,
    )


@router.get("/{release_id}", response_model=ReleaseView)
async def get_release(
    release_id: UUID, app: Planning, response: Response, as_of: AsOf = None
) -> ReleaseView:
    release = await query(app.release, release_id, as_of)
    response.headers["ETag"] = etag(release.version)
    return ReleaseView.of(release)


# Lifecycle


@router.post("/{release_id}/hold", response_model=ReleaseView)
async def put_on_hold(
    release_id: UUID, body: Reason, app: Planning, command: Command = requires(*RELEASE_MANAGER)
) -> ReleaseView:
    release = await command.run(
        app.put_release_on_hold, release_id, body.reason, command.expected_version
    )
    return ReleaseView.of(release)


@router.post("/{release_id}/resume", response_model=ReleaseView)
async def resume(
    release_id: UUID, app: Planning, command: Command = requires(*RELEASE_MANAGER)
) -> ReleaseView:
    release = await command.run(app.resume_release, release_id, command.expected_version)
    return ReleaseView.of(release)


@router.post("/{release_id}/cancel", response_model=ReleaseView)
async def cancel(
    release_id: UUID, body: Reason, app: Planning, command: Command = requires(*RELEASE_MANAGER)
) -> ReleaseView:
    release = await command.run(
        app.cancel_release, release_id, body.reason, command.expected_version
    )
    return ReleaseView.of(release)


@router.post("/{release_id}/schedule", response_model=ReleaseView)
async def schedule(
    release_id: UUID, body: Schedule, app: Planning, command: Command = requires(*RELEASE_MANAGER)
) -> ReleaseView:
    """Book a deployment window: refused inside a freeze window, or when another release
    touches the same CIs in an overlapping window."""
    release = await command.run(
        app.schedule_release, release_id, body.window.window(), command.expected_version
    )
    return ReleaseView.of(release)


@router.post("/{release_id}/start", response_model=ReleaseView)
async def start(
    release_id: UUID, app: Planning, command: Command = requires(*RELEASE_MANAGER)
) -> ReleaseView:
    release = await command.run(app.start_release, release_id, command.expected_version)
    return ReleaseView.of(release)


@router.post("/{release_id}/deploy", response_model=ReleaseView)
async def mark_deployed(
    release_id: UUID, app: Planning, command: Command = requires(*RELEASE_MANAGER)
) -> ReleaseView:
    """Refused while the release has an open Critical risk that has not been accepted."""
    release = await command.run(app.mark_release_deployed, release_id, command.expected_version)
    return ReleaseView.of(release)


@router.post("/{release_id}/close", response_model=ReleaseView)
async def close(
    release_id: UUID, app: Planning, command: Command = requires(*RELEASE_MANAGER)
) -> ReleaseView:
    """Refused until the benefits have been reviewed."""
    release = await command.run(app.close_release, release_id, command.expected_version)
    return ReleaseView.of(release)


@router.put("/{release_id}/ci-versions/{ci}", response_model=ReleaseView)
async def plan_ci_version(
    release_id: UUID,
    ci: str,
    body: PlanCiVersion,
    app: Planning,
    command: Command = requires(*RELEASE_MANAGER),
) -> ReleaseView:
    """The version a CI touched by the release's changes will be at once it is deployed;
    the CMDB applies it then, attributed to the change that covers the CI."""
    release = await command.run(
        app.plan_ci_version, release_id, ci, body.version, command.expected_version
    )
    return ReleaseView.of(release)


# Prioritised work


@router.post("/{release_id}/work-items", status_code=201, response_model=ReleaseView)
async def add_work_item(
    release_id: UUID,
    body: AddWorkItem,
    app: Planning,
    command: Command = requires(*RELEASE_MANAGER),
) -> ReleaseView:
    release = await command.run(
        app.add_work_item,
        release_id,
        body.title,
        body.description,
        body.position,
        body.change_id,
        command.expected_version,
    )
    return ReleaseView.of(release)


@router.post("/{release_id}/work-items/{item_id}/remove", response_model=ReleaseView)
async def remove_work_item(
    release_id: UUID,
    item_id: UUID,
    body: RemoveWorkItem,
    app: Planning,
    command: Command = requires(*RELEASE_MANAGER),
) -> ReleaseView:
    release = await command.run(
        app.remove_work_item, release_id, item_id, body.change_id, command.expected_version
    )
    return ReleaseView.of(release)


@router.post("/{release_id}/work-items/{item_id}/move", response_model=ReleaseView)
async def move_work_item(
    release_id: UUID,
    item_id: UUID,
    body: MoveWorkItem,
    app: Planning,
    command: Command = requires(*RELEASE_MANAGER),
) -> ReleaseView:
    """Reprioritise: `direction` up or down by one, or `position` (0 is the top)."""
    if (body.position is None) == (body.direction is None):
        raise InvalidValue("give either a position or a direction", rule="move-target")
    release = await command.run(
        app.move_work_item,
        release_id,
        item_id,
        position=body.position,
        direction=body.direction,
        expected_version=command.expected_version,
    )
    return ReleaseView.of(release)


# Resources


@router.post("/{release_id}/allocations", status_code=201, response_model=ReleaseView)
async def allocate_resources(
    release_id: UUID, body: Allocate, app: Planning, command: Command = requires(*RELEASE_MANAGER)
) -> ReleaseView:
    release = await command.run(
        app.allocate_resources,
        release_id,
        body.person,
        body.role,
        body.effort_days,
        period(body.period_start, body.period_end),
        command.expected_version,
    )
    return ReleaseView.of(release)


@router.post("/{release_id}/allocations/{allocation_id}/release", response_model=ReleaseView)
async def release_allocation(
    release_id: UUID,
    allocation_id: UUID,
    app: Planning,
    command: Command = requires(*RELEASE_MANAGER),
) -> ReleaseView:
    release = await command.run(
        app.release_allocation, release_id, allocation_id, command.expected_version
    )
    return ReleaseView.of(release)


# Funds and benefits


@router.post("/{release_id}/budget/request", response_model=ReleaseView)
async def request_budget(
    release_id: UUID, body: MoneyBody, app: Planning, command: Command = requires(*RELEASE_MANAGER)
) -> ReleaseView:
    release = await command.run(
        app.request_budget, release_id, body.money(), command.expected_version
    )
    return ReleaseView.of(release)


@router.post("/{release_id}/benefits", status_code=201, response_model=ReleaseView)
async def record_benefit(
    release_id: UUID,
    body: RecordBenefit,
    app: Planning,
    command: Command = requires(*RELEASE_MANAGER),
) -> ReleaseView:
    release = await command.run(
        app.record_benefit,
        release_id,
        body.measure,
        body.unit,
        body.baseline,
        body.target,
        body.due,
        command.expected_version,
    )
    return ReleaseView.of(release)


@router.post("/{release_id}/benefits/assess", response_model=ReleaseView)
async def assess_benefits(
    release_id: UUID,
    body: AssessBenefits,
    app: Planning,
    command: Command = requires(*CHANGE_MANAGERS),
) -> ReleaseView:
    """The assessor is the caller; approved benefits are what lets a budget be allocated."""
    release = await command.run(
        app.assess_benefits, release_id, body.outcome, body.reason, command.expected_version
    )
    return ReleaseView.of(release)


@router.post("/{release_id}/budget/allocate", response_model=ReleaseView)
async def allocate_budget(
    release_id: UUID, body: MoneyBody, app: Planning, command: Command = requires(*RELEASE_MANAGER)
) -> ReleaseView:
    """Refused with 409 unless the benefits have been assessed and approved."""
    release = await command.run(
        app.allocate_budget, release_id, body.money(), command.expected_version
    )
    return ReleaseView.of(release)


@router.post("/{release_id}/spend", response_model=ReleaseView)
async def record_spend(
    release_id: UUID, body: Spend, app: Planning, command: Command = requires(*RELEASE_MANAGER)
) -> ReleaseView:
    release = await command.run(
        app.record_spend,
        release_id,
        body.amount.money(),
        body.description,
        command.expected_version,
    )
    return ReleaseView.of(release)


@router.post("/{release_id}/benefits/{benefit_id}/actual", response_model=ReleaseView)
async def record_actual(
    release_id: UUID,
    benefit_id: UUID,
    body: Actual,
    app: Planning,
    command: Command = requires(*RELEASE_MANAGER),
) -> ReleaseView:
    release = await command.run(
        app.record_actual,
        release_id,
        benefit_id,
        body.actual,
        body.measured_on,
        command.expected_version,
    )
    return ReleaseView.of(release)


@router.post("/{release_id}/benefits/review", response_model=ReleaseView)
async def review_benefits(
    release_id: UUID, body: Review, app: Planning, command: Command = requires(*CHANGE_MANAGERS)
) -> ReleaseView:
    release = await command.run(
        app.review_benefits, release_id, body.summary, command.expected_version
    )
    return ReleaseView.of(release)

"""Change requests: raised, assessed, authorised by the change authority, carried out."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import Field

from changeledger.planning.api.common import (
    CHANGE_AUTHORITY,
    CHANGE_MANAGERS,
    REQUESTERS,
    AsOf,
    Planning,
)
from changeledger.planning.api.views import ChangeView, WindowBody
from changeledger.planning.domain import (
    ChangeCategory,
    ChangeState,
    ChangeType,
    Level,
    ReviewOutcome,
)
from changeledger.runtime.http import Body, Command, etag, query, requires
from changeledger.runtime.paging import Paged

router = APIRouter(prefix="/change-requests", tags=["change requests"])
CI = Field(min_length=1, max_length=100)


class RaiseChange(Body):
    type: ChangeType
    category: ChangeCategory = ChangeCategory.TECHNICAL
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=8000)
    affected_cis: list[str] = Field(min_length=1, max_length=500)
    target_release_id: UUID | None = None
    impact: Level
    urgency: Level
    backout_plan: str = Field(min_length=1, max_length=8000)
    reason: str = Field(min_length=1, max_length=4000)


class Assess(Body):
    risk: Level
    notes: str = Field(min_length=1, max_length=8000)


class Authorise(Body):
    reason: str = Field(min_length=1, max_length=4000)
    window: WindowBody
    ci_scope: list[str] | None = Field(
        default=None, max_length=500, description="Default: every affected CI"
    )


class Reason(Body):
    reason: str = Field(min_length=1, max_length=4000)


class Schedule(Body):
    window: WindowBody


class Complete(Body):
    outcome: ReviewOutcome
    notes: str = Field(default="", max_length=8000)


def _check_cis(cis: list[str] | None) -> None:
    from changeledger.runtime.domain import InvalidValue

    for ci in cis or ():
        if not ci.strip() or len(ci) > 100:
            raise InvalidValue(f"{ci!r} is not a CI id", rule="ci-id")


@router.post("", status_code=201, response_model=ChangeView)
async def raise_change(
    body: RaiseChange, app: Planning, command: Command = requires(*REQUESTERS)
) -> ChangeView:
    """Raise an RFC; the caller is its requester."""
    _check_cis(body.affected_cis)
    change = await command.run(
        app.raise_change,
        body.type,
        body.category,
        body.title,
        body.description,
        body.affected_cis,
        body.target_release_id,
        body.impact,
        body.urgency,
        body.backout_plan,
        body.reason,
    )
    return ChangeView.of(change)


@router.get("", response_model=list[ChangeView])
async def list_changes(
    app: Planning,
    page: Paged,
    as_of: AsOf = None,
    state: ChangeState | None = None,
    requested_by: str | None = Query(default=None, max_length=200),
    release_id: UUID | None = None,
) -> list[ChangeView]:
    return await query(
        app.portfolio.query,
        lambda p: [
            ChangeView.of(c)
            for c in page.of(p.changes(state.value if state else None, requested_by, release_id))
        ],
        as_of,
    )


@router.get("/{change_id}", response_model=ChangeView)
async def get_change(
    change_id: UUID, app: Planning, response: Response, as_of: AsOf = None
) -> ChangeView:
    change = await query(app.change, change_id, as_of)
    response.headers["ETag"] = etag(change.version)
    return ChangeView.of(change)


@router.post("/{change_id}/submit", response_model=ChangeView)
async def submit(
    change_id: UUID, app: Planning, command: Command = requires(*REQUESTERS)
) -> ChangeView:
    """Normal changes go to Assess, emergency changes straight to Authorize."""
    return ChangeView.of(await command.run(app.submit_change, change_id, command.expected_version))


@router.post("/{change_id}/assess", response_model=ChangeView)
async def assess(
    change_id: UUID, body: Assess, app: Planning, command: Command = requires(*CHANGE_MANAGERS)
) -> ChangeView:
    return ChangeView.of(
        await command.run(
            app.assess_change, change_id, body.risk, body.notes, command.expected_version
        )
    )


@router.post("/{change_id}/authorise", response_model=ChangeView)
async def authorise(
    change_id: UUID, body: Authorise, app: Planning, command: Command = requires(*CHANGE_AUTHORITY)
) -> ChangeView:
    """The change authority's decision: who, when, why, the CIs covered, the window."""
    _check_cis(body.ci_scope)
    return ChangeView.of(
        await command.run(
            app.authorise_change,
            change_id,
            body.reason,
            body.window.window(),
            body.ci_scope,
            command.expected_version,
        )
    )


@router.post("/{change_id}/reject", response_model=ChangeView)
async def reject(
    change_id: UUID, body: Reason, app: Planning, command: Command = requires(*CHANGE_AUTHORITY)
) -> ChangeView:
    return ChangeView.of(
        await command.run(app.reject_change, change_id, body.reason, command.expected_version)
    )


@router.post("/{change_id}/schedule", response_model=ChangeView)
async def schedule(
    change_id: UUID, body: Schedule, app: Planning, command: Command = requires(*CHANGE_MANAGERS)
) -> ChangeView:
    """Schedule a standard change, or move an authorised one; never into a freeze window
    unless it is an emergency change."""
    return ChangeView.of(
        await command.run(
            app.schedule_change, change_id, body.window.window(), command.expected_version
        )
    )


@router.post("/{change_id}/implement", response_model=ChangeView)
async def implement(
    change_id: UUID, app: Planning, command: Command = requires(*CHANGE_MANAGERS)
) -> ChangeView:
    return ChangeView.of(await command.run(app.start_change, change_id, command.expected_version))


@router.post("/{change_id}/complete", response_model=ChangeView)
async def complete(
    change_id: UUID, body: Complete, app: Planning, command: Command = requires(*CHANGE_MANAGERS)
) -> ChangeView:
    """Implementation is over: record how it went, for the review."""
    return ChangeView.of(
        await command.run(
            app.complete_change, change_id, body.outcome, body.notes, command.expected_version
        )
    )


@router.post("/{change_id}/close", response_model=ChangeView)
async def close(
    change_id: UUID, app: Planning, command: Command = requires(*CHANGE_MANAGERS)
) -> ChangeView:
    return ChangeView.of(await command.run(app.close_change, change_id, command.expected_version))


@router.post("/{change_id}/cancel", response_model=ChangeView)
async def cancel(
    change_id: UUID, body: Reason, app: Planning, command: Command = requires(*REQUESTERS)
) -> ChangeView:
    return ChangeView.of(
        await command.run(app.cancel_change, change_id, body.reason, command.expected_version)
    )

"""Stakeholders and the power/interest grid."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import Field

from changeledger.communication.api.common import COMMS_MANAGER, AsOf, Comms
from changeledger.communication.api.views import StakeholderBody, StakeholderView
from changeledger.communication.domain import Engagement, Quadrant
from changeledger.runtime.domain import InvalidValue
from changeledger.runtime.http import Body, Command, etag, query, requires
from changeledger.runtime.paging import Paged

router = APIRouter(prefix="/stakeholders", tags=["stakeholders"])


class UpdateStakeholder(StakeholderBody):
    name: str | None = Field(default=None, min_length=1, max_length=200)  # type: ignore[assignment]
    role: str | None = Field(default=None, min_length=1, max_length=200)  # type: ignore[assignment]
    organisation: str | None = Field(default=None, min_length=1, max_length=200)  # type: ignore[assignment]
    channel: None = None  # type: ignore[assignment]
    power: int | None = Field(default=None, ge=1, le=5)  # type: ignore[assignment]
    interest: int | None = Field(default=None, ge=1, le=5)  # type: ignore[assignment]


class EngagementBody(Body):
    current: Engagement
    desired: Engagement


class Subscription(Body):
    release_id: UUID | None = None
    ci: str | None = Field(default=None, min_length=1, max_length=100)

    def check(self) -> None:
        if (self.release_id is None) == (self.ci is None):
            raise InvalidValue("subscribe to one release or one CI", rule="subscription")


class Retire(Body):
    reason: str = Field(min_length=1, max_length=4000)


@router.post("", status_code=201, response_model=StakeholderView)
async def register(
    body: StakeholderBody, app: Comms, command: Command = requires(*COMMS_MANAGER)
) -> StakeholderView:
    return StakeholderView.of(await command.run(app.register_stakeholder, **body.fields()))


@router.get("", response_model=list[StakeholderView])
async def list_stakeholders(
    app: Comms, page: Paged, include_retired: bool = False, as_of: AsOf = None
) -> list[StakeholderView]:
    return await query(
        app.board.query,
        lambda b: [StakeholderView.of(s) for s in page.of(b.stakeholders(include_retired))],
        as_of,
    )


@router.get("/grid", response_model=dict[Quadrant, list[StakeholderView]])
async def grid(app: Comms, as_of: AsOf = None) -> dict[Quadrant, list[StakeholderView]]:
    """The power/interest grid: who sits in each quadrant."""
    return await query(
        app.board.query,
        lambda b: {q: [StakeholderView.of(s) for s in people] for q, people in b.grid().items()},
        as_of,
    )


@router.get("/{stakeholder_id}", response_model=StakeholderView)
async def get_stakeholder(
    stakeholder_id: UUID, app: Comms, response: Response, as_of: AsOf = None
) -> StakeholderView:
    stakeholder = await query(app.stakeholder, stakeholder_id, as_of)
    response.headers["ETag"] = etag(stakeholder.version)
    return StakeholderView.of(stakeholder)


@router.post("/{stakeholder_id}/update", response_model=StakeholderView)
async def update(
    stakeholder_id: UUID,
    body: UpdateStakeholder,
    app: Comms,
    command: Command = requires(*COMMS_MANAGER),
) -> StakeholderView:
    fields = {k: v for k, v in body.fields().items() if v is not None}
    return StakeholderView.of(
        await command.run(
            app.update_stakeholder, stakeholder_id, command.expected_version, **fields
        )
    )


@router.post("/{stakeholder_id}/engagement", response_model=StakeholderView)
async def engagement(
    stakeholder_id: UUID,
    body: EngagementBody,
    app: Comms,
    command: Command = requires(*COMMS_MANAGER),
) -> StakeholderView:
    return StakeholderView.of(
        await command.run(
            app.assess_engagement,
            stakeholder_id,
            body.current,
            body.desired,
            command.expected_version,
        )
    )


@router.post("/{stakeholder_id}/subscriptions", response_model=StakeholderView)
async def subscribe(
    stakeholder_id: UUID,
    body: Subscription,
    app: Comms,
    command: Command = requires(*COMMS_MANAGER),
) -> StakeholderView:
    body.check()
    return StakeholderView.of(
        await command.run(
            app.subscribe, stakeholder_id, body.release_id, body.ci, command.expected_version
        )
    )


@router.post("/{stakeholder_id}/subscriptions/remove", response_model=StakeholderView)
async def unsubscribe(
    stakeholder_id: UUID,
    body: Subscription,
    app: Comms,
    command: Command = requires(*COMMS_MANAGER),
) -> StakeholderView:
    body.check()
    return StakeholderView.of(
        await command.run(
            app.unsubscribe, stakeholder_id, body.release_id, body.ci, command.expected_version
        )
    )


@router.post("/{stakeholder_id}/retire", response_model=StakeholderView)
async def retire(
    stakeholder_id: UUID, body: Retire, app: Comms, command: Command = requires(*COMMS_MANAGER)
) -> StakeholderView:
    """Retired stakeholders receive nothing more; their history stays."""
    return StakeholderView.of(
        await command.run(
            app.retire_stakeholder, stakeholder_id, body.reason, command.expected_version
        )
    )

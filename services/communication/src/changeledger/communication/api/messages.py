"""Communication plans: messages planned, edited or cancelled until sent; monitoring."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from changeledger.communication.api.common import COMMS_MANAGER, AsOf, Comms
from changeledger.communication.api.views import (
    AudienceBody,
    MessageRates,
    MessageView,
    MonitoringView,
    RatesView,
    ReleaseRates,
)
from changeledger.communication.domain import Channel, MessageState
from changeledger.runtime.domain import InvalidValue
from changeledger.runtime.http import Command, etag, query, requires
from changeledger.runtime.paging import Paged

router = APIRouter(tags=["messages"])


class PlanMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    release_id: UUID | None = None
    change_id: UUID | None = Field(
        default=None, description="The change the message is about (its $change_* fields)"
    )
    audience: AudienceBody
    channel: Channel | None = Field(default=None, description="Default: each one's preferred")
    send_at: AwareDatetime
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(
        default="",
        max_length=20000,
        description=(
            "Template: $release_name, $window_start, $change_title, $change_cis, "
            "$change_window_start, $stakeholder_name, $ack_link ..."
        ),
    )
    ack_required: bool = False
    ack_within_hours: float | None = Field(default=None, gt=0, le=24 * 90)

    def fields(self) -> dict[str, object]:
        audience = self.audience.audience()
        if audience.empty:
            raise InvalidValue("a message needs an audience", rule="audience")
        within = timedelta(hours=self.ack_within_hours) if self.ack_within_hours else None
        return {
            "release_id": self.release_id,
            "change_id": self.change_id,
            "audience": audience,
            "channel": self.channel,
            "send_at": self.send_at,
            "subject": self.subject,
            "body": self.body,
            "ack_required": self.ack_required,
            "ack_within": within,
        }


class EditMessage(PlanMessage):
    audience: AudienceBody | None = None  # type: ignore[assignment]
    send_at: AwareDatetime | None = None  # type: ignore[assignment]
    subject: str | None = Field(default=None, min_length=1, max_length=300)  # type: ignore[assignment]
    body: str | None = Field(default=None, max_length=20000)  # type: ignore[assignment]
    ack_required: bool | None = None  # type: ignore[assignment]


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=4000)


@router.post("/messages", status_code=201, response_model=MessageView)
async def plan_message(
    body: PlanMessage, app: Comms, command: Command = requires(*COMMS_MANAGER)
) -> MessageView:
    """Plan a message; the scheduler sends it at `send_at`."""
    return MessageView.of(await command.run(app.plan_message, **body.fields()))


@router.get("/messages", response_model=list[MessageView])
async def list_messages(
    app: Comms,
    page: Paged,
    release_id: UUID | None = None,
    state: MessageState | None = None,
    as_of: AsOf = None,
) -> list[MessageView]:
    return await query(
        app.board.query,
        lambda b: [
            MessageView.of(m)
            for m in page.of(b.messages(release_id, state.value if state else None))
        ],
        as_of,
    )


@router.get("/releases/{release_id}/plan", response_model=list[MessageView])
async def release_plan(
    release_id: UUID, app: Comms, page: Paged, as_of: AsOf = None
) -> list[MessageView]:
    """A release's communication plan: every message for it, by send time."""
    return await query(
        app.board.query,
        lambda b: [MessageView.of(m) for m in page.of(b.messages(release_id))],
        as_of,
    )


@router.get("/messages/{message_id}", response_model=MessageView)
async def get_message(
    message_id: UUID, app: Comms, response: Response, as_of: AsOf = None
) -> MessageView:
    message = await query(app.message, message_id, as_of)
    response.headers["ETag"] = etag(message.version)
    return MessageView.of(message)


@router.post("/messages/{message_id}/edit", response_model=MessageView)
async def edit_message(
    message_id: UUID, body: EditMessage, app: Comms, command: Command = requires(*COMMS_MANAGER)
) -> MessageView:
    changes: dict[str, object] = {}
    if body.audience is not None:
        changes["audience"] = body.audience.audience()
    for name in ("channel", "send_at", "subject", "body", "ack_required"):
        if getattr(body, name) is not None:
            changes[name] = getattr(body, name)
    if body.ack_within_hours is not None:
        changes["ack_within"] = timedelta(hours=body.ack_within_hours)
    return MessageView.of(
        await command.run(app.edit_message, message_id, command.expected_version, **changes)
    )


@router.post("/messages/{message_id}/cancel", response_model=MessageView)
async def cancel_message(
    message_id: UUID, body: Reason, app: Comms, command: Command = requires(*COMMS_MANAGER)
) -> MessageView:
    return MessageView.of(
        await command.run(app.cancel_message, message_id, body.reason, command.expected_version)
    )


@router.get("/monitoring", response_model=MonitoringView, tags=["monitoring"])
async def monitoring(app: Comms, as_of: AsOf = None) -> MonitoringView:
    """Sent, delivered, acknowledged and overdue, overall, per release and per message."""

    def view(board: object) -> MonitoringView:
        from changeledger.communication.reports import CommunicationBoard

        assert isinstance(board, CommunicationBoard)
        overall, releases, messages = board.monitoring()
        return MonitoringView(
            overall=RatesView.of(overall),
            releases=[
                ReleaseRates(release_id=r, rates=RatesView.of(rates))
                for r, rates in releases.items()
            ],
            messages=[
                MessageRates(
                    message_id=m.id,
                    release_id=m.release_id,
                    subject=m.sent_subject or m.subject,
                    state=m.state,
                    rates=RatesView.of(rates),
                )
                for m, rates in messages
            ],
        )

    return await query(app.board.query, view, as_of)

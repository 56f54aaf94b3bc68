"""Acknowledgement links: no login, one use, one recipient (the link is signed)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from changeledger.communication.api.common import Comms
from changeledger.communication.domain import MessageState
from changeledger.runtime.domain import Actor
from changeledger.runtime.http import acting_as

router = APIRouter(tags=["acknowledgements"])
Token = Path(min_length=20, max_length=200, pattern=r"^[0-9a-f.]+$")


class Acknowledged(BaseModel):
    message_id: str
    state: MessageState


async def _acknowledge(request: Request, token: str, app: Comms) -> Acknowledged:
    # Whoever holds the link is the recipient it was made for: the signature says so.
    stakeholder_hex = token.split(".")[1] if token.count(".") == 2 else "unknown"
    actor = Actor(sub=f"stakeholder:{stakeholder_hex}", roles=("recipient",))
    command = acting_as(request, actor, "acknowledge")
    message, _ = await command.run(app.acknowledge, token)
    return Acknowledged(message_id=str(message.id), state=message.state)


@router.get("/acks/{token}", response_model=Acknowledged)
async def acknowledge_by_link(request: Request, app: Comms, token: str = Token) -> Acknowledged:
    """Following the link acknowledges the message (once)."""
    return await _acknowledge(request, token, app)


@router.post("/acks/{token}", response_model=Acknowledged)
async def acknowledge(request: Request, app: Comms, token: str = Token) -> Acknowledged:
    return await _acknowledge(request, token, app)

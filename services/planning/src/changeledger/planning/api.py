"""Planning's HTTP API (port 8001)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import Priority, Release, TargetWindow
from changeledger.runtime.http import Command, query, requires
from changeledger.runtime.service import application

router = APIRouter(tags=["releases"])
Planning = Annotated[PlanningApplication, Depends(application)]
AsOf = Annotated[AwareDatetime | None, Query(description="Show the state as it was at this time")]


class PlanRelease(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    owner: str = Field(min_length=1, max_length=200)
    priority: Priority
    target_start: date
    target_end: date


class ReleaseView(BaseModel):
    id: UUID
    version: int
    name: str
    owner: str
    priority: Priority
    state: str
    target_start: date
    target_end: date
    risk_register_id: UUID | None
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, release: Release) -> ReleaseView:
        return cls(
            id=release.id,
            version=release.version,
            name=release.name,
            owner=release.owner,
            priority=release.priority,
            state=release.state,
            target_start=release.target.start,
            target_end=release.target.end,
            risk_register_id=release.risk_register_id,
            created_on=release.created_on,
            modified_on=release.modified_on,
        )


@router.post("/releases", status_code=201, response_model=ReleaseView)
async def plan_release(
    body: PlanRelease, app: Planning, command: Command = requires("release-manager")
) -> ReleaseView:
    """Plan a release for a target window."""
    target = TargetWindow(body.target_start, body.target_end)
    release = await command.run(app.plan_release, body.name, body.owner, body.priority, target)
    return ReleaseView.of(release)


@router.get("/releases/{release_id}", response_model=ReleaseView)
async def get_release(release_id: UUID, app: Planning, as_of: AsOf = None) -> ReleaseView:
    return ReleaseView.of(await query(app.release, release_id, as_of))

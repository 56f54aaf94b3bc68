"""Risks: identified, assessed, answered, mitigated, closed or materialised."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import Field

from changeledger.risk.api.common import RISK_WORKERS, AsOf, Risks
from changeledger.risk.api.views import IssueView, MaterialisedView, RiskView, ScoreBody
from changeledger.risk.domain import Category, RiskState, Severity
from changeledger.risk.domain import Response as RiskResponse
from changeledger.runtime.http import Body, Command, etag, query, requires
from changeledger.runtime.paging import Paged

router = APIRouter(prefix="/risks", tags=["risks"])
Text = Field(min_length=1, max_length=4000)


class Identify(Body):
    cause: str = Text
    event: str = Text
    effect: str = Text
    category: Category
    owner: str = Field(min_length=1, max_length=200)
    release_id: UUID | None = None
    change_id: UUID | None = None
    proximity: date | None = Field(default=None, description="When the risk could occur")


class Assess(Body):
    inherent: ScoreBody
    residual: ScoreBody | None = None


class ChooseResponse(Body):
    response: RiskResponse
    reason: str = Field(default="", max_length=4000)


class Mitigate(Body):
    action: str = Text
    owner: str = Field(min_length=1, max_length=200)
    due: date


class Reason(Body):
    reason: str = Text


class Materialise(Body):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=8000)
    severity: Severity


@router.post("", status_code=201, response_model=RiskView)
async def identify(
    body: Identify, app: Risks, command: Command = requires(*RISK_WORKERS)
) -> RiskView:
    risk = await command.run(
        app.identify_risk,
        body.cause,
        body.event,
        body.effect,
        body.category,
        body.owner,
        body.release_id,
        body.change_id,
        body.proximity,
    )
    return RiskView.of(risk)


@router.get("", response_model=list[RiskView])
async def list_risks(
    app: Risks,
    page: Paged,
    release_id: UUID | None = None,
    state: RiskState | None = None,
    as_of: AsOf = None,
) -> list[RiskView]:
    return await query(
        app.board.query,
        lambda b: [
            RiskView.of(r) for r in page.of(b.risks(release_id, state.value if state else None))
        ],
        as_of,
    )


@router.get("/top", response_model=list[RiskView])
async def top_risks(
    app: Risks, limit: int = Query(default=10, ge=1, le=100), as_of: AsOf = None
) -> list[RiskView]:
    """The open risks with the highest current scores, across releases."""
    return await query(app.board.query, lambda b: [RiskView.of(r) for r in b.top(limit)], as_of)


@router.get("/{risk_id}", response_model=RiskView)
async def get_risk(risk_id: UUID, app: Risks, response: Response, as_of: AsOf = None) -> RiskView:
    risk = await query(app.risk, risk_id, as_of)
    response.headers["ETag"] = etag(risk.version)
    return RiskView.of(risk)


@router.post("/{risk_id}/assess", response_model=RiskView)
async def assess(
    risk_id: UUID, body: Assess, app: Risks, command: Command = requires(*RISK_WORKERS)
) -> RiskView:
    """Assess or reassess: likelihood and impact 1-5, inherent and residual. A rating of
    High or Critical escalates the risk."""
    residual = body.residual.score() if body.residual else None
    risk = await command.run(
        app.assess_risk, risk_id, body.inherent.score(), residual, command.expected_version
    )
    return RiskView.of(risk)


@router.post("/{risk_id}/response", response_model=RiskView)
async def choose_response(
    risk_id: UUID, body: ChooseResponse, app: Risks, command: Command = requires(*RISK_WORKERS)
) -> RiskView:
    """Avoid, reduce, transfer, share or accept; accepting needs a reason and the
    risk-manager role, and an owner never accepts their own Critical risk."""
    risk = await command.run(
        app.choose_response, risk_id, body.response, body.reason, command.expected_version
    )
    return RiskView.of(risk)


@router.post("/{risk_id}/mitigations", status_code=201, response_model=RiskView)
async def add_mitigation(
    risk_id: UUID, body: Mitigate, app: Risks, command: Command = requires(*RISK_WORKERS)
) -> RiskView:
    risk = await command.run(
        app.add_mitigation, risk_id, body.action, body.owner, body.due, command.expected_version
    )
    return RiskView.of(risk)


@router.post("/{risk_id}/mitigations/{mitigation_id}/complete", response_model=RiskView)
async def complete_mitigation(
    risk_id: UUID, mitigation_id: UUID, app: Risks, command: Command = requires(*RISK_WORKERS)
) -> RiskView:
    risk = await command.run(
        app.complete_mitigation, risk_id, mitigation_id, command.expected_version
    )
    return RiskView.of(risk)


@router.post("/{risk_id}/close", response_model=RiskView)
async def close(
    risk_id: UUID, body: Reason, app: Risks, command: Command = requires(*RISK_WORKERS)
) -> RiskView:
    risk = await command.run(app.close_risk, risk_id, body.reason, command.expected_version)
    return RiskView.of(risk)


@router.post("/{risk_id}/materialise", status_code=201, response_model=MaterialisedView)
async def materialise(
    risk_id: UUID, body: Materialise, app: Risks, command: Command = requires(*RISK_WORKERS)
) -> MaterialisedView:
    """The risk happened: it is closed and becomes an issue, each linked to the other."""
    risk, issue = await command.run(
        app.materialise_risk,
        risk_id,
        body.title,
        body.description,
        body.severity,
        command.expected_version,
    )
    return MaterialisedView(risk=RiskView.of(risk), issue=IssueView.of(issue))

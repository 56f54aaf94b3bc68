"""Registers, the heat map and overdue mitigations."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter

from changeledger.risk.api.common import AsOf, Risks
from changeledger.risk.api.views import (
    ExposureView,
    HeatmapView,
    IssueView,
    OverdueView,
    RegisterView,
    RiskView,
)
from changeledger.runtime.domain import now
from changeledger.runtime.http import query
from changeledger.runtime.paging import Paged

router = APIRouter(tags=["registers"])


@router.get("/registers/{release_id}", response_model=RegisterView)
async def get_register(release_id: UUID, app: Risks, as_of: AsOf = None) -> RegisterView:
    """A release's register: its open risks and issues, and the exposure."""
    register = await query(app.register_of, release_id, as_of)

    def open_items(board: object) -> tuple[list[RiskView], list[IssueView]]:
        from changeledger.risk.reports import RiskBoard

        assert isinstance(board, RiskBoard)
        risks = [RiskView.of(r) for r in board.risks(release_id) if r.is_open]
        issues = [IssueView.of(i) for i in board.issues(release_id) if i.is_open]
        return risks, issues

    risks, issues = await query(app.board.query, open_items, as_of)
    e = register.exposure
    return RegisterView(
        id=register.id,
        version=register.version,
        release_id=register.release_id,
        release_name=register.release_name,
        opened_on=register.created_on,
        exposure=ExposureView(
            open_risks=e.open_risks,
            open_issues=e.open_issues,
            highest_score=e.highest_score,
            unaccepted_critical=e.unaccepted_critical,
        ),
        risks=risks,
        issues=issues,
    )


@router.get("/heatmap", response_model=HeatmapView)
async def heatmap(
    app: Risks,
    release_id: UUID | None = None,
    basis: Literal["inherent", "residual"] = "residual",
    as_of: AsOf = None,
) -> HeatmapView:
    """A 5x5 grid of open risks by likelihood and impact (residual falls back to inherent
    for risks without a residual assessment)."""
    cells = await query(app.board.query, lambda b: b.heatmap(release_id, basis), as_of)
    return HeatmapView(basis=basis, release_id=release_id, likelihood_by_impact=cells)


@router.get("/mitigations/overdue", response_model=list[OverdueView])
async def overdue_mitigations(app: Risks, page: Paged, as_of: AsOf = None) -> list[OverdueView]:
    today = (as_of or now()).date()
    return await query(
        app.board.query, lambda b: [OverdueView.of(o) for o in page.of(b.overdue(today))], as_of
    )

"""Issues: raised directly or from a risk that materialised."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import Field

from changeledger.risk.api.common import RISK_WORKERS, AsOf, Risks
from changeledger.risk.api.views import IssueView
from changeledger.risk.domain import IssueState, Severity
from changeledger.runtime.http import Body, Command, etag, query, requires
from changeledger.runtime.paging import Paged

router = APIRouter(prefix="/issues", tags=["issues"])
STEPS: dict[str, IssueState] = {
    "investigate": IssueState.INVESTIGATING,
    "resolve": IssueState.RESOLVED,
    "close": IssueState.CLOSED,
}


class RaiseIssue(Body):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=8000)
    severity: Severity
    owner: str = Field(min_length=1, max_length=200)
    release_id: UUID | None = None
    change_id: UUID | None = None


class Note(Body):
    note: str = Field(default="", max_length=8000)


class ChangeSeverity(Body):
    severity: Severity


@router.post("", status_code=201, response_model=IssueView)
async def raise_issue(
    body: RaiseIssue, app: Risks, command: Command = requires(*RISK_WORKERS)
) -> IssueView:
    issue = await command.run(
        app.raise_issue,
        body.title,
        body.description,
        body.severity,
        body.owner,
        body.release_id,
        body.change_id,
    )
    return IssueView.of(issue)


@router.get("", response_model=list[IssueView])
async def list_issues(
    app: Risks,
    page: Paged,
    release_id: UUID | None = None,
    state: IssueState | None = None,
    as_of: AsOf = None,
) -> list[IssueView]:
    return await query(
        app.board.query,
        lambda b: [
            IssueView.of(i) for i in page.of(b.issues(release_id, state.value if state else None))
        ],
        as_of,
    )


@router.get("/{issue_id}", response_model=IssueView)
async def get_issue(
    issue_id: UUID, app: Risks, response: Response, as_of: AsOf = None
) -> IssueView:
    issue = await query(app.issue, issue_id, as_of)
    response.headers["ETag"] = etag(issue.version)
    return IssueView.of(issue)


@router.post("/{issue_id}/{step}", response_model=IssueView)
async def advance(
    issue_id: UUID,
    step: Literal["investigate", "resolve", "close"],
    body: Note,
    app: Risks,
    command: Command = requires(*RISK_WORKERS),
) -> IssueView:
    """Open -> investigate -> resolve (with how) -> close."""
    issue = await command.run(
        app.advance_issue, issue_id, STEPS[step], body.note, command.expected_version
    )
    return IssueView.of(issue)


@router.post("/{issue_id}/severity", response_model=IssueView)
async def change_severity(
    issue_id: UUID, body: ChangeSeverity, app: Risks, command: Command = requires(*RISK_WORKERS)
) -> IssueView:
    issue = await command.run(
        app.change_severity, issue_id, body.severity, command.expected_version
    )
    return IssueView.of(issue)

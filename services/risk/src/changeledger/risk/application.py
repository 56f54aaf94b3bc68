"""Risk's commands and queries, over its own store.

Whenever a risk or an issue of a release changes, the release's register records the
exposure that results, in the same transaction: that is what planning learns from
(`risk.exposure.changed`), in order, one register per release.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from uuid import UUID, uuid4

from changeledger.risk.domain import (
    ActionStatus,
    Assessment,
    Category,
    Escalation,
    Exposure,
    Issue,
    IssueState,
    Mitigation,
    Rating,
    Response,
    Risk,
    RiskRegister,
    RiskState,
    Score,
    Severity,
    register_id_for,
)
from changeledger.risk.reports import RiskBoard
from changeledger.runtime.domain import Aggregate, NotFound, now
from changeledger.runtime.projection import LiveProjection
from changeledger.runtime.store import ServiceApplication


class RiskApplication(ServiceApplication):
    name = "risk"
    snapshotted = (Risk, Issue, RiskRegister)
    value_objects = (
        Score,
        Assessment,
        Mitigation,
        Escalation,
        Exposure,
        Rating,
        RiskState,
        Category,
        Response,
        ActionStatus,
        Severity,
        IssueState,
    )

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.board = LiveProjection(self, RiskBoard)

    # Registers

    def register_of(self, release_id: UUID, as_of: datetime | None = None) -> RiskRegister:
        return self.get(register_id_for(release_id), RiskRegister, as_of=as_of)

    def has_register(self, release_id: UUID) -> bool:
        return self.contains(register_id_for(release_id))

    def consequences(self, *changed: Aggregate) -> list[Aggregate]:
        """`changed`, plus the registers whose exposure they change."""
        releases = {getattr(a, "release_id", None) for a in changed} - {None}
        registers: list[Aggregate] = []
        for release_id in releases:
            assert isinstance(release_id, UUID)
            if not self.has_register(release_id):
                continue
            register = self.register_of(release_id)
            register.note_exposure(self._exposure(release_id, changed))
            registers.append(register)
        return [*changed, *registers]

    def _exposure(self, release_id: UUID, changed: Iterable[Aggregate]) -> Exposure:
        # What the store holds, overlaid with what this command (or batch) changed.
        overlay = {**self.pending(), **{a.id: a for a in changed}}

        def current(board: RiskBoard) -> Exposure:
            merged: dict[UUID, Risk | Issue] = {a.id: a for a in board.risks(release_id)}
            merged |= {i.id: i for i in board.issues(release_id)}
            merged |= {
                k: v
                for k, v in overlay.items()
                if getattr(v, "release_id", None) == release_id and isinstance(v, Risk | Issue)
            }
            risks = [a for a in merged.values() if isinstance(a, Risk)]
            issues = [a for a in merged.values() if isinstance(a, Issue)]
            return Exposure.of(risks, issues)

        return self.board.query(current)

    # Risks

    def identify_risk(
        self,
        cause: str,
        event: str,
        effect: str,
        category: Category,
        owner: str,
        release_id: UUID | None,
        change_id: UUID | None,
        proximity: date | None,
    ) -> Risk:
        if release_id is not None and not self.has_register(release_id):
            raise NotFound(
                f"release {release_id} has no risk register (it has not been planned)",
                rule="release-unknown",
            )
        risk = Risk.identify(
            cause, event, effect, category, owner, release_id, change_id, proximity
        )
        self.save(*self.consequences(risk))
        return risk

    def risk(
        self, risk_id: UUID, as_of: datetime | None = None, expected_version: int | None = None
    ) -> Risk:
        return self.get(risk_id, Risk, as_of=as_of, expected_version=expected_version)

    def assess_risk(
        self,
        risk_id: UUID,
        inherent: Score,
        residual: Score | None,
        expected_version: int | None = None,
    ) -> Risk:
        return self.update(risk_id, Risk, lambda r: r.assess(inherent, residual), expected_version)

    def choose_response(
        self, risk_id: UUID, response: Response, reason: str, expected_version: int | None = None
    ) -> Risk:
        return self.update(
            risk_id, Risk, lambda r: r.choose_response(response, reason), expected_version
        )

    def add_mitigation(
        self,
        risk_id: UUID,
        action: str,
        owner: str,
        due: date,
        expected_version: int | None = None,
    ) -> Risk:
        mitigation = Mitigation(uuid4(), action, owner, due)
        return self.update(risk_id, Risk, lambda r: r.add_mitigation(mitigation), expected_version)

    def complete_mitigation(
        self, risk_id: UUID, mitigation_id: UUID, expected_version: int | None = None
    ) -> Risk:
        today = now().date()
        return self.update(
            risk_id, Risk, lambda r: r.complete_mitigation(mitigation_id, today), expected_version
        )

    def close_risk(self, risk_id: UUID, reason: str, expected_version: int | None = None) -> Risk:
        return self.update(risk_id, Risk, lambda r: r.close(reason), expected_version)

    def materialise_risk(
        self,
        risk_id: UUID,
        title: str,
        description: str,
        severity: Severity,
        expected_version: int | None = None,
    ) -> tuple[Risk, Issue]:
        """The risk happened: it becomes an issue, each linked to the other."""
        risk = self.risk(risk_id, expected_version=expected_version)
        issue = Issue.raise_issue(
            title, description, severity, risk.owner, risk.release_id, risk.change_id, risk.id
        )
        risk.materialise(issue.id)
        self.save(*self.consequences(risk, issue))
        return risk, issue

    # Issues

    def raise_issue(
        self,
        title: str,
        description: str,
        severity: Severity,
        owner: str,
        release_id: UUID | None,
        change_id: UUID | None,
    ) -> Issue:
        if release_id is not None and not self.has_register(release_id):
            raise NotFound(
                f"release {release_id} has no risk register (it has not been planned)",
                rule="release-unknown",
            )
        issue = Issue.raise_issue(title, description, severity, owner, release_id, change_id)
        self.save(*self.consequences(issue))
        return issue

    def issue(
        self, issue_id: UUID, as_of: datetime | None = None, expected_version: int | None = None
    ) -> Issue:
        return self.get(issue_id, Issue, as_of=as_of, expected_version=expected_version)

    def advance_issue(
        self, issue_id: UUID, to: IssueState, note: str, expected_version: int | None = None
    ) -> Issue:
        return self.update(issue_id, Issue, lambda i: i.advance(to, note), expected_version)

    def change_severity(
        self, issue_id: UUID, severity: Severity, expected_version: int | None = None
    ) -> Issue:
        return self.update(issue_id, Issue, lambda i: i.change_severity(severity), expected_version)

    # The service's own clock

    def escalate_overdue(self, today: date | None = None) -> int:
        """Escalate every open risk with a mitigation past its due date (once per
        mitigation, however often this runs). Returns how many risks escalated."""
        today = today or now().date()
        late = self.board.query(lambda b: sorted({o.risk.id for o in b.overdue(today)}))
        escalated = 0
        for risk_id in late:
            risk = self.risk(risk_id)
            if risk.escalate_overdue(today):
                self.save(*self.consequences(risk))
                escalated += 1
        return escalated

    # What other services' events cause

    def close_passed_risks(self, release_id: UUID, deployed_on: date) -> Sequence[Aggregate]:
        """After a deployment, the release's open risks whose proximity has passed are
        closed, saying why. Returns what changed (for the consumer to save)."""
        open_risks = self.board.query(lambda b: [r.id for r in b.risks(release_id) if r.is_open])
        closed: list[Aggregate] = []
        for risk_id in open_risks:
            risk = self.risk(risk_id)
            if risk.is_open and risk.proximity_passed(deployed_on):
                risk.close(
                    f"the release was deployed on {deployed_on}; "
                    f"the risk's proximity ({risk.proximity}) has passed"
                )
                closed.append(risk)
        return self.consequences(*closed) if closed else []

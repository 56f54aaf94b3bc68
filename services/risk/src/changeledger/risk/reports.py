"""Risk's read side: every risk, issue and register, and what is reported from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal
from uuid import UUID

from changeledger.risk.domain import Issue, Mitigation, Risk, RiskRegister, Score
from changeledger.runtime.projection import AggregateIndex

Basis = Literal["inherent", "residual"]


@dataclass(frozen=True)
class Overdue:
    risk: Risk
    mitigation: Mitigation


class RiskBoard(AggregateIndex):
    indexed = (Risk, Issue, RiskRegister)

    def risks(self, release_id: UUID | None = None, state: str | None = None) -> list[Risk]:
        found = [
            r
            for r in self.all(Risk)
            if (release_id is None or r.release_id == release_id)
            and (state is None or r.state.value == state)
        ]
        return sorted(found, key=lambda r: r.created_on)

    def issues(self, release_id: UUID | None = None, state: str | None = None) -> list[Issue]:
        found = [
            i
            for i in self.all(Issue)
            if (release_id is None or i.release_id == release_id)
            and (state is None or i.state.value == state)
        ]
        return sorted(found, key=lambda i: i.created_on)

    def top(self, limit: int) -> list[Risk]:
        """The open risks with the highest current scores, across releases."""
        scored = [r for r in self.all(Risk) if r.is_open and r.score]
        return sorted(scored, key=lambda r: (-_value(r.score), r.created_on))[:limit]

    def heatmap(self, release_id: UUID | None, basis: Basis) -> list[list[int]]:
        """Counts of open risks by likelihood (rows, 1-5) and impact (columns, 1-5)."""
        cells = [[0] * 5 for _ in range(5)]
        for risk in self.risks(release_id):
            if not risk.is_open or not risk.assessments:
                continue
            latest = risk.assessments[-1]
            score = latest.inherent if basis == "inherent" else latest.current
            cells[score.likelihood - 1][score.impact - 1] += 1
        return cells

    def overdue(self, today: date) -> list[Overdue]:
        return [
            Overdue(risk, m)
            for risk in self.risks()
            if risk.is_open
            for m in risk.mitigations
            if m.overdue(today)
        ]


def _value(score: Score | None) -> int:
    return score.value if score else 0

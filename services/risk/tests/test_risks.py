"""A risk's life, its escalation on the service's clock, issues, and the exposure that
planning's deployment gate reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from changeledger.risk.domain import IssueState, Rating, Response, RiskState, Score, Severity
from changeledger.runtime.domain import DomainError, acting

if TYPE_CHECKING:
    from services.risk.tests.conftest import Risks


def refused(risks: Risks, rule: str, command: Callable[[], object], by: object = None) -> None:
    before = risks.head()
    with acting(by or risks.RITA), pytest.raises(DomainError) as error:  # type: ignore[arg-type]
        command()
    assert error.value.rule == rule, error.value
    assert risks.head() == before, "a refused command recorded something"


def test_a_risk_from_identified_to_closed_keeps_every_assessment(risks: Risks) -> None:
    risk = risks.identify()
    assert risk.state is RiskState.IDENTIFIED
    app = risks.app
    with acting(risks.RITA):
        app.assess_risk(risk.id, Score(2, 2), None)
        app.assess_risk(risk.id, Score(3, 3), Score(2, 2))
        app.choose_response(risk.id, Response.REDUCE, "add a replica")
        risk = app.close_risk(risk.id, "replica in place")
    assert [a.inherent.value for a in risk.assessments] == [4, 9]
    assert risk.state is RiskState.CLOSED
    assert risk.rating is Rating.LOW  # the residual score counts once there is one


def test_states_refuse_what_they_do_not_allow(risks: Risks) -> None:
    risk = risks.identify()
    refused(risks, "risk-state", lambda: risks.app.choose_response(risk.id, Response.AVOID, "x"))
    with acting(risks.RITA):
        risks.app.close_risk(risk.id, "not a risk after all")
    refused(risks, "risk-state", lambda: risks.app.assess_risk(risk.id, Score(1, 1), None))
    refused(risks, "risk-state", lambda: risks.app.close_risk(risk.id, "again"))


def test_accepting_needs_a_reason_the_risk_manager_and_not_the_owner_of_a_critical_risk(
    risks: Risks,
) -> None:
    app = risks.app
    critical = risks.assessed(4, 4)
    refused(
        risks,
        "acceptance-role",
        lambda: app.choose_response(critical.id, Response.ACCEPT, "fine"),
        by=risks.RITA,
    )
    refused(
        risks,
        "acceptance-reason",
        lambda: app.choose_response(critical.id, Response.ACCEPT, " "),
        by=risks.MAYA,
    )
    refused(
        risks,
        "owner-accepts-critical",
        lambda: app.choose_response(critical.id, Response.ACCEPT, "mine"),
        by=risks.OWEN,
    )
    with acting(risks.MAYA):
        accepted = app.choose_response(critical.id, Response.ACCEPT, "tolerable for a week")
    assert accepted.state is RiskState.ACCEPTED


def test_a_high_or_critical_rating_escalates_once(risks: Risks) -> None:
    medium = risks.assessed(3, 3)
    assert medium.escalations == []
    high = risks.assessed(3, 4)
    assert [e.reason for e in high.escalations] == ["its rating reached High"]
    with acting(risks.RITA):
        again = risks.app.assess_risk(high.id, Score(3, 5), None)  # still High
        critical = risks.app.assess_risk(high.id, Score(5, 5), None)
    assert len(again.escalations) == 1
    assert [e.reason for e in critical.escalations][-1] == "its rating reached Critical"


def test_an_overdue_mitigation_escalates_once_on_the_services_clock(risks: Risks) -> None:
    risk = risks.assessed(2, 2)
    with acting(risks.RITA):
        risks.app.add_mitigation(risk.id, "patch the driver", "dan", risks.due(3))
    app = risks.app
    with acting(risks.SYSTEM):
        assert app.escalate_overdue(today=risks.due(3)) == 0  # due today: not late yet
        assert app.escalate_overdue(today=risks.due(4)) == 1
        before = risks.head()
        assert app.escalate_overdue(today=risks.due(5)) == 0  # once, not once per check
        assert app.escalate_overdue(today=risks.due(30)) == 0
    assert risks.head() == before
    escalations = risks.risk(risk.id).escalations
    assert len(escalations) == 1
    assert "patch the driver" in escalations[0].reason
    overdue = app.board.query(lambda b: b.overdue(risks.due(4)))
    assert [o.mitigation.action for o in overdue] == ["patch the driver"]


def test_a_completed_mitigation_is_not_overdue(risks: Risks) -> None:
    risk = risks.assessed(2, 2)
    with acting(risks.RITA):
        risk = risks.app.add_mitigation(risk.id, "patch", "dan", risks.due(1))
        risks.app.complete_mitigation(risk.id, risk.mitigations[0].id)
    with acting(risks.SYSTEM):
        assert risks.app.escalate_overdue(today=risks.due(10)) == 0


def test_a_materialised_risk_becomes_an_issue_linked_both_ways(risks: Risks) -> None:
    risk = risks.assessed(4, 3)
    with acting(risks.RITA):
        risk, issue = risks.app.materialise_risk(risk.id, "Upgrade failed", "", Severity.HIGH)
    assert risk.state is RiskState.CLOSED
    assert risk.issue_id == issue.id
    assert issue.risk_id == risk.id
    assert issue.release_id == risks.release_id
    with acting(risks.RITA):
        risks.app.advance_issue(issue.id, IssueState.INVESTIGATING, "looking")
        refused(
            risks, "issue-state", lambda: risks.app.advance_issue(issue.id, IssueState.CLOSED, "")
        )
        refused(
            risks, "resolution", lambda: risks.app.advance_issue(issue.id, IssueState.RESOLVED, "")
        )
        risks.app.advance_issue(issue.id, IssueState.RESOLVED, "rolled back")
        assert risks.app.advance_issue(issue.id, IssueState.CLOSED, "").state is IssueState.CLOSED


def test_the_exposure_counts_what_blocks_a_deployment(risks: Risks) -> None:
    assert risks.exposure().open_risks == 0
    critical = risks.assessed(5, 4)
    risks.assessed(2, 2)
    exposure = risks.exposure()
    assert (exposure.open_risks, exposure.highest_score, exposure.unaccepted_critical) == (2, 20, 1)
    with acting(risks.MAYA):
        risks.app.choose_response(critical.id, Response.ACCEPT, "business accepts it")
    assert risks.exposure().unaccepted_critical == 0
    with acting(risks.RITA):
        risks.app.raise_issue("Outage", "", Severity.HIGH, "owen", risks.release_id, None)
    assert risks.exposure().open_issues == 1


def test_risks_and_issues_need_a_known_release(risks: Risks) -> None:
    from uuid import uuid4

    from changeledger.risk.domain import Category

    refused(
        risks,
        "release-unknown",
        lambda: risks.app.identify_risk("c", "e", "f", Category.COST, "o", uuid4(), None, None),
    )
    assert risks.identify(release=False).release_id is None


def test_deployment_closes_risks_whose_proximity_has_passed(risks: Risks) -> None:
    passed = risks.identify(proximity=risks.due(-1))
    later = risks.identify(proximity=risks.due(30))
    undated = risks.identify()
    with acting(risks.SYSTEM):
        changed = risks.app.close_passed_risks(risks.release_id, risks.TODAY)
        risks.app.save(*changed)
    assert risks.risk(passed.id).state is RiskState.CLOSED
    assert "proximity" in (risks.risk(passed.id).closed_reason or "")
    assert risks.risk(later.id).state is RiskState.IDENTIFIED
    assert risks.risk(undated.id).state is RiskState.IDENTIFIED
    assert risks.exposure().open_risks == 2

"""Each rule of a release: the refusal names the rule, and nothing is recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from changeledger.planning.domain import Money, Outcome, Period, Priority, RiskExposure
from changeledger.runtime.domain import DomainError, acting

if TYPE_CHECKING:
    from services.planning.tests.conftest import Planning


def refused(planning: Planning, rule: str, command: Callable[[], object], by: Any = None) -> None:
    before = planning.head()
    with acting(by or planning.RITA), pytest.raises(DomainError) as error:
        command()
    assert error.value.rule == rule, error.value
    assert planning.head() == before, "a refused command recorded something"


def test_a_release_is_planned_ahead(planning: Planning) -> None:
    past = Period(planning.TODAY, planning.AHEAD.end)
    refused(
        planning,
        "target-window-ahead",
        lambda: planning.app.plan_release("R", "rita", Priority.LOW, past),
    )


def test_no_budget_before_the_benefits_are_assessed_and_approved(planning: Planning) -> None:
    app, rid = planning.app, planning.plan().id
    eur = Money(Decimal(500), "EUR")
    with acting(planning.RITA):
        app.request_budget(rid, eur)
    refused(planning, "benefits-not-approved", lambda: app.allocate_budget(rid, eur))
    with acting(planning.RITA):
        app.record_benefit(rid, "speed", "ms", Decimal(200), Decimal(100), planning.AHEAD.end)
    refused(planning, "benefits-not-approved", lambda: app.allocate_budget(rid, eur))
    with acting(planning.CARL):
        app.assess_benefits(rid, Outcome.REJECTED, "not worth it")
    refused(planning, "benefits-not-approved", lambda: app.allocate_budget(rid, eur))
    with acting(planning.CARL):
        app.assess_benefits(rid, Outcome.APPROVED, "reconsidered")
    with acting(planning.RITA):
        assert app.allocate_budget(rid, eur).allocated == eur


def test_new_benefits_need_a_new_assessment(planning: Planning) -> None:
    app, rid = planning.app, planning.plan().id
    with acting(planning.RITA):
        app.request_budget(rid, Money(Decimal(500), "EUR"))
        app.record_benefit(rid, "a", "x", Decimal(1), Decimal(2), planning.AHEAD.end)
    with acting(planning.CARL):
        app.assess_benefits(rid, Outcome.APPROVED, "ok")
    with acting(planning.RITA):
        app.record_benefit(rid, "b", "x", Decimal(1), Decimal(2), planning.AHEAD.end)
    refused(
        planning,
        "benefits-not-approved",
        lambda: app.allocate_budget(rid, Money(Decimal(500), "EUR")),
    )


def test_benefits_are_assessed_only_when_recorded(planning: Planning) -> None:
    rid = planning.plan().id
    refused(
        planning,
        "no-benefits",
        lambda: planning.app.assess_benefits(rid, Outcome.APPROVED, "ok"),
        by=planning.CARL,
    )


def test_the_allocation_stays_within_the_request_and_its_currency(planning: Planning) -> None:
    app, rid = planning.app, planning.plan().id
    with acting(planning.RITA):
        app.request_budget(rid, Money(Decimal(500), "EUR"))
        app.record_benefit(rid, "a", "x", Decimal(1), Decimal(2), planning.AHEAD.end)
    with acting(planning.CARL):
        app.assess_benefits(rid, Outcome.APPROVED, "ok")
    refused(
        planning,
        "allocation-exceeds-request",
        lambda: app.allocate_budget(rid, Money(Decimal("500.01"), "EUR")),
    )
    refused(
        planning,
        "currency-mismatch",
        lambda: app.allocate_budget(rid, Money(Decimal(100), "USD")),
    )


def test_spend_is_tracked_against_the_budget_in_its_currency(planning: Planning) -> None:
    app, rid = planning.app, planning.plan().id
    refused(
        planning,
        "no-budget",
        lambda: app.record_spend(rid, Money(Decimal(1), "EUR"), "too early"),
    )
    planning.approve(rid)
    with acting(planning.RITA):
        app.record_spend(rid, Money(Decimal("300.50"), "EUR"), "licences")
        release = app.record_spend(rid, Money(Decimal("600.00"), "EUR"), "consultants")
    assert release.spent == Money(Decimal("900.50"), "EUR")
    assert release.allocated == Money(Decimal("800.00"), "EUR")
    refused(
        planning,
        "currency-mismatch",
        lambda: app.record_spend(rid, Money(Decimal(1), "GBP"), "elsewhere"),
    )


def test_after_scheduling_the_scope_changes_only_through_an_authorised_change(
    planning: Planning,
) -> None:
    app, rid = planning.app, planning.plan().id
    with acting(planning.RITA):
        app.add_work_item(rid, "Login page", "")
    planning.approve(rid)
    with acting(planning.RITA):
        app.schedule_release(rid, planning.window(40))
    refused(
        planning,
        "scope-change-needs-authorised-change",
        lambda: app.add_work_item(rid, "Late feature", ""),
    )
    pending = planning.change(release_id=rid)
    refused(
        planning,
        "scope-change-needs-authorised-change",
        lambda: app.add_work_item(rid, "Late feature", "", change_id=pending.id),
    )
    elsewhere = planning.authorised_change(planning.plan("Other").id)
    refused(
        planning,
        "scope-change-needs-authorised-change",
        lambda: app.add_work_item(rid, "Late feature", "", change_id=elsewhere.id),
    )
    naming_it = planning.authorised_change(rid)
    with acting(planning.RITA):
        release = app.add_work_item(rid, "Late feature", "", change_id=naming_it.id)
    assert [i.title for i in release.scope] == ["Login page", "Late feature"]


def test_work_is_an_ordered_backlog(planning: Planning) -> None:
    app, rid = planning.app, planning.plan().id
    with acting(planning.RITA):
        for title in ("a", "b", "c", "d"):
            release = app.add_work_item(rid, title, "")
        ids = {i.title: i.id for i in release.scope}
        app.move_work_item(rid, ids["d"], position=0)
        app.move_work_item(rid, ids["a"], direction="down")
        release = app.move_work_item(rid, ids["c"], direction="up")
    assert [i.title for i in release.scope] == ["d", "b", "c", "a"]
    with acting(planning.RITA):
        release = app.add_work_item(rid, "urgent", "", position=0)
        release = app.remove_work_item(rid, ids["b"])
    assert [i.title for i in release.scope] == ["urgent", "d", "c", "a"]


def test_a_critical_risk_not_accepted_blocks_the_deployment(planning: Planning) -> None:
    app, rid = planning.app, planning.plan().id
    planning.approve(rid)
    with acting(planning.RITA):
        app.schedule_release(rid, planning.window(40))
        app.start_release(rid)
        release = app.release(rid)
        release.note_risk_exposure(RiskExposure(3, 0, 20, unaccepted_critical=1))
        app.save(release)
    refused(planning, "critical-risk-open", lambda: app.mark_release_deployed(rid))
    with acting(planning.RITA):
        release = app.release(rid)
        release.note_risk_exposure(RiskExposure(3, 0, 20, unaccepted_critical=0))
        app.save(release)
        assert app.mark_release_deployed(rid).state.value == "Deployed"


def test_closing_needs_a_benefits_review_and_the_review_needs_actuals(planning: Planning) -> None:
    app, rid = planning.app, planning.plan().id
    planning.approve(rid)
    with acting(planning.RITA):
        app.schedule_release(rid, planning.window(40))
        app.start_release(rid)
        release = app.mark_release_deployed(rid)
    refused(planning, "benefits-review-first", lambda: app.close_release(rid))
    refused(planning, "benefits-unmeasured", lambda: app.review_benefits(rid, "done"))
    with acting(planning.RITA):
        app.record_actual(rid, release.benefits[0].id, Decimal(70), planning.TODAY)
        app.review_benefits(rid, "30 % fewer tickets")
        assert app.close_release(rid).state.value == "Closed"


def test_effort_must_fit_its_period(planning: Planning) -> None:
    rid = planning.plan().id
    start = planning.AHEAD.start
    one_week = Period(start, start + timedelta(days=6))  # five working days
    refused(
        planning,
        "effort-exceeds-period",
        lambda: planning.app.allocate_resources(rid, "ann", "dev", Decimal(6), one_week),
    )
    with acting(planning.RITA):
        release = planning.app.allocate_resources(rid, "ann", "dev", Decimal(5), one_week)
    assert [a.person for a in release.allocations] == ["ann"]


def test_benefits_are_not_assessed_by_whoever_stated_them(planning: Planning) -> None:
    app, rid = planning.app, planning.plan().id  # owned by rita
    ann = planning.as_("ann", "release-manager", "change-authority")
    with acting(ann):
        app.record_benefit(rid, "a", "x", Decimal(1), Decimal(2), planning.AHEAD.end)
    refused(
        planning,
        "self-assessment",
        lambda: app.assess_benefits(rid, Outcome.APPROVED, "mine"),
        by=ann,
    )
    rita = planning.as_("rita", "release-manager", "change-authority")
    refused(
        planning,
        "self-assessment",
        lambda: app.assess_benefits(rid, Outcome.APPROVED, "my release"),
        by=rita,
    )
    with acting(planning.CARL):
        assert app.assess_benefits(rid, Outcome.APPROVED, "independent").assessment is not None


def test_a_deployment_window_lies_ahead(planning: Planning) -> None:
    rid = planning.plan().id
    planning.approve(rid)
    refused(
        planning,
        "window-in-past",
        lambda: planning.app.schedule_release(rid, planning.window(-2)),
    )


def test_a_late_risk_report_does_not_overwrite_a_newer_one(planning: Planning) -> None:
    release = planning.plan()
    newer = RiskExposure(2, 0, 20, unaccepted_critical=1, register_version=7)
    older = RiskExposure(1, 0, 4, unaccepted_critical=0, register_version=5)
    with acting(planning.RITA):
        release.note_risk_exposure(newer)
        release.note_risk_exposure(older)
    assert release.exposure == newer


def test_a_release_plans_versions_only_for_cis_its_changes_touch(planning: Planning) -> None:
    release = planning.plan()
    planning.change(cis=("ci-app", "ci-db"), release_id=release.id)
    with acting(planning.RITA):
        planned = planning.app.plan_ci_version(release.id, "ci-app", "2.4.0")
    assert planned.ci_versions == {"ci-app": "2.4.0"}
    refused(
        planning,
        "ci-not-in-release",
        lambda: planning.app.plan_ci_version(release.id, "ci-web", "1.0"),
    )
    refused(planning, "ci-version", lambda: planning.app.plan_ci_version(release.id, "ci-db", " "))
    # Planning the same version again records nothing.
    head = planning.head()
    with acting(planning.RITA):
        planning.app.plan_ci_version(release.id, "ci-app", "2.4.0")
    assert planning.head() == head

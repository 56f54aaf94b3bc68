"""Planning over HTTP: the flows users follow, and the refusals they get."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from services.planning.tests.conftest import Api

AHEAD = date.today() + timedelta(days=90)


def release_body(name: str = "Spring") -> dict[str, Any]:
    return {
        "name": name,
        "owner": "rita",
        "priority": "high",
        "target_start": AHEAD.isoformat(),
        "target_end": (AHEAD + timedelta(days=30)).isoformat(),
    }


def window(days: int, hours: int = 4) -> dict[str, str]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=hours)).isoformat()}


def problem(response: Any, status: int, rule: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if rule:
        assert body["rule"] == rule, body
    return body


def planned(api: Api, name: str = "Spring") -> dict[str, Any]:
    response = api.post("/releases", release_body(name))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def approved(api: Api, name: str = "Spring") -> dict[str, Any]:
    rid = planned(api, name)["id"]
    assert (
        api.post(
            f"/releases/{rid}/budget/request", {"amount": "1000.00", "currency": "EUR"}
        ).status_code
        == 200
    )
    benefit = {
        "measure": "tickets",
        "unit": "per week",
        "baseline": "100",
        "target": "60",
        "due": (AHEAD + timedelta(days=90)).isoformat(),
    }
    assert api.post(f"/releases/{rid}/benefits", benefit).status_code == 201
    assessed = api.post(
        f"/releases/{rid}/benefits/assess", {"outcome": "approved", "reason": "ok"}, who=api.carl
    )
    assert assessed.status_code == 200, assessed.text
    allocated = api.post(f"/releases/{rid}/budget/allocate", {"amount": "900", "currency": "EUR"})
    assert allocated.status_code == 200, allocated.text
    return allocated.json()  # type: ignore[no-any-return]


def test_a_release_from_plan_to_close(api: Api) -> None:
    release = approved(api)
    rid = release["id"]
    assert release["state"] == "Approved"
    assert release["budget"]["allocated"] == {"amount": "900.00", "currency": "EUR"}
    for step, state in (("schedule", "Scheduled"), ("start", "InProgress"), ("deploy", "Deployed")):
        body = {"window": window(30)} if step == "schedule" else None
        response = api.post(f"/releases/{rid}/{step}", body)
        assert response.json()["state"] == state, response.text
    benefit_id = response.json()["benefits"][0]["id"]
    problem(api.post(f"/releases/{rid}/close"), 409, "benefits-review-first")
    api.post(
        f"/releases/{rid}/benefits/{benefit_id}/actual",
        {"actual": "70", "measured_on": date.today().isoformat()},
    )
    api.post(f"/releases/{rid}/benefits/review", {"summary": "75 % realised"}, who=api.carl)
    closed = api.post(f"/releases/{rid}/close")
    assert closed.json()["state"] == "Closed"
    benefits = api.get("/benefits").json()
    assert benefits[0]["realised_percent"] == "75.0"


def test_budget_allocation_is_refused_with_409_until_benefits_are_approved(api: Api) -> None:
    rid = planned(api)["id"]
    api.post(f"/releases/{rid}/budget/request", {"amount": "10", "currency": "EUR"})
    before = api.head
    body = problem(
        api.post(f"/releases/{rid}/budget/allocate", {"amount": "10", "currency": "EUR"}),
        409,
        "benefits-not-approved",
    )
    assert body["type"] == "urn:changeledger:problem:benefits-not-approved"
    assert api.head == before


@pytest.mark.parametrize(
    "money",
    [
        {"amount": 10.123, "currency": "EUR"},
        {"amount": "-5", "currency": "EUR"},
        {"amount": "10", "currency": "euro"},
        {"amount": "NaN", "currency": "EUR"},
        {"amount": "1e400", "currency": "EUR"},
        {"amount": "10"},
    ],
)
def test_money_is_a_decimal_with_a_currency(api: Api, money: dict[str, Any]) -> None:
    rid = planned(api)["id"]
    before = api.head
    problem(api.post(f"/releases/{rid}/budget/request", money), 422)
    assert api.head == before


@pytest.mark.parametrize(
    "change",
    [
        {"target_start": "2001-01-01"},
        {"target_end": "2000-01-01"},
        {"priority": "urgent"},
        {"name": ""},
        {"name": "x" * 201},
        {"unexpected": "field"},
    ],
)
def test_bad_release_input_is_refused(api: Api, change: dict[str, Any]) -> None:
    problem(api.post("/releases", release_body() | change), 422)
    assert api.head == 0


def test_commands_need_their_roles(api: Api) -> None:
    problem(api.post("/releases", release_body(), who=api.vic), 403, "role-required")
    change = api.post(
        "/change-requests",
        {
            "type": "normal",
            "title": "t",
            "affected_cis": ["ci-1"],
            "impact": "low",
            "urgency": "low",
            "backout_plan": "undo",
            "reason": "r",
        },
    ).json()
    api.post(f"/change-requests/{change['id']}/submit")
    api.post(f"/change-requests/{change['id']}/assess", {"risk": "low", "notes": "n"}, who=api.carl)
    authorise = {"reason": "ok", "window": window(10)}
    problem(api.post(f"/change-requests/{change['id']}/authorise", authorise), 403, "role-required")
    # The change authority may not authorise a change it raised itself.
    own = api.post(
        "/change-requests",
        {
            "type": "emergency",
            "title": "t",
            "affected_cis": ["ci-1"],
            "impact": "high",
            "urgency": "high",
            "backout_plan": "undo",
            "reason": "r",
        },
        who=api.carl,
    ).json()
    api.post(f"/change-requests/{own['id']}/submit", who=api.carl)
    problem(
        api.post(f"/change-requests/{own['id']}/authorise", authorise, who=api.carl),
        403,
        "raiser-cannot-authorise",
    )
    authorised = api.post(f"/change-requests/{change['id']}/authorise", authorise, who=api.carl)
    assert authorised.json()["state"] == "Scheduled"
    assert authorised.json()["ci_scope"] == ["ci-1"]


def test_time_travel_and_optimistic_concurrency(api: Api) -> None:
    release = planned(api)
    rid = release["id"]
    before_hold = datetime.now(UTC).isoformat()
    held = api.post(f"/releases/{rid}/hold", {"reason": "wait"}, headers={"If-Match": '"1"'})
    assert held.json()["state"] == "OnHold"
    stale = api.post(f"/releases/{rid}/resume", None, headers={"If-Match": '"1"'})
    problem(stale, 412, "version-mismatch")
    past = api.get(f"/releases/{rid}", {"as_of": before_hold})
    assert past.json()["state"] == "Planned"
    assert past.headers["etag"] == '"1"'
    assert api.get(f"/releases/{rid}").json()["state"] == "OnHold"
    listed_then = api.get("/releases", {"as_of": before_hold}).json()
    assert [r["state"] for r in listed_then] == ["Planned"]
    problem(api.get(f"/releases/{rid}", {"as_of": "2026-01-01T00:00:00"}), 422)  # no time zone


def test_an_idempotency_key_plans_one_release_however_often_it_is_sent(api: Api) -> None:
    first = api.post("/releases", release_body(), headers={"Idempotency-Key": "plan-spring"})
    again = api.post("/releases", release_body(), headers={"Idempotency-Key": "plan-spring"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert len(api.get("/releases").json()) == 1


def test_listings_come_a_page_at_a_time_with_the_total_and_links(api: Api) -> None:
    names = [f"R{n}" for n in range(5)]
    for name in names:
        planned(api, name)
    everything = api.get("/releases")
    assert [r["name"] for r in everything.json()] == names
    assert everything.headers["x-total-count"] == "5"
    assert "link" not in everything.headers

    first = api.get("/releases", {"limit": "2"})
    assert [r["name"] for r in first.json()] == names[:2]
    assert first.headers["x-total-count"] == "5"
    assert set(first.links) == {"next"}
    followed, response = [], first
    while True:
        followed += [r["name"] for r in response.json()]
        if "next" not in response.links:
            break
        response = api.client.get(response.links["next"]["url"], headers=api.vic)
    assert followed == names
    assert set(response.links) == {"prev"}
    assert "offset=2" in response.links["prev"]["url"]
    # Filters stay in the links.
    by_owner = api.get("/releases", {"limit": "1", "owner": "rita"})
    assert "owner=rita" in by_owner.links["next"]["url"]
    assert api.get("/releases", {"offset": "9"}).json() == []
    # Listings that are not of aggregates are paged alike.
    for days in (100, 110):
        freeze = {"name": f"Peak {days}", "window": window(days, 48), "reason": "sales"}
        assert api.post("/freeze-windows", freeze, who=api.carl).status_code == 201
    second = api.get("/freeze-windows", {"limit": "1", "offset": "1"})
    assert [f["name"] for f in second.json()] == ["Peak 110"]
    assert second.headers["x-total-count"] == "2"
    assert set(second.links) == {"prev"}


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "1001"}, {"offset": "-1"}, {"limit": "many"}]
)
def test_a_bad_page_is_refused(api: Api, params: dict[str, str]) -> None:
    problem(api.get("/releases", params), 422)


def test_the_calendar_and_loads_answer_for_a_period(api: Api) -> None:
    rid = approved(api)["id"]
    api.post(
        f"/releases/{rid}/allocations",
        {
            "person": "ann",
            "role": "dev",
            "effort_days": "3",
            "period_start": AHEAD.isoformat(),
            "period_end": (AHEAD + timedelta(days=13)).isoformat(),
        },
    )
    api.post(
        "/freeze-windows",
        {"name": "Peak", "window": window(100, 48), "reason": "sales"},
        who=api.carl,
    )
    start, end = date.today().isoformat(), (date.today() + timedelta(days=200)).isoformat()
    calendar = api.get("/calendar", {"from": start, "to": end}).json()
    assert [r["id"] for r in calendar["releases"]] == [rid]
    assert [f["name"] for f in calendar["freeze_windows"]] == ["Peak"]
    loads = api.get("/resources/loads", {"from": start, "to": end}).json()
    assert loads[0]["person"] == "ann"
    problem(api.get("/calendar", {"from": end, "to": start}), 422, "period-order")
    problem(api.get("/calendar", {"from": "2020-01-01", "to": "2030-01-01"}), 422)

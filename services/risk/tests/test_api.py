"""Risk over HTTP: the register, the heat map, top risks and overdue mitigations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from changeledger.risk.domain import RiskRegister
from changeledger.runtime.domain import Actor, Provenance, acting

if TYPE_CHECKING:
    from services.risk.tests.conftest import Api


def register(api: Api) -> str:
    release_id = uuid4()
    app = api.client.app.state.application  # type: ignore[attr-defined]
    with acting(Provenance(Actor("service:risk", ("service",)), "c", "test")):
        app.save(RiskRegister(release_id=release_id, release_name="Spring"))
    return str(release_id)


def identify(api: Api, release_id: str | None, **extra: Any) -> dict[str, Any]:
    body = {
        "cause": "c",
        "event": "e",
        "effect": "f",
        "category": "technical",
        "owner": "owen",
        "release_id": release_id,
    } | extra
    response = api.post("/risks", body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_register_shows_open_risks_issues_and_exposure(api: Api) -> None:
    rid = register(api)
    risk = identify(api, rid)
    assessed = api.post(f"/risks/{risk['id']}/assess", {"inherent": {"likelihood": 4, "impact": 5}})
    assert assessed.json()["rating"] == "Critical"
    assert assessed.json()["escalations"] == [{"reason": "its rating reached Critical"}]
    api.post(
        "/issues", {"title": "Disk full", "severity": "high", "owner": "owen", "release_id": rid}
    )
    view = api.get(f"/registers/{rid}").json()
    assert view["exposure"] == {
        "open_risks": 1,
        "open_issues": 1,
        "highest_score": 20,
        "unaccepted_critical": 1,
    }
    assert [r["id"] for r in view["risks"]] == [risk["id"]]
    assert len(view["issues"]) == 1


def test_heatmap_top_and_overdue(api: Api) -> None:
    rid = register(api)
    cells = [(1, 1), (3, 4), (3, 4), (5, 5)]
    ids = []
    for likelihood, impact in cells:
        risk = identify(api, rid)
        ids.append(risk["id"])
        api.post(
            f"/risks/{risk['id']}/assess",
            {
                "inherent": {"likelihood": likelihood, "impact": impact},
                "residual": {"likelihood": 1, "impact": impact},
            },
        )
    inherent = api.get("/heatmap", {"release_id": rid, "basis": "inherent"}).json()
    assert inherent["likelihood_by_impact"][2][3] == 2
    assert inherent["likelihood_by_impact"][4][4] == 1
    residual = api.get("/heatmap", {"release_id": rid}).json()["likelihood_by_impact"]
    assert sum(residual[0]) == 4
    top = api.get("/risks/top", {"limit": "2"}).json()
    # Ranked by the current (residual) score: 1x5 first, then the older of the two 1x4.
    assert [r["id"] for r in top] == [ids[3], ids[1]]
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    api.post(f"/risks/{ids[0]}/mitigations", {"action": "patch", "owner": "dan", "due": yesterday})
    overdue = api.get("/mitigations/overdue").json()
    assert [o["mitigation"]["action"] for o in overdue] == ["patch"]


def test_refusals_are_problems_that_record_nothing(api: Api) -> None:
    rid = register(api)
    risk = identify(api, rid)
    before = api.head
    bad = [
        ("/risks", {"cause": "c"}),
        (f"/risks/{risk['id']}/assess", {"inherent": {"likelihood": 6, "impact": 1}}),
        (f"/risks/{risk['id']}/response", {"response": "ignore"}),
        (f"/risks/{risk['id']}/response", {"response": "accept", "reason": "x"}),  # Identified
    ]
    for path, body in bad:
        response = api.post(path, body)
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"] == "application/problem+json"
    unknown = api.post(
        "/risks",
        {
            "cause": "c",
            "event": "e",
            "effect": "f",
            "category": "cost",
            "owner": "o",
            "release_id": str(uuid4()),
        },
    )
    assert unknown.json()["rule"] == "release-unknown"
    viewer = api.post(f"/risks/{risk['id']}/close", {"reason": "x"}, who=api.who("vic", "viewer"))
    assert viewer.status_code == 403
    assert api.head == before


def test_every_get_accepts_as_of(api: Api) -> None:
    rid = register(api)
    risk = identify(api, rid)
    before = datetime.now(UTC).isoformat()
    api.post(f"/risks/{risk['id']}/assess", {"inherent": {"likelihood": 2, "impact": 2}})
    assert api.get(f"/risks/{risk['id']}", {"as_of": before}).json()["state"] == "Identified"
    assert api.get(f"/risks/{risk['id']}").json()["state"] == "Assessed"
    then = api.get("/heatmap", {"release_id": rid, "as_of": before}).json()
    assert sum(map(sum, then["likelihood_by_impact"])) == 0

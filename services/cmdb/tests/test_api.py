"""The CMDB's HTTP API: problems for every refusal, nothing recorded for bad input, and
the queries an operator and an auditor use."""

from __future__ import annotations

from typing import Any

import pytest

PROBLEM = "application/problem+json"


def ci_body(key: str, change_id: Any, **fields: Any) -> dict[str, Any]:
    return {
        "key": key,
        "type": "application",
        "name": key.title(),
        "owner": "olga",
        "change_id": str(change_id) if change_id else None,
        **fields,
    }


def test_an_unauthorised_write_is_a_problem_naming_the_failed_condition(api: Any) -> None:
    change_id = api.planning.raise_change(("web",))
    answer = api.post("/cis", ci_body("web", change_id))
    assert answer.status_code == 403
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["type"].endswith("change-not-authorised")
    refusals = api.get("/refusals").json()
    assert [(r["ci"], r["rule"], r["actor"], r["id"]) for r in refusals] == [
        ("web", "change-not-authorised", "mo", problem["refusal_id"])
    ]


def test_a_write_with_no_change_at_all_is_refused_and_recorded(api: Any) -> None:
    answer = api.post("/cis", ci_body("web", None))
    assert (answer.status_code, answer.json()["type"].split(":")[-1]) == (403, "change-required")
    assert len(api.get("/refusals", {"ci": "web"}).json()) == 1


@pytest.mark.parametrize(
    ("who", "status"), [(("vic", "viewer"), 403), (("rita", "release-manager"), 403)]
)
def test_a_caller_without_a_cmdb_role_is_refused_before_anything_is_recorded(
    api: Any, who: tuple[str, ...], status: int
) -> None:
    change_id = api.planning.authorised_change("web")
    head = api.head
    answer = api.post("/cis", ci_body("web", change_id), who=api.who(*who))
    assert answer.status_code == status
    assert api.head == head


@pytest.mark.parametrize(
    "body",
    [
        {"key": "has space"},
        {"key": ""},
        {"type": "mainframe-ish"},
        {"attributes": {"blob": "x" * 20_000}},
        {"attributes": {"_type_": "date_iso", "_data_": "x"}},
        {"version": "1 0"},
        {"lifecycle": "Retired"},
        {"unexpected": 1},
    ],
)
def test_bad_input_is_a_4xx_and_records_nothing(api: Any, body: dict[str, Any]) -> None:
    change_id = api.planning.authorised_change("web")
    head = api.head
    answer = api.post("/cis", {**ci_body("web", change_id), **body})
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert api.head == head


def test_a_ci_is_registered_read_updated_and_versioned(api: Any) -> None:
    change_id = api.planning.authorised_change("web", "db")
    created = api.post("/cis", ci_body("web", change_id, attributes={"port": 443}))
    assert created.status_code == 201, created.text
    assert created.json()["last_change_id"] == str(change_id)
    read = api.get("/cis/web")
    assert read.headers["etag"] == '"1"'
    patched = api.client.patch(
        "/cis/web",
        json={"change_id": str(change_id), "attributes": {"port": None, "tier": "gold"}},
        headers={**api.who("mo", "cmdb-maintainer"), "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["attributes"] == {"tier": "gold"}
    stale = api.client.put(
        "/cis/web/version",
        json={"change_id": str(change_id), "version": "2.0"},
        headers={**api.who("mo", "cmdb-maintainer"), "If-Match": '"1"'},
    )
    assert stale.status_code == 412
    versioned = api.client.put(
        "/cis/web/version",
        json={"change_id": str(change_id), "version": "2.0"},
        headers=api.who("mo", "cmdb-maintainer"),
    )
    assert (versioned.json()["version"], versioned.json()["revision"]) == ("2.0", 3)
    diff = api.get("/cis/web/diff").json()
    assert [(d["event"], d["actor"], d["change_id"]) for d in diff] == [
        ("Registered", "mo", str(change_id)),
        ("Updated", "mo", str(change_id)),
        ("VersionSet", "mo", str(change_id)),
    ]
    assert api.get("/cis/nope").status_code == 404
    assert (
        api.get(
            "/cis/web/diff", {"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"}
        ).status_code
        == 422
    )


def test_graph_impact_and_relationships(api: Any) -> None:
    change_id = api.planning.authorised_change("web", "api", "db", "vm")
    for key, kind in (("web", "application"), ("api", "service"), ("db", "database")):
        api.post("/cis", ci_body(key, change_id, type=kind))
    api.post("/cis", ci_body("vm", change_id, type="server"))
    for source, kind, target in (
        ("web", "depends_on", "api"),
        ("api", "depends_on", "db"),
        ("db", "runs_on", "vm"),
    ):
        answer = api.post(
            "/relationships",
            {"source": source, "type": kind, "target": target, "change_id": str(change_id)},
        )
        assert answer.status_code == 201, answer.text
    graph = api.get("/graph", {"type": ["application", "service"]}).json()
    assert [n["key"] for n in graph["nodes"]] == ["api", "web"]
    assert graph["edges"] == [{"source": "web", "type": "depends_on", "target": "api"}]
    impact = api.get("/impact", {"ci": "vm", "direction": "up"}).json()
    assert [(i["ci"], i["distance"]) for i in impact["impacted"]] == [
        ("db", 1),
        ("api", 2),
        ("web", 3),
    ]
    assert impact["impacted"][-1]["via"] == {
        "ci": "api",
        "relationship": "depends_on",
        "direction": "up",
    }
    assert "path" not in impact["impacted"][-1]
    with_paths = api.get("/impact", {"ci": "vm", "paths": "true"}).json()
    assert [h["ci"] for h in with_paths["impacted"][-1]["path"]] == ["db", "api", "web"]
    only_runs_on = api.get("/impact", {"ci": "vm", "relationship_type": "runs_on"}).json()
    assert only_runs_on["count"] == 1
    assert api.get("/impact", {"ci": "ghost"}).status_code == 404
    assert api.get("/impact", {"ci": "vm", "depth": 0}).status_code == 422
    relationships = api.get("/cis/api/relationships").json()
    assert [r["target"] for r in relationships["outgoing"]] == ["db"]
    assert [r["source"] for r in relationships["incoming"]] == ["web"]
    self_loop = api.post(
        "/relationships",
        {"source": "db", "type": "part_of", "target": "db", "change_id": str(change_id)},
    )
    assert (self_loop.status_code, self_loop.json()["type"].split(":")[-1]) == (409, "self-loop")


def test_discovery_records_drift_that_the_drift_listing_shows(api: Any) -> None:
    change_id = api.planning.authorised_change("web")
    api.post("/cis", ci_body("web", change_id, version="1.0"))
    answer = api.post(
        "/discovery",
        {"discovered_by": "scanner", "observed": [{"key": "web", "version": "1.2"}]},
    )
    assert answer.status_code == 201, answer.text
    drift = api.get("/drift", {"ci": "web"}).json()
    assert [(d["field"], d["authorised"], d["observed"], d["discovered_by"]) for d in drift] == [
        ("version", "1.0", "1.2", "scanner")
    ]
    assert api.get("/cis/web").json()["version"] == "1.0"


def test_the_bootstrap_import_needs_the_cmdb_admin_role(api: Any) -> None:
    cis = [ci_body("web", None), ci_body("db", None, type="database")]
    for ci in cis:
        ci.pop("change_id")
    body = {
        "reason": "initial load from the old CMDB",
        "cis": cis,
        "relationships": [{"source": "web", "type": "depends_on", "target": "db"}],
    }
    maintainer = api.post("/bootstrap", body)
    assert maintainer.status_code == 403
    admin = api.post("/bootstrap", body, who=api.who("ada", "cmdb-admin"))
    assert admin.status_code == 201, admin.text
    assert admin.json()["cis"] == 2
    again = api.post("/bootstrap", body, who=api.who("ada", "cmdb-admin"))
    assert (again.status_code, again.json()["type"].split(":")[-1]) == (409, "cmdb-not-empty")


def test_the_change_view_lists_the_writes_made_under_it(api: Any) -> None:
    change_id = api.planning.authorised_change("web")
    api.post("/cis", ci_body("web", change_id))
    change = api.get(f"/changes/{change_id}").json()
    assert (change["status"], change["ci_scope"], change["open_for_writes"]) == (
        "authorised",
        ["web"],
        True,
    )
    assert [(w["ci"], w["what"]) for w in change["writes"]] == [
        ("web", "ConfigurationItem.Registered")
    ]
    registered_at = change["writes"][0]["at"]
    renamed = api.client.patch(
        "/cis/web",
        json={"change_id": str(change_id), "name": "Web shop"},
        headers=api.who("mo", "cmdb-maintainer"),
    )
    assert renamed.status_code == 200, renamed.text
    listed = {c["change_id"]: c for c in api.get("/changes").json()}
    assert len(listed[str(change_id)]["writes"]) == 2
    then = {c["change_id"]: c for c in api.get("/changes", {"as_of": registered_at}).json()}
    assert [w["what"] for w in then[str(change_id)]["writes"]] == ["ConfigurationItem.Registered"]


def test_a_remembered_impact_answer_follows_the_next_change(api: Any) -> None:
    change_id = api.planning.authorised_change("app", "db", "report")
    for key in ("app", "db", "report"):
        api.post("/cis", ci_body(key, change_id))
    edge = {"type": "depends_on", "target": "db", "change_id": str(change_id)}
    api.post("/relationships", {"source": "app", **edge})
    assert api.get("/impact", {"ci": "db"}).json()["count"] == 1
    assert api.get("/impact", {"ci": "db"}).json()["count"] == 1  # remembered
    api.post("/relationships", {"source": "report", **edge})
    assert [i["ci"] for i in api.get("/impact", {"ci": "db"}).json()["impacted"]] == [
        "app",
        "report",
    ]

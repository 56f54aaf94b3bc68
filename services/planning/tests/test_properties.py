"""Random sequences of commands over HTTP: none yields a 500, and replaying the store
gives back exactly the state that was served."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from changeledger.planning.api.views import ChangeView, ReleaseView
from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import ChangeRequest, Release
from changeledger.planning.service import definition
from changeledger.runtime.auth import Authenticator
from changeledger.runtime.service import create_service
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import open_store

END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)
TODAY = date.today()

text = st.text(min_size=0, max_size=12)
days = st.integers(min_value=-30, max_value=400)
amount = st.one_of(
    st.decimals(min_value=0, max_value=10**6, places=2).map(str),
    st.sampled_from(["-1", "abc", "1e9", "0.001"]),
)
currency = st.sampled_from(["EUR", "USD", "eur", "E"])
who = st.sampled_from(["rita", "carl", "vic"])


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def window(offset: int, hours: int) -> dict[str, str]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=offset)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=hours)).isoformat()}


release_commands = st.one_of(
    st.tuples(st.just("plan"), text, days, st.integers(0, 60)),
    st.tuples(st.just("budget/request"), amount, currency),
    st.tuples(st.just("benefits"), text, st.decimals(0, 1000, places=1).map(str)),
    st.tuples(st.just("benefits/assess"), st.sampled_from(["approved", "rejected"]), text),
    st.tuples(st.just("budget/allocate"), amount, currency),
    st.tuples(st.just("spend"), amount, currency),
    st.tuples(st.just("schedule"), days, st.integers(-2, 30)),
    st.tuples(st.sampled_from(["start", "deploy", "close", "resume"])),
    st.tuples(st.sampled_from(["hold", "cancel"]), text),
    st.tuples(st.just("work-items"), text, st.integers(-1, 5)),
    st.tuples(st.just("allocations"), text, st.integers(-1, 30), days),
)
change_commands = st.one_of(
    st.tuples(
        st.just("raise"),
        st.sampled_from(["standard", "normal", "emergency"]),
        st.lists(st.sampled_from(["ci-1", "ci-2", "ci-3"]), max_size=3),
        st.booleans(),
    ),
    st.tuples(st.sampled_from(["submit", "implement", "close"])),
    st.tuples(st.just("assess"), st.sampled_from(["low", "high"])),
    st.tuples(st.sampled_from(["authorise", "schedule"]), days, st.integers(-1, 12)),
    st.tuples(st.sampled_from(["reject", "cancel"]), text),
    st.tuples(st.just("complete"), st.sampled_from(["successful", "failed"])),
)
steps = st.lists(
    st.tuples(
        st.sampled_from(["release", "change", "freeze"]),
        st.one_of(release_commands, change_commands),
        who,
        st.integers(0, 10),
    ),
    max_size=30,
)


class Session:
    def __init__(self, client: TestClient, settings: Settings) -> None:
        self.client = client
        auth = Authenticator(settings)
        roles = {"rita": ("release-manager",), "carl": ("change-authority",), "vic": ("viewer",)}
        self.tokens = {
            sub: {"Authorization": f"Bearer {auth.mint(sub, r)}"} for sub, r in roles.items()
        }
        self.releases: list[str] = []
        self.changes: list[str] = []
        self.served: dict[str, dict[str, Any]] = {}

    def post(self, path: str, body: Any, sub: str) -> None:
        response = self.client.post(path, json=body, headers=self.tokens[sub])
        assert response.status_code < 500, (path, body, response.text)
        served = response.json()
        if response.status_code < 300 and served.get("id") in {*self.releases, *self.changes}:
            self.served[served["id"]] = served

    def run(self, kind: str, command: tuple[Any, ...], sub: str, pick: int) -> None:
        name = command[0]
        if kind == "freeze":
            self.post(
                "/freeze-windows",
                {"name": "f", "window": window(pick * 10, 24), "reason": "r"},
                sub,
            )
        elif name == "plan":
            _, title, start, length = command
            body = {
                "name": title,
                "owner": "rita",
                "priority": "low",
                "target_start": day(start),
                "target_end": day(start + length),
            }
            response = self.client.post("/releases", json=body, headers=self.tokens[sub])
            assert response.status_code < 500, response.text
            if response.status_code == 201:
                self.releases.append(response.json()["id"])
                self.served[response.json()["id"]] = response.json()
        elif name == "raise":
            _, type_, cis, for_release = command
            body = {
                "type": type_,
                "title": "t",
                "affected_cis": cis,
                "impact": "low",
                "urgency": "high",
                "backout_plan": "undo",
                "reason": "r",
                "target_release_id": self.releases[pick % len(self.releases)]
                if for_release and self.releases
                else None,
            }
            response = self.client.post("/change-requests", json=body, headers=self.tokens[sub])
            assert response.status_code < 500, response.text
            if response.status_code == 201:
                self.changes.append(response.json()["id"])
                self.served[response.json()["id"]] = response.json()
        elif kind == "release" and self.releases and name not in CHANGE_ONLY:
            self.post(
                f"/releases/{self.releases[pick % len(self.releases)]}/{name}",
                release_body(command),
                sub,
            )
        elif self.changes and name in CHANGE_ONLY | {"close", "cancel", "schedule"}:
            self.post(
                f"/change-requests/{self.changes[pick % len(self.changes)]}/{name}",
                change_body(command),
                sub,
            )


CHANGE_ONLY = {"submit", "implement", "assess", "authorise", "reject", "complete"}


def release_body(command: tuple[Any, ...]) -> Any:
    name, *args = command
    if name in ("budget/request", "budget/allocate"):
        return {"amount": args[0], "currency": args[1]}
    if name == "spend":
        return {"amount": {"amount": args[0], "currency": args[1]}, "description": "d"}
    if name == "benefits":
        return {
            "measure": args[0],
            "unit": "u",
            "baseline": "0",
            "target": args[1],
            "due": day(200),
        }
    if name == "benefits/assess":
        return {"outcome": args[0], "reason": args[1]}
    if name == "schedule":
        return {"window": window(args[0], args[1])}
    if name in ("hold", "cancel"):
        return {"reason": args[0]}
    if name == "work-items":
        return {"title": args[0], "position": args[1]}
    if name == "allocations":
        return {
            "person": "ann",
            "role": "dev",
            "effort_days": str(args[1]),
            "period_start": day(args[2]),
            "period_end": day(args[2] + 13),
        }
    return None


def change_body(command: tuple[Any, ...]) -> Any:
    name, *args = command
    if name == "assess":
        return {"risk": args[0], "notes": "n"}
    if name in ("authorise", "schedule"):
        body = {"window": window(args[0], args[1])}
        return body | {"reason": "ok"} if name == "authorise" else body
    if name in ("reject", "cancel"):
        return {"reason": args[0]}
    if name == "complete":
        return {"outcome": args[0], "notes": ""}
    return None


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps)
def test_no_sequence_of_commands_yields_a_500_and_replay_gives_what_was_served(
    sequence: list[tuple[str, tuple[Any, ...], str, int]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings_ = Settings(data_dir=Path(folder), kafka_bootstrap_servers="127.0.0.1:1")
        with TestClient(create_service(definition, settings_)) as client:
            session = Session(client, settings_)
            for kind, command, sub, pick in sequence:
                session.run(kind, command, sub, pick)
            served = session.served
        replayed = open_store(PlanningApplication, "planning", settings_)
        try:
            for aggregate_id, view in served.items():
                if aggregate_id in session.releases:
                    release = replayed.get(_uuid(aggregate_id), Release, as_of=END_OF_TIME)
                    assert ReleaseView.of(release).model_dump(mode="json") == view
                else:
                    change = replayed.get(_uuid(aggregate_id), ChangeRequest, as_of=END_OF_TIME)
                    assert ChangeView.of(change).model_dump(mode="json") == view
        finally:
            replayed.close()


def _uuid(value: str) -> Any:
    from uuid import UUID

    return UUID(value)

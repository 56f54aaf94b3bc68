"""The HTTP conventions every service gets from the runtime: auth, roles, problems, limits."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import pytest
from eventsourcing.domain import event
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from changeledger.runtime.auth import Authenticator
from changeledger.runtime.domain import Aggregate, RuleViolated
from changeledger.runtime.http import Command, query, requires
from changeledger.runtime.service import (
    GIL_SWITCH_SECONDS,
    ServiceDefinition,
    application,
    create_service,
)
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import ServiceApplication


class Note(Aggregate):
    class Written(Aggregate.Created):
        text: str

    @event(Written)
    def __init__(self, text: str) -> None:
        if text == "forbidden":
            raise RuleViolated("that text is not allowed", rule="no-forbidden-text")
        self.text = text

    class Edited(Aggregate.Event):
        text: str

    @event(Edited)
    def edit(self, text: str) -> None:
        self.text = text


class Notes(ServiceApplication):
    def write(self, text: str) -> Note:
        note = Note(text=text)
        self.save(note)
        return note

    racing = True

    def edit_while_a_policy_writes(self, note_id: UUID, text: str) -> Note:
        note = self.get(note_id, Note)
        if self.racing:  # the first time, someone else saves in between
            self.racing = False
            other = self.get(note_id, Note)
            other.edit("changed by a policy")
            self.save(other)
        note.edit(text)
        self.save(note)
        return note

    def edit(self, note_id: UUID, text: str, expected_version: int | None = None) -> Note:
        note = self.get(note_id, Note, expected_version=expected_version)
        note.edit(text)
        self.save(note)
        return note


class NoteView(BaseModel):
    id: UUID
    version: int
    text: str

    @classmethod
    def of(cls, note: Note) -> NoteView:
        return cls(id=note.id, version=note.version, text=note.text)


class WriteNote(BaseModel):
    text: str = Field(min_length=1, max_length=50)


router = APIRouter()
NotesApp = Annotated[Notes, Depends(application)]


@router.post("/notes", status_code=201)
async def write_note(
    body: WriteNote, app: NotesApp, command: Command = requires("release-manager")
) -> dict[str, object]:
    note = await command.run(app.write, body.text)
    return {"id": str(note.id), "sub": command.actor.sub}


@router.post("/notes/{note_id}/edit", response_model=NoteView)
async def edit_note(
    note_id: UUID, body: WriteNote, app: NotesApp, command: Command = requires("release-manager")
) -> NoteView:
    note = await command.run(app.edit, note_id, body.text, command.expected_version)
    return NoteView.of(note)


@router.post("/notes/{note_id}/edit-racing", response_model=NoteView)
async def edit_racing(
    note_id: UUID, body: WriteNote, app: NotesApp, command: Command = requires("release-manager")
) -> NoteView:
    return NoteView.of(await command.run(app.edit_while_a_policy_writes, note_id, body.text))


@router.post("/keyed-notes", status_code=201, response_model=NoteView)
async def write_keyed_note(
    body: WriteNote, app: NotesApp, command: Command = requires("release-manager")
) -> NoteView:
    return NoteView.of(await command.run(app.write, body.text))


@router.post("/where-commands-run")
async def where_commands_run(command: Command = requires("release-manager")) -> dict[str, bool]:
    return {"on_the_loop": await command.run(threading.get_ident) == threading.get_ident()}


@router.get("/notes/{note_id}")
async def read_note(note_id: UUID, app: NotesApp) -> dict[str, object]:
    note = await query(app.get, note_id, Note)
    events: list[Any] = await query(lambda: list(app.events.get(note_id)))
    provenance = events[0].provenance
    return {
        "text": note.text,
        "actor": provenance.actor.sub,
        "correlation_id": provenance.correlation_id,
        "command": provenance.command,
    }


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path,
        kafka_bootstrap_servers="127.0.0.1:1",
        max_body_bytes=2048,
    )
    api = create_service(ServiceDefinition("notes", Notes, routers=[router]), settings)
    with TestClient(api) as client:
        client.headers["Authorization"] = "Bearer " + Authenticator(settings).mint(
            "alice", ("release-manager",)
        )
        yield client


def assert_problem(response: object, status: int, slug: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    if slug:
        assert body["type"] == f"urn:changeledger:problem:{slug}"
    return body


def test_a_command_records_the_actor_from_the_token_and_the_correlation_id(
    client: TestClient,
) -> None:
    created = client.post("/notes", json={"text": "hello"}, headers={"X-Correlation-Id": "c-42"})
    assert created.status_code == 201
    assert created.headers["x-correlation-id"] == "c-42"
    note = client.get(f"/notes/{created.json()['id']}").json()
    assert note == {
        "text": "hello",
        "actor": "alice",
        "correlation_id": "c-42",
        "command": "write_note",
    }


def test_commands_on_a_sqlite_store_run_on_the_event_loop(client: TestClient) -> None:
    assert client.post("/where-commands-run").json() == {"on_the_loop": True}


def test_requests_without_a_valid_token_get_401(client: TestClient) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer not-a-jwt"}):
        response = client.post("/notes", json={"text": "x"}, headers=headers)
        body = assert_problem(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert body


def test_a_missing_role_gets_403_and_records_nothing(client: TestClient, tmp_path: object) -> None:
    viewer = Authenticator(client.app.state.settings).mint("vic", ("viewer",))  # type: ignore[attr-defined]
    response = client.post(
        "/notes", json={"text": "x"}, headers={"Authorization": f"Bearer {viewer}"}
    )
    assert_problem(response, 403, "role-required")
    app = client.app.state.application  # type: ignore[attr-defined]
    assert app.process_recorder.max_notification_id() is None


def test_a_broken_rule_gets_409_naming_the_rule(client: TestClient) -> None:
    body = assert_problem(client.post("/notes", json={"text": "forbidden"}), 409)
    assert body["rule"] == "no-forbidden-text"


@pytest.mark.parametrize(
    ("kwargs", "status", "slug"),
    [
        ({"json": {"text": ""}}, 422, "invalid-request"),
        ({"json": {}}, 422, "invalid-request"),
        ({"json": ["a list"]}, 422, "invalid-request"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, None),
        ({"content": b"text=x", "headers": {"content-type": "text/plain"}}, 415, None),
        ({"json": {"text": "x" * 5000}}, 413, "body-too-large"),
    ],
)
def test_bad_input_gets_a_clear_4xx_problem_and_records_nothing(
    client: TestClient, kwargs: dict[str, object], status: int, slug: str | None
) -> None:
    assert_problem(client.post("/notes", **kwargs), status, slug)
    app = client.app.state.application  # type: ignore[attr-defined]
    assert app.process_recorder.max_notification_id() is None


def test_a_streamed_body_over_the_limit_gets_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        yield b"x" * 4096
        yield b'"}'

    response = client.post("/notes", content=chunks(), headers={"content-type": "application/json"})
    assert_problem(response, 413, "body-too-large")


def test_unknown_routes_methods_and_ids_get_problems(client: TestClient) -> None:
    assert_problem(client.get("/nowhere"), 404)
    assert_problem(client.delete("/notes"), 405)
    assert_problem(client.get("/notes/not-a-uuid"), 422)
    assert_problem(client.get(f"/notes/{UUID(int=5)}"), 404, "not-found")


def test_health_readiness_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.post("/notes", json={"text": "counted"}).status_code == 201
    ready = client.get("/readyz")
    assert ready.status_code == 503  # no broker in this test
    assert ready.json()["store"]["ready"] is True
    assert ready.json()["store"]["saves"] >= ready.json()["store"]["writes"] >= 1
    assert ready.json()["kafka"]["ready"] is False
    assert client.get("/docs").status_code == 200
    assert "/notes" in client.get("/openapi.json").json()["paths"]


def test_if_match_refuses_a_stale_version_and_records_nothing(client: TestClient) -> None:
    note = client.post("/notes", json={"text": "v1"}).json()
    edited = client.post(
        f"/notes/{note['id']}/edit", json={"text": "v2"}, headers={"If-Match": '"1"'}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2
    stale = client.post(
        f"/notes/{note['id']}/edit", json={"text": "v3"}, headers={"If-Match": '"1"'}
    )
    body = assert_problem(stale, 412, "version-mismatch")
    assert body["current_version"] == 2
    assert client.get(f"/notes/{note['id']}").json()["text"] == "v2"
    assert_problem(
        client.post(f"/notes/{note['id']}/edit", json={"text": "x"}, headers={"If-Match": "abc"}),
        422,
        "bad-if-match",
    )


def test_an_idempotency_key_makes_a_retry_safe(client: TestClient) -> None:
    headers = {"Idempotency-Key": "order-7"}
    first = client.post("/keyed-notes", json={"text": "once"}, headers=headers)
    again = client.post("/keyed-notes", json={"text": "once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    app = client.app.state.application  # type: ignore[attr-defined]
    notes = [
        n for n in app.process_recorder.select_notifications(1, 100) if "Note.Written" in n.topic
    ]
    assert len(notes) == 1
    reused = client.post("/keyed-notes", json={"text": "something else"}, headers=headers)
    assert_problem(reused, 422, "idempotency-key-reused")
    fresh = client.post("/keyed-notes", json={"text": "once"}, headers={"Idempotency-Key": "o-8"})
    assert fresh.json()["id"] != first.json()["id"]


def test_a_command_that_loses_a_race_is_retried_on_the_fresh_state(client: TestClient) -> None:
    note = client.post("/notes", json={"text": "v1"}).json()
    edited = client.post(f"/notes/{note['id']}/edit-racing", json={"text": "mine"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 3  # written, the policy's edit, then ours
    assert client.get(f"/notes/{note['id']}").json()["text"] == "mine"


@router.post("/notes/explode", status_code=201)
async def explode(command: Command = requires("release-manager")) -> None:
    raise RuntimeError("secret internals: /srv/app/store.py line 42")


def test_an_unexpected_fault_is_a_500_problem_without_internals(client: TestClient) -> None:
    # As a real server answers: the test client would otherwise re-raise the fault.
    server = TestClient(client.app, raise_server_exceptions=False, headers=client.headers)
    answer = server.post("/notes/explode", json={})
    body = assert_problem(answer, 500)
    assert "secret internals" not in answer.text
    assert "Traceback" not in answer.text
    assert set(body) <= {"type", "title", "status", "detail", "instance", "correlation_id"}


def test_cors_is_off_unless_origins_are_configured(client: TestClient, tmp_path: Path) -> None:
    preflight = {
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type",
    }
    assert "access-control-allow-origin" not in client.options("/notes", headers=preflight).headers
    settings = Settings(
        data_dir=tmp_path / "cors",
        kafka_bootstrap_servers="127.0.0.1:1",
        cors_origins=("https://ops.example",),
    )
    api = create_service(ServiceDefinition("notes", Notes, routers=[router]), settings)
    with TestClient(api) as cors:
        allowed = cors.options("/notes", headers=preflight | {"Origin": "https://ops.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://ops.example"
        refused = cors.options("/notes", headers=preflight)
        assert "access-control-allow-origin" not in refused.headers


def test_kafka_security_settings_reach_the_clients() -> None:
    from faststream.kafka.security import parse_security
    from pydantic import SecretStr

    from changeledger.runtime.kafka import kafka_security

    assert kafka_security(Settings()) is None
    scram = Settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="planning",
        kafka_sasl_password=SecretStr("s3cret"),
    )
    options = parse_security(kafka_security(scram))
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "planning"
    assert options["ssl_context"] is not None
    tls = parse_security(kafka_security(Settings(kafka_security_protocol="SSL")))
    assert tls["security_protocol"] == "SSL"
    with pytest.raises(ValueError, match="USERNAME"):
        kafka_security(Settings(kafka_security_protocol="SASL_PLAINTEXT"))


def test_an_app_started_again_runs_afresh_on_the_same_store(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kafka_bootstrap_servers="127.0.0.1:1")
    api = create_service(ServiceDefinition("notes", Notes, routers=[router]), settings)
    token = "Bearer " + Authenticator(settings).mint("alice", ("release-manager",))
    with TestClient(api, headers={"Authorization": token}) as first:
        written = first.post("/notes", json={"text": "before the restart"}).json()["id"]
        runtime = api.state.runtime
    with TestClient(api, headers={"Authorization": token}) as second:
        assert api.state.runtime is not runtime
        assert second.get(f"/notes/{written}").json()["text"] == "before the restart"
        assert second.post("/notes", json={"text": "after it"}).status_code == 201
        assert len(api.state.runtime.app.recorder.select_notifications(1, 10)) == 2


def test_a_served_app_sizes_its_store_threads_and_moves_its_started_heap_out_of_sight(
    tmp_path: Path,
) -> None:
    import gc

    settings = Settings(data_dir=tmp_path, kafka_bootstrap_servers="127.0.0.1:1", store_threads=3)
    definition = ServiceDefinition("notes", Notes, routers=[router])
    switch = sys.getswitchinterval()
    gc.unfreeze()
    try:
        with TestClient(create_service(definition, settings)) as plain:
            assert gc.get_freeze_count() == 0  # a test's app leaves the collector alone
            assert plain.portal is not None
            assert not any(n.startswith("notes") for n in plain.portal.call(store_threads))
            assert sys.getswitchinterval() == switch
        with TestClient(create_service(definition, settings, served=True)) as served:
            assert gc.get_freeze_count() > 0
            assert served.get("/healthz").status_code == 200
            assert served.portal is not None
            names = served.portal.call(store_threads)
            assert len(names) == 3
            assert all(n.startswith("notes") for n in names)
            assert sys.getswitchinterval() == pytest.approx(GIL_SWITCH_SECONDS)
    finally:
        gc.unfreeze()
        sys.setswitchinterval(switch)


async def store_threads() -> set[str]:
    """The threads that eight store calls at once ran on."""

    def name() -> str:
        time.sleep(0.05)
        return threading.current_thread().name

    return set(await asyncio.gather(*(asyncio.to_thread(name) for _ in range(8))))

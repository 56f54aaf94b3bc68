"""The permission matrix, walked from each service's OpenAPI spec: every command declares
its roles, every other role is refused with 403 and nothing recorded, a request without a
token gets 401, and the documented matrix is the one the code enforces."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from changeledger.contracts import SERVICES
from changeledger.runtime.auth import ROLES, Authenticator
from changeledger.runtime.service import create_service
from changeledger.runtime.settings import Settings

ROOT = Path(__file__).parents[2]
#: The only operations without a token: a stakeholder's signed, single-use ack link.
PUBLIC = {("get", "/acks/{token}"), ("post", "/acks/{token}")}
#: And the probes an orchestrator calls.
PROBES = {("get", "/healthz"), ("get", "/readyz")}


@pytest.fixture(scope="module", params=SERVICES)
def service(request: Any, tmp_path_factory: Any) -> Iterator[tuple[TestClient, Settings]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp(request.param), kafka_bootstrap_servers="127.0.0.1:1"
    )
    definition = importlib.import_module(f"changeledger.{request.param}.service").definition
    with TestClient(create_service(definition, settings)) as client:
        yield client, settings


def commands(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in {"get", "head", "options"}:
                yield method, path, operation


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "ci-x" if m[1] in {"key", "ci"} else str(uuid4()), path)


def head(client: TestClient) -> int:
    app = client.app.state.application  # type: ignore[attr-defined]
    return int(app.process_recorder.max_notification_id() or 0)


def test_every_command_declares_who_may_send_it(service: tuple[TestClient, Settings]) -> None:
    client, _ = service
    spec = client.get("/openapi.json").json()
    undeclared = [
        (method, path)
        for method, path, operation in commands(spec)
        if not operation.get("x-required-roles") and (method, path) not in PUBLIC
    ]
    assert undeclared == []
    public = {(m, p) for m, p, op in commands(spec) if op.get("x-public")}
    assert public <= PUBLIC
    for _, _, operation in commands(spec):
        assert set(operation.get("x-required-roles", ())) <= set(ROLES)


def test_every_read_is_documented_and_enforced_as_needing_a_token(
    service: tuple[TestClient, Settings],
) -> None:
    client, _ = service
    spec = client.get("/openapi.json").json()
    reads = [
        (path, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method == "get" and ("get", path) not in PUBLIC | PROBES
    ]
    assert reads
    for path, operation in reads:
        assert not operation.get("x-public"), path
        assert operation["security"] == [{"HTTPBearer": []}], path
        answer = client.get(concrete(path))
        assert answer.status_code == 401, (path, answer.text)
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_every_other_role_is_refused_and_nothing_is_recorded(
    service: tuple[TestClient, Settings],
) -> None:
    client, settings = service
    authenticator = Authenticator(settings)
    spec = client.get("/openapi.json").json()
    checked = 0
    for method, path, operation in commands(spec):
        allowed = set(operation.get("x-required-roles", ()))
        if not allowed:
            continue
        before = head(client)
        for role in sorted(set(ROLES) - allowed):
            token = authenticator.mint(f"someone-{role}", (role,))
            answer = client.request(
                method, concrete(path), json={}, headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 403, (method, path, role, answer.text)
            assert answer.json()["type"].endswith("role-required")
            checked += 1
        anonymous = client.request(method, concrete(path), json={})
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        assert head(client) == before, (method, path)
    assert checked > 0


def test_the_documented_matrix_is_the_enforced_one() -> None:
    from changeledger.cli.main import permission_matrix

    documented = (ROOT / "docs" / "permissions.md").read_text()
    assert documented == permission_matrix() + "\n", (
        "docs/permissions.md is stale: run `uv run changeledger permissions "
        "--write docs/permissions.md`"
    )

"""Each service fuzzed against its own OpenAPI spec (schemathesis, a bounded number of
examples per operation): no 5xx, and no answer that breaks its own documented schema."""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance

from changeledger.contracts import SERVICES
from changeledger.runtime.auth import ROLES, Authenticator
from changeledger.runtime.service import create_service
from changeledger.runtime.settings import Settings

EXAMPLES = 8
_scratch = Path(tempfile.mkdtemp(prefix="changeledger-fuzz-"))
_settings = Settings(data_dir=_scratch, kafka_bootstrap_servers="127.0.0.1:1")
#: Every role, so that commands get past the role check into the domain's rules.
HEADERS = {"Authorization": "Bearer " + Authenticator(_settings).mint("fuzzer", ROLES)}


def _app(service: str) -> FastAPI:
    definition = importlib.import_module(f"changeledger.{service}.service").definition
    return create_service(definition, _settings)


APPS = {service: _app(service) for service in SERVICES}


@pytest.fixture(scope="module", autouse=True)
def stopped_at_the_end() -> Iterator[None]:
    """Schemathesis runs each app's lifespan (its store, relay, consumers and jobs) once, at
    its first request; this stops them all when the module is done, not at exit."""
    yield
    shutdown_lifespans()


def fuzz(service: str) -> Any:
    # Readiness is 503 by design here: the fuzzed services have no broker.
    schema = schemathesis.openapi.from_asgi("/openapi.json", APPS[service]).exclude(path="/readyz")

    @schema.parametrize()
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def test(case: Any) -> None:
        case.call_and_validate(
            headers=HEADERS, checks=[not_a_server_error, response_schema_conformance]
        )

    return test


test_planning = fuzz("planning")
test_risk = fuzz("risk")
test_communication = fuzz("communication")
test_cmdb = fuzz("cmdb")

"""Each service's AsyncAPI document lists the topic it publishes with every event type
it can put there, and the topics it consumes with the events it reacts to."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from changeledger.contracts import SERVICES, registered, topic_of
from changeledger.runtime.service import create_service
from changeledger.runtime.settings import Settings


@pytest.mark.parametrize("service", SERVICES)
def test_the_document_names_every_published_and_consumed_event(
    service: str, tmp_path: Path
) -> None:
    definition = importlib.import_module(f"changeledger.{service}.service").definition
    settings = Settings(data_dir=tmp_path, kafka_bootstrap_servers="127.0.0.1:1")
    with TestClient(create_service(definition, settings)) as client:
        answer = client.get("/docs/asyncapi.json")
        assert client.get("/docs/asyncapi").status_code == 200
    document = answer.json()
    assert document["asyncapi"] == "3.0.0"
    channels = {c["address"] for c in document["channels"].values()}
    assert topic_of(service) in channels
    assert definition.policies.topics <= channels
    text = json.dumps(document["components"]["schemas"])
    published = [m for m in registered() if m.source() == service]
    assert published
    for model in published:
        assert f'"{model.__name__}"' in text, f"{model.event_type} is not documented"

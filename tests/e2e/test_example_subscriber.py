"""The example subscriber (contracts and aiokafka only) on the real broker: it reads what
planning publishes, keeps its own position, and replays from the beginning on request."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from changeledger.planning.domain import Priority
from changeledger.planning.service import definition as planning
from changeledger.runtime.domain import acting
from changeledger.runtime.settings import Settings
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.services import eventually_async, running

ROOT = Path(__file__).parents[2]


def example() -> Any:
    spec = importlib.util.spec_from_file_location(
        "subscriber", ROOT / "examples" / "subscriber" / "subscriber.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_example_subscriber_keeps_its_position_and_replays(
    settings: Settings, tmp_path: Path
) -> None:
    subscriber = example()
    topic = settings.topic("planning.events")
    position = subscriber.Position(tmp_path / "position.sqlite")
    seen: list[tuple[str, str]] = []

    def handle(envelope: Any, event: Any) -> None:
        seen.append((envelope.type, type(event).__name__))

    async with running(planning, settings) as plan:
        with acting(RELEASE_MANAGER):
            plan.app.plan_release("Followed", "rita", Priority.HIGH, Q1)

        async def published() -> bool:
            return bool(plan.relay.acked)

        await eventually_async(published, what="planning published the release")

    bootstrap = settings.kafka_bootstrap_servers
    first = await subscriber.follow(bootstrap, [topic], position, handle, idle_seconds=2)
    assert first == 1
    assert seen == [("planning.release.planned", "ReleasePlanned")]
    again = await subscriber.follow(bootstrap, [topic], position, handle, idle_seconds=2)
    assert again == 0  # it carried on from its own position
    position.forget()
    replayed = await subscriber.follow(bootstrap, [topic], position, handle, idle_seconds=2)
    assert replayed == 1

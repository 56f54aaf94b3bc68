"""Resident memory of each service as its history grows, the number of entities staying
the same (SQLite).

For each service, stores of 250,000, 500,000 and 1,000,000 events are written for the
same 2,000 entities (releases, risks, stakeholders, configuration items), each with a
longer history every time: a release put on hold and resumed, a risk's response changed
back and forth, a stakeholder subscribing to a CI and leaving it, a CI's version set and
set back. The service is then started on each as its own process (`changeledger serve`,
no broker needed), its read models catch up with the whole log, and its resident set size
is read from /proc once its list endpoint counts every entity. What is held in memory is
the current state, not the history, so it should stay flat.

    uv run python -m bench.memory --services planning risk
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from rich.table import Table

from bench.support import console, write_results
from changeledger.cmdb.application import CmdbApplication
from changeledger.cmdb.domain import CiType, ConfigurationItem, Lifecycle
from changeledger.communication.application import CommunicationApplication
from changeledger.communication.domain import Channel, Stakeholder
from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import Period, Priority, Release
from changeledger.risk.application import RiskApplication
from changeledger.risk.domain import Category, Response, Risk, Score
from changeledger.runtime.domain import Actor, Aggregate, Provenance, acting
from changeledger.runtime.store import ServiceApplication, open_store
from tests.support.services import ServiceProcess, eventually, isolated_settings

ACTOR = Provenance(Actor("bench", ("release-manager", "risk-manager")), "bench", "bench")


@dataclass(frozen=True)
class Entities:
    """How one service's store gets long histories: an entity made with one event, and a
    pair of commands that add two events and leave it as it was."""

    application: type[ServiceApplication]
    listed_at: str
    create: Callable[[int], Aggregate]
    two_more: Callable[[Any], None]


def _release(n: int) -> Release:
    ahead = date.today() + timedelta(days=30)
    target = Period(ahead, ahead + timedelta(days=60))
    return Release(name=f"R{n}", owner="bench", priority=Priority.LOW, target=target)


def _on_hold_and_back(release: Release) -> None:
    release.put_on_hold("bench")
    release.resume()


def _risk(n: int) -> Risk:
    risk = Risk.identify(
        cause=f"cause {n}",
        event="the event",
        effect="the effect",
        category=Category.TECHNICAL,
        owner="bench",
        release_id=None,
        change_id=None,
        proximity=None,
    )
    risk.assess(Score(2, 2), None)
    return risk


def _response_changed_twice(risk: Risk) -> None:
    risk.choose_response(Response.TRANSFER, "insured")
    risk.choose_response(Response.REDUCE, "mitigating")


def _stakeholder(n: int) -> Stakeholder:
    return Stakeholder.register(
        name=f"S{n}",
        role="sponsor",
        organisation="bench",
        email=f"s{n}@example.org",
        webhook_url=None,
        channel=Channel.EMAIL,
        power=3,
        interest=3,
    )


def _subscribed_and_left(stakeholder: Stakeholder) -> None:
    stakeholder.subscribe(ci="app-payments")
    stakeholder.unsubscribe(ci="app-payments")


def _ci(n: int) -> ConfigurationItem:
    return ConfigurationItem.register(
        key=f"app-{n}",
        type=CiType.APPLICATION,
        name=f"Application {n}",
        owner="bench",
        attributes={},
        version="1.0",
        lifecycle=Lifecycle.ACTIVE,
        change_id=None,
        bootstrap=True,
    )


def _version_set_and_back(ci: ConfigurationItem) -> None:
    # Under one change per CI, as a CI's writes come under a few changes, not each
    # under its own.
    change_id = uuid5(NAMESPACE_URL, f"urn:bench:change:{ci.key}")
    ci.set_version("1.1", change_id)
    ci.set_version("1.0", change_id)


SERVICES = {
    "planning": Entities(PlanningApplication, "/releases", _release, _on_hold_and_back),
    "risk": Entities(RiskApplication, "/risks", _risk, _response_changed_twice),
    "communication": Entities(
        CommunicationApplication, "/stakeholders", _stakeholder, _subscribed_and_left
    ),
    "cmdb": Entities(CmdbApplication, "/cis", _ci, _version_set_and_back),
}


def fill(app: ServiceApplication, entities: Entities, events: int, count: int) -> None:
    """`events` events over `count` entities, saved a few thousand at a time."""
    per_entity = events // count
    written, pending, pending_events = 0, [], 0
    with acting(ACTOR):
        for n in range(count):
            aggregate = entities.create(n)
            made, more = len(aggregate.pending_events), 0
            while made + more + 2 <= per_entity and written + made + more + 2 <= events:
                entities.two_more(aggregate)
                more += 2
            pending.append(aggregate)
            pending_events += more
            written += made + more
            if pending_events >= 5_000:
                app.save(*pending)
                pending, pending_events = [], 0
        if pending:
            app.save(*pending)


def resident_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def measure(service: str, events: int, count: int) -> dict[str, float]:
    entities = SERVICES[service]
    with tempfile.TemporaryDirectory(prefix="changeledger-bench-") as tmp:
        settings = isolated_settings(Path(tmp), None, None)
        app = open_store(entities.application, service, settings)
        try:
            fill(app, entities, events, count)
            stored = app.recorder.max_notification_id() or 0
        finally:
            app.close()
        process = ServiceProcess(service, settings).start(timeout=600)
        try:
            assert process.process is not None
            started = time.perf_counter()
            with process.client("viewer") as client:
                eventually(
                    lambda: int(client.get(entities.listed_at).headers["X-Total-Count"]) >= count,
                    timeout=900,
                    interval=1.0,
                    what=f"{service} caught up with its log",
                )
            caught_up = time.perf_counter() - started
            rss = resident_megabytes(process.process.pid)
        finally:
            process.stop()
    return {"events": stored, "resident_mb": rss, "catch_up_seconds": caught_up}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", nargs="+", choices=list(SERVICES), default=list(SERVICES))
    parser.add_argument("--events", type=int, nargs="+", default=[250_000, 500_000, 1_000_000])
    parser.add_argument("--entities", type=int, default=2_000)
    args = parser.parse_args()

    results: dict[str, dict[str, dict[str, float]]] = {}
    for service in args.services:
        for events in args.events:
            row = measure(service, events, args.entities)
            results.setdefault(service, {})[f"{events:,} events"] = row
            console.print(
                f"{service}, {row['events']:,} events: {row['resident_mb']:,.0f} MB "
                f"after catching up in {row['catch_up_seconds']:.0f} s"
            )

    table = Table(title=f"Resident memory with {args.entities:,} entities per service")
    for column in ("service", "history", "resident memory", "catch-up at start"):
        table.add_column(column, justify="right")
    for service, rows in results.items():
        for row in rows.values():
            table.add_row(
                service,
                f"{row['events']:,.0f} events",
                f"{row['resident_mb']:,.0f} MB",
                f"{row['catch_up_seconds']:,.0f} s",
            )
    console.print(table)
    write_results("memory", vars(args), results)


if __name__ == "__main__":
    main()

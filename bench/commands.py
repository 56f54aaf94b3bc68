"""HTTP command throughput against the raw event store, measured in the same run.

For each store (SQLite, PostgreSQL) planning runs as its own process (`changeledger
serve`, against a real broker, so its relay publishes as in production), and N clients
send `POST /releases` back to back for a fixed time. Next to it, in this process, the
same command is done straight on the application (`Release.plan` then `app.save()`), one
after the other: the raw rate. The figure that matters is their ratio, taken minutes
apart on the same machine; the target (DESIGN.md section 7) is at least 0.5.

It also runs planning as `--workers` processes (2 by default) sharing the port and the
store (`changeledger serve --workers 2`): one process is bound to one core by Python's GIL.

    uv run python -m bench.commands --seconds 20 --clients 1 8 32 --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
from rich.table import Table

from bench.support import (
    CpuMeter,
    console,
    kafka_for_bench,
    postgres_pid,
    show_cpu,
    write_results,
)
from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import Period, Priority
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import open_store
from tests.support.actors import Q1, release_body
from tests.support.infra import postgres_server
from tests.support.services import ServiceProcess, bearer, isolated_settings

ACTOR = Provenance(Actor("bench", ("release-manager",)), "bench", "bench")


def raw_rate(settings: Settings, seconds: float, meter: CpuMeter) -> tuple[int, float]:
    """Commands done on the application directly, one after another."""
    app = open_store(PlanningApplication, "planning", settings)
    period = Period(Q1.start, Q1.end)
    done = 0
    try:
        # Metered while the store is open: its PostgreSQL backend ends when it closes.
        with acting(ACTOR), meter:
            started = time.perf_counter()
            while time.perf_counter() - started < seconds:
                app.plan_release(f"R{done}", "rita", Priority.HIGH, period)
                done += 1
            return done, time.perf_counter() - started
    finally:
        app.close()


async def http_rate(
    url: str, headers: dict[str, str], clients: int, seconds: float
) -> tuple[int, float, int]:
    """`clients` connections, each sending the next command as soon as one is answered."""
    done = failures = 0
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(url, headers=headers, connector=connector) as session:
        deadline = time.perf_counter() + seconds

        async def client(n: int) -> None:
            nonlocal done, failures
            sent = 0
            while time.perf_counter() < deadline:
                async with session.post("/releases", json=release_body(f"C{n}-{sent}")) as answer:
                    await answer.read()
                    if answer.status == 201:
                        done += 1
                    else:
                        failures += 1
                sent += 1

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        return done, time.perf_counter() - started, failures


@dataclass
class HttpRun:
    """`POST /releases` to planning in its own process(es), against one store."""

    kind: str
    settings: Settings
    kafka: Any
    server: Any
    seconds: float
    raw: float

    def rows(self, workers: int, client_counts: list[int]) -> dict[str, dict[str, Any]]:
        rows = {}
        process = ServiceProcess("planning", self.settings, workers=workers).start()
        try:
            process.wait_ready()
            headers = bearer(self.settings, "bench", "release-manager")
            pids = {
                "planning": process.pid,  # with its workers, if any
                "Kafka": self.kafka.pid,
                "PostgreSQL": postgres_pid(self.server),
                "clients": os.getpid(),
            }
            for clients in client_counts:
                with CpuMeter(pids) as meter:
                    done, seconds, failures = asyncio.run(
                        http_rate(process.url, headers, clients, self.seconds)
                    )
                rate = done / seconds
                name = f"{self.kind}: HTTP, {clients} clients"
                rows[name + (f", {workers} workers" if workers > 1 else "")] = {
                    "commands": done,
                    "per_second": rate,
                    "ratio_to_raw": rate / self.raw,
                    "failures": failures,
                    "cpu": meter.per_command(done),
                }
        finally:
            process.stop()
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument(
        "--workers",
        type=int,
        nargs="*",
        default=[2],
        help="also run planning in this many processes, for the largest client count",
    )
    args = parser.parse_args()
    if date.today() >= Q1.start:
        raise SystemExit("the fixture quarter has begun; move tests.support.actors.Q1")

    rows: dict[str, dict[str, Any]] = {}
    with kafka_for_bench() as kafka:
        for kind, server in _each(args.stores):
            with tempfile.TemporaryDirectory(prefix="changeledger-bench-") as tmp:
                # Separate stores: the service must not start with the raw run's thousands
                # of events still to relay while it is being measured.
                raw_settings = isolated_settings(Path(tmp) / "raw", None, server)
                meter = CpuMeter({"app.save()": os.getpid(), "PostgreSQL": postgres_pid(server)})
                raw_done, raw_seconds = raw_rate(raw_settings, args.seconds, meter)
                raw = raw_done / raw_seconds
                rows[f"{kind}: app.save()"] = {
                    "commands": raw_done,
                    "per_second": raw,
                    "cpu": meter.per_command(raw_done),
                }
                # One process for every client count; more workers (processes sharing
                # the port and the store) for the largest, where one process is saturated.
                runs = [(1, args.clients)]
                runs += [(w, [max(args.clients)]) for w in args.workers if w > 1]
                for workers, client_counts in runs:
                    # Each on stores of its own, with nothing left to relay from before.
                    fresh = isolated_settings(
                        Path(tmp) / f"workers-{workers}",
                        None,
                        server,
                        kafka_bootstrap_servers=kafka.bootstrap_servers,
                    )
                    measure = HttpRun(kind, fresh, kafka, server, args.seconds, raw)
                    rows |= measure.rows(workers, client_counts)

    table = Table(title="POST /releases: HTTP against the raw app.save() rate")
    for column in ("measure", "commands", "per second", "ratio to raw", "failures"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for name, row in rows.items():
        table.add_row(
            name,
            f"{row['commands']:,}",
            f"{row['per_second']:,.0f}",
            f"{row['ratio_to_raw']:.2f}" if "ratio_to_raw" in row else "",
            str(row.get("failures", "")),
        )
    console.print(table)
    show_cpu("Where the CPU goes (ms per command, and cores used)", rows)
    write_results("commands", vars(args), rows | {"target_ratio": 0.5})


def _each(kinds: list[str]) -> Iterator[tuple[str, Any]]:
    for kind in kinds:
        if kind == "postgres":
            with postgres_server() as server:
                yield kind, server
        else:
            yield kind, None


if __name__ == "__main__":
    main()

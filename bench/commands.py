"""HTTP command throughput against the raw event store, measured in the same run.

For each store (SQLite, PostgreSQL) planning runs as its own process (`changeledger
serve`, against a real broker, so its relay publishes as in production), and wrk keeps N
connections sending `POST /releases` back to back for a fixed time, after a warm-up
(`--warmup`, 10 s, so that the broker's JVM has compiled its hot paths before the first
row; bench/post_releases.lua: a release of its own each time); it counts the 201s and
the other answers, and gives the latency percentiles. Next to it, in this process, the
same command is done straight on the application (`Release.plan` then `app.save()`), one
after the other: the raw rate. The figure that matters is their ratio, taken minutes
apart on the same machine; the target (DESIGN.md section 7) is at least 0.5.

The load generator is wrk rather than a Python client because it shares the machine's
few cores with the service it measures: aiohttp spent 0.22-0.35 ms of CPU a request, a
fifth of a core taken from planning; wrk spends 0.03-0.06 ms. Its CPU is
metered all the same (the `wrk` column), next to planning's, Kafka's and PostgreSQL's.
Without wrk on the PATH the bench installs Debian's package (as root, with apt-get).

It also runs planning as `--workers` processes (2 by default) sharing the port and the
store (`changeledger serve --workers 2`): one process is bound to one core by Python's GIL.

    uv run python -m bench.commands --seconds 20 --clients 1 8 32 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rich.table import Table

from bench.support import (
    CpuMeter,
    console,
    kafka_for_bench,
    postgres_pid,
    show_cpu,
    write_results,
)
from changeledger.deploy.process import LaunchError, apt_install
from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import Period, Priority
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import open_store
from tests.support.actors import Q1
from tests.support.infra import postgres_server
from tests.support.services import ServiceProcess, bearer, isolated_settings

ACTOR = Provenance(Actor("bench", ("release-manager",)), "bench", "bench")
LUA = Path(__file__).with_name("post_releases.lua")


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


def ensure_wrk() -> None:
    """wrk on the PATH: Debian's package, installed as PostgreSQL is when missing."""
    if shutil.which("wrk") is None:
        try:
            apt_install("wrk")
        except LaunchError as error:
            raise SystemExit(str(error)) from None


def wrk_rate(
    url: str, authorization: str, clients: int, seconds: float, prefix: str
) -> dict[str, Any]:
    """`clients` connections from one wrk thread (plenty at these rates), each sending the
    next command as soon as one is answered; the names begin with `prefix`. Returns the
    JSON line of post_releases.lua, its times in microseconds (-d takes whole seconds)."""
    options = ["-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "-s", str(LUA)]
    script_args = [authorization, Q1.start.isoformat(), Q1.end.isoformat(), prefix]
    run = subprocess.run(
        ["wrk", *options, url, "--", *script_args], capture_output=True, text=True, check=False
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    if run.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({run.returncode}):\n{run.stdout}{run.stderr}")
    return dict(json.loads(lines[-1]))


@dataclass
class HttpRun:
    """`POST /releases` to planning in its own process(es), against one store."""

    kind: str
    settings: Settings
    kafka: Any
    server: Any
    seconds: float
    raw: float
    warmup: float

    def rows(self, workers: int, client_counts: list[int]) -> dict[str, dict[str, Any]]:
        rows = {}
        process = ServiceProcess("planning", self.settings, workers=workers).start()
        try:
            process.wait_ready()
            authorization = bearer(self.settings, "bench", "release-manager")["Authorization"]
            pids = {
                "planning": process.pid,  # with its workers, if any
                "Kafka": self.kafka.pid,
                "PostgreSQL": postgres_pid(self.server),
            }
            # Warm-up, with every connection (and so every worker) served before measuring.
            wrk_rate(process.url, authorization, max(client_counts), self.warmup, "warm-up")
            for clients in client_counts:
                # wrk is a child that ends within the meter: its CPU is the "wrk" entry.
                with CpuMeter(pids, children="wrk") as meter:
                    answer = wrk_rate(
                        process.url, authorization, clients, self.seconds, f"C{clients}"
                    )
                done = answer["created"]
                rate = done / answer["seconds"]
                name = f"{self.kind}: HTTP, {clients} clients"
                rows[name + (f", {workers} workers" if workers > 1 else "")] = {
                    "commands": done,
                    "per_second": rate,
                    "ratio_to_raw": rate / self.raw,
                    "failures": answer["others"] + answer["errors"],
                    "timeouts": answer["timeouts"],
                    "cpu": meter.per_command(done),
                    "latency_ms": {
                        q: answer[f"{q}_us"] / 1000 for q in ("p50", "p90", "p99", "max")
                    },
                }
        finally:
            process.stop()
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--warmup", type=float, default=10.0, help="seconds of load before measuring"
    )
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
    ensure_wrk()

    rows: dict[str, dict[str, Any]] = {}
    with kafka_for_bench() as kafka:
        for kind, server in _each(args.stores):
            with tempfile.TemporaryDirectory(prefix="changeledger-bench-") as tmp:
                # Separate stores: the service must not start with the raw run's thousands
                # of events still to relay while it is being measured.
                raw_settings = isolated_settings(Path(tmp) / "raw", None, server)
                meter = CpuMeter(
                    {
                        "app.save()": os.getpid(),
                        # The broker this process started, idle here: not the raw loop's.
                        "Kafka": kafka.pid,
                        "PostgreSQL": postgres_pid(server),
                    }
                )
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
                    measure = HttpRun(kind, fresh, kafka, server, args.seconds, raw, args.warmup)
                    rows |= measure.rows(workers, client_counts)

    table = Table(title="POST /releases: HTTP against the raw app.save() rate")
    columns = ("measure", "commands", "per second", "ratio to raw", "p50 ms", "p99 ms", "failures")
    for column in columns:
        table.add_column(column, justify="left" if column == "measure" else "right")
    for name, row in rows.items():
        latency = row.get("latency_ms", {})
        table.add_row(
            name,
            f"{row['commands']:,}",
            f"{row['per_second']:,.0f}",
            f"{row['ratio_to_raw']:.2f}" if "ratio_to_raw" in row else "",
            *(f"{latency[q]:.1f}" if q in latency else "" for q in ("p50", "p99")),
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

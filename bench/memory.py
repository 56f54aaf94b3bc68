"""Resident memory of the planning service as its history grows, the number of releases
staying the same (SQLite).

Stores of 250,000, 500,000 and 1,000,000 events are written for the same 2,000 releases
(longer histories each time). Planning is then started on each as its own process
(`changeledger serve`, no broker needed), its read models catch up with the whole log,
and its resident set size is read from /proc once `GET /releases` lists every release.
What is held in memory is the current state, not the history, so it should stay flat.

    uv run python -m bench.memory
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rich.table import Table

from bench.replay import fill
from bench.support import console, write_results
from changeledger.planning.application import PlanningApplication
from changeledger.runtime.store import open_store
from tests.support.services import ServiceProcess, eventually, isolated_settings


def resident_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[250_000, 500_000, 1_000_000])
    parser.add_argument("--releases", type=int, default=2_000)
    args = parser.parse_args()

    results: dict[str, dict[str, float]] = {}
    for events in args.events:
        with tempfile.TemporaryDirectory(prefix="changeledger-bench-") as tmp:
            settings = isolated_settings(Path(tmp), None, None)
            app = open_store(PlanningApplication, "planning", settings)
            try:
                fill(app, events, per_release=events // args.releases, batch=5_000)
            finally:
                app.close()
            process = ServiceProcess("planning", settings).start(timeout=600)
            try:
                assert process.process is not None
                started = time.perf_counter()
                with process.client("viewer") as client:
                    eventually(
                        lambda: (
                            int(client.get("/releases").headers["X-Total-Count"]) >= args.releases
                        ),
                        timeout=900,
                        interval=1.0,
                        what="planning caught up with its log",
                    )
                caught_up = time.perf_counter() - started
                rss = resident_megabytes(process.process.pid)
            finally:
                process.stop()
        results[f"{events:,} events"] = {"resident_mb": rss, "catch_up_seconds": caught_up}
        console.print(f"{events:,} events: {rss:,.0f} MB after catching up in {caught_up:.0f} s")

    table = Table(title=f"Planning's resident memory with {args.releases:,} releases")
    for column in ("history", "resident memory", "catch-up at start"):
        table.add_column(column, justify="right")
    for name, row in results.items():
        table.add_row(name, f"{row['resident_mb']:,.0f} MB", f"{row['catch_up_seconds']:,.0f} s")
    console.print(table)
    write_results("memory", vars(args), results)


if __name__ == "__main__":
    main()

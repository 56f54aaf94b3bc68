"""The time to load one aggregate with 10, 1,000 and 100,000 events, with and without
snapshots (SQLite).

A release is put on hold and resumed until it has N events; then it is loaded from the
store (`repository.get`, past the service's cache) several times and the median is
kept. With snapshots (every 100 events) a load reads the latest snapshot and fewer than
100 events after it, so it should stay flat as the history grows; without, it grows
with the history.

    uv run python -m bench.aggregate_load
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

from rich.table import Table

from bench.support import console, write_results
from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import Period, Priority, Release
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import open_store

ACTOR = Provenance(Actor("bench", ("release-manager",)), "bench", "bench")
NO_SNAPSHOTS = 10**12


def write_release(app: PlanningApplication, events: int, batch: int = 1_000) -> UUID:
    ahead = date.today() + timedelta(days=30)
    with acting(ACTOR):
        release = Release(
            name="Long-lived",
            owner="bench",
            priority=Priority.LOW,
            target=Period(ahead, ahead + timedelta(days=60)),
        )
        app.save(release)
        while release.version < events:
            for _ in range(min(batch, events - release.version)):
                if release.held_from is None:
                    release.put_on_hold("bench")
                else:
                    release.resume()
            app.save(release)
    return release.id


def load_time(app: PlanningApplication, release_id: UUID, events: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        # Asking for a version bypasses the service's aggregate cache: this is a load from
        # the store (the latest snapshot at or before it, then the events after).
        loaded: Release = app.repository.get(release_id, version=events)
        times.append(time.perf_counter() - started)
        assert loaded.version == events
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    results: dict[str, dict[str, float]] = {}
    for size in args.sizes:
        row: dict[str, float] = {}
        for label, interval in (("without_snapshots_ms", NO_SNAPSHOTS), ("with_snapshots_ms", 100)):
            with tempfile.TemporaryDirectory(prefix="changeledger-bench-") as tmp:
                settings = Settings(data_dir=Path(tmp), snapshot_interval=interval)
                app = open_store(PlanningApplication, "planning", settings)
                try:
                    release_id = write_release(app, size)
                    row[label] = load_time(app, release_id, size, args.repeats) * 1000
                finally:
                    app.close()
        results[f"{size} events"] = row
        console.print(f"{size:,} events: {row}")

    table = Table(title="Loading one release aggregate (median of repeated loads)")
    for column in ("history", "without snapshots", "with snapshots (every 100)"):
        table.add_column(column, justify="right")
    for name, row in results.items():
        table.add_row(
            name, f"{row['without_snapshots_ms']:,.2f} ms", f"{row['with_snapshots_ms']:,.2f} ms"
        )
    console.print(table)
    write_results("aggregate-load", vars(args), results)


if __name__ == "__main__":
    main()

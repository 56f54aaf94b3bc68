"""Verify and rebuild rates on a large store (default 1,000,000 events), SQLite.

The store is a planning store of releases, each planned and then put on hold and resumed
many times (about 150 events per release, so each has a snapshot at its 100th). It
is written in large transactions, sealed once, then `verify` (hash chains and signed
checkpoints) and `rebuild` (every event folded into fresh aggregates and read models,
compared with the snapshots) are timed. The targets (DESIGN.md section 7) are at least
100,000 events/s each.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from rich.table import Table

from bench.support import console, write_results
from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import Period, Priority, Release
from changeledger.runtime.audit import seal_log
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.rebuild import rebuild
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import open_store
from changeledger.runtime.verification import verify

KEY = b"bench checkpoint key"
ACTOR = Provenance(Actor("bench", ("release-manager",)), "bench", "bench")


def fill(app: PlanningApplication, events: int, per_release: int, batch: int) -> float:
    started = time.perf_counter()
    ahead = date.today() + timedelta(days=30)
    period = Period(ahead, ahead + timedelta(days=60))
    written, pending, pending_events = 0, [], 0
    with acting(ACTOR):
        while written < events:
            release = Release(
                name=f"R{written}", owner="bench", priority=Priority.LOW, target=period
            )
            count = 1
            while count + 2 <= per_release and written + count + 2 <= events:
                release.put_on_hold("bench")
                release.resume()
                count += 2
            pending.append(release)
            pending_events += count
            written += count
            if pending_events >= batch:
                app.save(*pending)
                pending, pending_events = [], 0
        if pending:
            app.save(*pending)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--per-release", type=int, default=149)
    parser.add_argument("--batch", type=int, default=5_000, help="events per transaction")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes verifying and rebuilding",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), snapshot_interval=100)
        app = open_store(PlanningApplication, "planning", settings)
        try:
            console.print(f"writing {args.events:,} events ...")
            fill_seconds = fill(app, args.events, args.per_release, args.batch)
            with acting(ACTOR):
                seal_log(app, KEY)
        finally:
            app.close()
        size = (Path(tmp) / "planning.sqlite").stat().st_size

        app = open_store(PlanningApplication, "planning", settings)
        try:
            verified = verify(app, KEY, workers=args.workers)
        finally:
            app.close()
        app = open_store(PlanningApplication, "planning", settings)
        try:
            rebuilt = rebuild(app, workers=args.workers)
        finally:
            app.close()

    assert verified.intact, verified.broken
    assert not rebuilt.differences, rebuilt.differences[:3]
    rows = {
        "write (batched saves)": (verified.events, fill_seconds),
        "verify": (verified.events, verified.seconds),
        "rebuild": (rebuilt.events, rebuilt.seconds),
    }
    megabytes = size / 1e6
    table = Table(title=f"Replay of a {verified.events:,}-event store ({megabytes:,.0f} MB SQLite)")
    for column in ("measure", "events", "seconds", "events/s", "target"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for name, (events, seconds) in rows.items():
        target = "" if name.startswith("write") else "100,000/s"
        table.add_row(name, f"{events:,}", f"{seconds:,.1f}", f"{events / seconds:,.0f}", target)
    console.print(table)
    path = write_results(
        "replay",
        vars(args),
        {
            name: {"events": events, "seconds": seconds, "events_per_second": events / seconds}
            for name, (events, seconds) in rows.items()
        }
        | {
            "aggregates": rebuilt.aggregates,
            "snapshots_checked": rebuilt.snapshots_checked,
            "store_bytes": size,
            "target_events_per_second": 100_000,
        },
    )
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()

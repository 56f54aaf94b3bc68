"""What the benchmarks share: a broker, isolated services, percentiles and result files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from changeledger.deploy import KAFKA_VERSION, KafkaLauncher
from tests.support.infra import free_port

RESULTS = Path(__file__).parent / "results"
console = Console(width=110)


@contextmanager
def kafka_for_bench() -> Iterator[str]:
    """A configured broker (CHANGELEDGER_BENCH_KAFKA), or a fresh local one."""
    if address := os.environ.get("CHANGELEDGER_BENCH_KAFKA"):
        yield address
        return
    with tempfile.TemporaryDirectory(prefix="changeledger-bench-kafka-") as home:
        launcher = KafkaLauncher(Path(home), port=free_port(), controller_port=free_port())
        launcher.start()
        try:
            yield launcher.bootstrap_servers
        finally:
            launcher.stop()


def percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "count": len(ordered),
        "min": ordered[0],
        "p50": cuts[49],
        "p90": cuts[89],
        "p99": cuts[98],
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def show(title: str, rows: dict[str, dict[str, float]], unit: str) -> None:
    table = Table(title=title)
    columns = ["count", "min", "p50", "p90", "p99", "max", "mean"]
    table.add_column("measure")
    for column in columns:
        table.add_column(column if column == "count" else f"{column} ({unit})", justify="right")
    for name, stats in rows.items():
        table.add_row(
            name,
            *(
                f"{stats[c]:.0f}" if c == "count" else f"{stats[c]:.2f}"
                for c in columns
                if c in stats
            ),
        )
    console.print(table)


def write_results(name: str, parameters: dict[str, Any], results: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "kafka": KAFKA_VERSION,
        },
        "parameters": parameters,
        "results": results,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    console.print(f"results written to {path}")
    return path

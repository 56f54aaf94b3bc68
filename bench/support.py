"""What the benchmarks share: a broker, isolated services, percentiles and result files."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

from changeledger.deploy import KAFKA_VERSION, KafkaLauncher
from tests.support.infra import free_port

RESULTS = Path(__file__).parent / "results"
console = Console(width=110)


@dataclass(frozen=True)
class BenchKafka:
    bootstrap_servers: str
    #: The broker's process, when it runs here (its CPU time is then measured).
    pid: int | None = None


@contextmanager
def kafka_for_bench() -> Iterator[BenchKafka]:
    """A configured broker (CHANGELEDGER_BENCH_KAFKA), or a fresh local one."""
    if address := os.environ.get("CHANGELEDGER_BENCH_KAFKA"):
        yield BenchKafka(address)
        return
    with tempfile.TemporaryDirectory(prefix="changeledger-bench-kafka-") as home:
        launcher = KafkaLauncher(Path(home), port=free_port(), controller_port=free_port())
        launcher.start()
        try:
            yield BenchKafka(launcher.bootstrap_servers, launcher.process.pid)
        finally:
            launcher.stop()


def postgres_pid(server: Any) -> int | None:
    """The postmaster of a PostgreSQL server this benchmark started (None: one elsewhere)."""
    launcher = getattr(server, "launcher", None)
    if launcher is None:
        return None
    return int((launcher.data_dir / "postmaster.pid").read_text().split()[0])


@dataclass
class CpuMeter:
    """The CPU time (user and system, with their child processes: PostgreSQL's backends)
    each named process uses while the meter runs. On a machine whose few cores the
    broker, the services, the database and the load generator share, it says where a
    command's cost goes, and how many commands per second all the cores could do at most.
    """

    pids: dict[str, int | None]
    #: A name for the CPU of this process's children that end, and are waited for, while
    #: the meter runs (a load generator run to completion): gone by the end, /proc no
    #: longer shows them, but their rusage has joined this process's RUSAGE_CHILDREN
    #: (so this process's own pid, whose times include them too, is best left out).
    children: str | None = None
    #: CPU seconds of each process, and the wall seconds, once the meter has run.
    seconds: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    #: CPU seconds the whole machine was busy (any process, and the kernel's own work),
    #: and those the hypervisor gave to another guest while this one was ready to run.
    machine: float = 0.0
    stolen: float = 0.0
    _started: dict[str, float] = field(default_factory=dict)
    _began: float = 0.0
    _machine_began: tuple[float, float] = (0.0, 0.0)

    def __enter__(self) -> CpuMeter:
        self._started = self._read()
        self._machine_began = _machine_busy_seconds()
        self._began = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        ended = self._read()
        busy, stolen = _machine_busy_seconds()
        self.machine, self.stolen = busy - self._machine_began[0], stolen - self._machine_began[1]
        self.wall = time.perf_counter() - self._began
        self.seconds = {name: ended[name] - self._started.get(name, 0.0) for name in ended}

    def per_command(self, commands: int) -> dict[str, Any]:
        """CPU ms per command of each process, the cores each used, and the ceiling: the
        commands per second that all the machine's cores could do at this cost."""
        cores = os.cpu_count() or 1
        total = sum(self.seconds.values())
        return {
            "cpu_ms_per_command": {n: s / commands * 1000 for n, s in self.seconds.items()},
            "cores_used": {n: s / self.wall for n, s in self.seconds.items()},
            "cpu_ms_per_command_total": total / commands * 1000,
            "ceiling_per_second": commands / total * cores if total else None,
            # How busy all the cores were: latency rises steeply as this nears `cores`,
            # and what the measured processes do not explain came from elsewhere.
            "machine_cores_busy": self.machine / self.wall if self.wall else None,
            "machine_cores_stolen": self.stolen / self.wall if self.wall else None,
        }

    def _read(self) -> dict[str, float]:
        measured = {pid for pid in self.pids.values() if pid is not None}
        seconds = {
            name: _cpu_seconds(pid, measured - {pid})
            for name, pid in self.pids.items()
            if pid is not None
        }
        if self.children is not None:
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            seconds[self.children] = usage.ru_utime + usage.ru_stime
        return seconds


def _machine_busy_seconds() -> tuple[float, float]:
    """CPU seconds all the machine's cores have spent working, for any process or the
    kernel (Linux counts a guest's time in `user` already), and seconds stolen from them
    by the hypervisor (on a shared host, a cause of latency that no process here shows)."""
    times = psutil.cpu_times()
    kernel = sum(getattr(times, name, 0.0) for name in ("irq", "softirq"))
    busy = times.user + getattr(times, "nice", 0.0) + times.system + kernel
    return float(busy), float(getattr(times, "steal", 0.0))


def _cpu_seconds(pid: int, others: set[int]) -> float:
    """A process's CPU seconds with its descendants', except those measured on their own
    (the services this benchmark's process started, say)."""
    try:
        process = psutil.Process(pid)
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    total = times.user + times.system + times.children_user + times.children_system
    for child in process.children():
        if child.pid not in others:
            total += _cpu_seconds(child.pid, others)
    return total


def show_cpu(title: str, rows: dict[str, dict[str, Any]]) -> None:
    """A table of where each measured run's CPU went (rows with a `cpu` entry)."""
    measured = {name: row["cpu"] for name, row in rows.items() if "cpu" in row}
    if not measured:
        return
    processes = list(dict.fromkeys(p for cpu in measured.values() for p in cpu["cores_used"]))
    table = Table(title=title)
    table.add_column("measure")
    for process in processes:
        table.add_column(f"{process} ms/cmd (cores)", justify="right")
    table.add_column("total ms/cmd", justify="right")
    table.add_column(f"ceiling on {os.cpu_count()} cores /s", justify="right")
    table.add_column("cores busy (all processes; stolen)", justify="right")
    for name, cpu in measured.items():
        busy = cpu.get("machine_cores_busy")
        table.add_row(
            name,
            *(
                f"{cpu['cpu_ms_per_command'].get(p, 0):.2f} ({cpu['cores_used'].get(p, 0):.2f})"
                for p in processes
            ),
            f"{cpu['cpu_ms_per_command_total']:.2f}",
            f"{cpu['ceiling_per_second']:,.0f}" if cpu["ceiling_per_second"] else "",
            f"{busy:.2f}; {cpu.get('machine_cores_stolen') or 0:.2f}" if busy is not None else "",
        )
    console.print(table)


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

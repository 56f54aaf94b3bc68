"""The quarter's report, read back from the four services' query APIs."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from changeledger.cli.demo.api import Api
from changeledger.cli.demo.people import AUDREY, CORA, MO, RITA, ROSE
from changeledger.cli.demo.quarter import Quarter
from changeledger.contracts import SERVICES


@dataclass
class Report:
    releases: list[dict[str, Any]] = field(default_factory=list)
    #: Open risks of the quarter's releases by likelihood (rows) and impact (columns).
    heatmap: list[list[int]] = field(default_factory=lambda: [[0] * 5 for _ in range(5)])
    monitoring: dict[str, Any] = field(default_factory=dict)
    cmdb_changes: list[dict[str, Any]] = field(default_factory=list)
    drift: list[dict[str, Any]] = field(default_factory=list)
    cmdb_refusals: list[dict[str, Any]] = field(default_factory=list)
    verified: dict[str, dict[str, Any]] = field(default_factory=dict)
    verify_seconds: float = 0.0

    @property
    def release_states(self) -> Counter[str]:
        return Counter(r["state"] for r in self.releases)


def gather(api: Api, quarter: Quarter) -> Report:
    report = Report()
    ours = set(quarter.releases.values())
    report.releases = [
        api.call("planning", "GET", f"/releases/{release_id}", RITA) for release_id in ours
    ]
    for release_id in ours:
        cells = api.call("risk", "GET", "/heatmap", ROSE, params={"release_id": release_id})
        for row, counts in zip(report.heatmap, cells["likelihood_by_impact"], strict=True):
            row[:] = [a + b for a, b in zip(row, counts, strict=True)]
    report.monitoring = api.call("communication", "GET", "/monitoring", CORA)
    ours_changes = set(quarter.changes.values())
    report.cmdb_changes = [
        c for c in api.call("cmdb", "GET", "/changes", MO) if c["change_id"] in ours_changes
    ]
    since = quarter.started_at.isoformat()
    report.drift = api.call("cmdb", "GET", "/drift", MO, params={"since": since})
    report.cmdb_refusals = [
        r
        for r in api.call("cmdb", "GET", "/refusals", MO)
        if datetime.fromisoformat(r["at"]) >= quarter.started_at
    ]
    started = time.perf_counter()
    for service in SERVICES:
        report.verified[service] = api.call(service, "GET", "/audit/verify", AUDREY)
    report.verify_seconds = time.perf_counter() - started
    return report


def show(report: Report, quarter: Quarter, console: Console) -> None:
    states = Table(title="Releases by state")
    states.add_column("state")
    states.add_column("releases", justify="right")
    for state, count in sorted(report.release_states.items()):
        states.add_row(state, str(count))
    console.print(states)

    money = Table(title="Budget against spend")
    for column in ("release", "state", "requested", "allocated", "spent"):
        money.add_column(column, justify="left" if column in {"release", "state"} else "right")
    for release in sorted(report.releases, key=lambda r: r["name"]):
        money.add_row(
            release["name"],
            release["state"],
            _money(release["budget"]["requested"]),
            _money(release["budget"]["allocated"]) or "refused",
            _money(release["budget"]["spent"]),
        )
    console.print(money)

    console.print(_heatmap(report.heatmap))

    acks = Table(title="Messages: delivery and acknowledgement")
    for column in ("release", "messages", "recipients", "delivered", "acknowledged", "overdue"):
        acks.add_column(column, justify="left" if column == "release" else "right")
    names = {r["id"]: r["name"] for r in report.releases}
    for row in report.monitoring["releases"]:
        if row["release_id"] in names:
            rates = row["rates"]
            acks.add_row(
                names[row["release_id"]],
                str(rates["messages"]),
                str(rates["recipients"]),
                _rate(rates["delivered_rate"]),
                _rate(rates["acknowledged_rate"]),
                str(rates["overdue"]),
            )
    console.print(acks)

    titles = {change_id: name for name, change_id in quarter.changes.items()}
    cmdb = Table(title="CMDB changes per change request")
    for column in ("change", "status", "CIs written", "writes"):
        cmdb.add_column(column, justify="right" if column == "writes" else "left")
    for change in sorted(report.cmdb_changes, key=lambda c: -len(c["writes"])):
        touched = sorted({w["ci"] for w in change["writes"]})
        shown = ", ".join(touched[:6]) + (f" +{len(touched) - 6}" if len(touched) > 6 else "")
        cmdb.add_row(
            titles.get(change["change_id"], change["change_id"]),
            change["status"],
            shown or "-",
            str(len(change["writes"])),
        )
    console.print(cmdb)
    for drift in report.drift:
        console.print(
            f"Drift ({drift['discovered_by']}): {drift['ci']} {drift['field']} is "
            f"{drift['observed']!r}, authorised {drift['authorised']!r}"
        )
    for refusal in report.cmdb_refusals:
        console.print(
            f"CMDB write refused: {refusal['operation']} {refusal['ci']} by {refusal['actor']} "
            f"({refusal['rule']})"
        )
    console.print(f"Refused as they should be: {len(quarter.refusals)}")
    for name, problem in quarter.refusals.items():
        console.print(f"  {problem.get('status')} {problem.get('rule', '')}: {name}")

    intact = all(v["intact"] for v in report.verified.values())
    events = sum(v["events"] for v in report.verified.values())
    console.print(
        f"audit verify: {'all four stores intact' if intact else 'BROKEN'}, "
        f"{events:,} events checked in {report.verify_seconds:.2f} s"
    )


def _money(value: dict[str, Any] | None) -> str:
    return f"{float(value['amount']):,.0f} {value['currency']}" if value else ""


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _heatmap(cells: list[list[int]]) -> Table:
    """Likelihood down, impact across; each cell counts the open risks scored there."""
    table = Table(title="Risk heat map (open risks, likelihood x impact)")
    table.add_column("likelihood \\ impact")
    for impact in range(1, 6):
        table.add_column(str(impact), justify="right")
    for likelihood in range(5, 0, -1):
        counts = cells[likelihood - 1]
        table.add_row(str(likelihood), *(str(n) if n else "." for n in counts))
    return table

"""`changeledger audit ...`: the audit trail, read straight from the event stores (never
from Kafka), the same way on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from changeledger.contracts import SERVICES
from changeledger.runtime.audit import Verification, audit_key, verify, witness_file
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import ServiceApplication, open_store

audit_app = typer.Typer(help="The audit trail: verify it, and read it.", no_args_is_help=True)
console = Console()


def services_of(service: str | None) -> list[str]:
    if service is None:
        return list(SERVICES)
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}; choose from {', '.join(SERVICES)}")
    return [service]


def open_service(service: str, settings: Settings) -> ServiceApplication:
    definition = importlib.import_module(f"changeledger.{service}.service").definition
    app: ServiceApplication = open_store(definition.application, service, settings)
    return app


@audit_app.command("verify")
def verify_command(
    service: Annotated[str | None, typer.Option(help="One service (default: all four)")] = None,
) -> None:
    """Check every event's hash chain and every signed checkpoint of the log; exit 1,
    naming the first broken link, if anything was altered, removed or added by hand."""
    settings = Settings()
    reports: list[Verification] = []
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        for name in services_of(service):
            task = progress.add_task(f"{name}: verifying", total=None)
            app = open_service(name, settings)

            def advance(events: int, task: TaskID = task, name: str = name) -> None:
                progress.update(task, description=f"{name}: {events:,} events")

            try:
                report = verify(app, audit_key(settings), witness_file(settings, name), advance)
            finally:
                app.close()
            progress.update(
                task, description=f"{name}: {report.events:,} events", total=1, completed=1
            )
            reports.append(report)
    table = Table(title="Audit trail")
    for column in (
        "service",
        "events",
        "aggregates",
        "checkpoints",
        "unsealed",
        "events/s",
        "result",
    ):
        table.add_column(column, justify="left" if column in ("service", "result") else "right")
    for r in reports:
        table.add_row(
            r.service,
            f"{r.events:,}",
            f"{r.aggregates:,}",
            f"{r.checkpoints:,}",
            f"{r.unsealed:,}",
            f"{r.rate:,.0f}",
            "[green]intact[/green]" if r.intact else "[red]BROKEN[/red]",
        )
    console.print(table)
    broken = [r for r in reports if not r.intact]
    for r in broken:
        console.print(f"[red]{r.service}: {r.broken}[/red]")
    if broken:
        raise typer.Exit(1)

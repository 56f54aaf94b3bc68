"""`changeledger audit ...`: the audit trail, read straight from the event stores (never
from Kafka), the same way on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import importlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from uuid import UUID

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from changeledger.contracts import SERVICES
from changeledger.runtime.audit import audit_key, witness_file
from changeledger.runtime.history import (
    EXPORT_FIELDS,
    Entry,
    changed_between,
    export_record,
    flatten,
    history,
    state_at,
    stored_events,
    trace,
)
from changeledger.runtime.rebuild import rebuild
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import ServiceApplication, open_store
from changeledger.runtime.verification import verify
from changeledger.runtime.whatif import apply, fork

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


R = TypeVar("R")


def _per_service(
    names: list[str],
    settings: Settings,
    doing: str,
    work: Callable[[ServiceApplication, Callable[[int], None]], R],
) -> list[R]:
    """`work` on each service's store in turn, under a progress bar with events/s."""
    results: list[R] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        for name in names:
            app = open_service(name, settings)
            total = app.process_recorder.max_notification_id() or 0
            task = progress.add_task(f"{name}: {doing}", total=total, rate="")
            started = time.perf_counter()

            def advance(events: int, task: TaskID = task, started: float = started) -> None:
                rate = events / max(time.perf_counter() - started, 1e-9)
                progress.update(task, completed=events, rate=f"{rate:,.0f} events/s")

            try:
                results.append(work(app, advance))
            finally:
                app.close()
            advance(total)
    return results


@audit_app.command("verify")
def verify_command(
    service: Annotated[str | None, typer.Option(help="One service (default: all four)")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Processes that check a log of more than 100,000 events in parallel",
        ),
    ] = os.cpu_count() or 1,
) -> None:
    """Check every event's hash chain and every signed checkpoint of the log; exit 1,
    naming the first broken link, if anything was altered, removed or added by hand."""
    settings = Settings()
    key = audit_key(settings)
    reports = _per_service(
        services_of(service),
        settings,
        "verifying",
        lambda app, advance: verify(
            app, key, witness_file(settings, app.name), advance, workers=workers
        ),
    )
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


def _find(aggregate_id: UUID, settings: Settings) -> tuple[str, ServiceApplication]:
    """The service whose store holds the aggregate (opened; the caller closes it)."""
    for name in SERVICES:
        app = open_service(name, settings)
        if app.contains(aggregate_id):
            return name, app
        app.close()
    console.print(f"[red]no service's store holds {aggregate_id}[/red]")
    raise typer.Exit(2)


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _show_entries(title: str, entries: list[Entry], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([e.as_json() for e in entries], indent=2))
        return
    table = Table(title=title, show_lines=True)
    for column in ("when", "service", "event", "who", "why", "what changed"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            e.at.isoformat(timespec="seconds"),
            e.service,
            f"{e.event} (v{e.version})",
            f"{e.actor}\n[dim]{', '.join(e.roles)}[/dim]",
            f"{e.command}\n[dim]correlation {e.correlation_id}\ncausation {e.causation_id}[/dim]",
            "\n".join(f"{f}: {_short(b)} -> {_short(a)}" for f, b, a in e.changes),
        )
    console.print(table)


def _short(value: object) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


AsJson = Annotated[bool, typer.Option("--json", help="JSON instead of a table")]


@audit_app.command("history")
def history_command(aggregate_id: UUID, as_json: AsJson = False) -> None:
    """Every event of an aggregate: when, who, why, and what it changed."""
    name, app = _find(aggregate_id, Settings())
    try:
        _show_entries(f"{name} {aggregate_id}", history(app, aggregate_id), as_json)
    finally:
        app.close()


@audit_app.command("at")
def at_command(
    aggregate_id: UUID,
    as_of: Annotated[str, typer.Option("--as-of", help="ISO 8601 time")],
    as_json: AsJson = False,
) -> None:
    """An aggregate's state as it was at a time."""
    moment = _moment(as_of)
    name, app = _find(aggregate_id, Settings())
    try:
        state = state_at(app, aggregate_id, moment)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps(state, indent=2))
        return
    table = Table(title=f"{name} {aggregate_id} at {moment.isoformat()}")
    table.add_column("field")
    table.add_column("value")
    for field_name, value in flatten(state).items():
        table.add_row(field_name, _short(value))
    console.print(table if state else "[yellow]it did not exist yet[/yellow]")


@audit_app.command("diff")
def diff_command(
    aggregate_id: UUID,
    since: Annotated[str, typer.Option("--from", help="ISO 8601 time")],
    until: Annotated[str, typer.Option("--to", help="ISO 8601 time")],
    as_json: AsJson = False,
) -> None:
    """What changed in an aggregate between two times, and the events that changed it."""
    start, end = _moment(since), _moment(until)
    if end < start:
        raise typer.BadParameter("--to is before --from")
    name, app = _find(aggregate_id, Settings())
    try:
        changed, events = changed_between(app, aggregate_id, start, end)
    finally:
        app.close()
    if as_json:
        body = {
            "changes": [{"field": f, "before": b, "after": a} for f, b, a in changed],
            "events": [e.as_json() for e in events],
        }
        typer.echo(json.dumps(body, indent=2))
        return
    table = Table(title=f"{name} {aggregate_id}: {start.isoformat()} -> {end.isoformat()}")
    for column in ("field", "before", "after"):
        table.add_column(column)
    for f, b, a in changed:
        table.add_row(f, _short(b), _short(a))
    console.print(table)
    _show_entries("by these events", events, False)


@audit_app.command("trace")
def trace_command(correlation_id: str, as_json: AsJson = False) -> None:
    """One business action followed across all four services, in time order."""
    settings = Settings()
    entries: list[Entry] = []
    for name in SERVICES:
        app = open_service(name, settings)
        try:
            entries += trace(app, correlation_id)
        finally:
            app.close()
    entries.sort(key=lambda e: e.at)
    _show_entries(f"correlation {correlation_id}", entries, as_json)


@audit_app.command("export")
def export_command(
    service: Annotated[str, typer.Option(help="The service whose store to export")],
    since: Annotated[str | None, typer.Option("--from", help="ISO 8601 time")] = None,
    until: Annotated[str | None, typer.Option("--to", help="ISO 8601 time")] = None,
    format: Annotated[str, typer.Option(help="jsonl or csv")] = "jsonl",
    output: Annotated[Path | None, typer.Option(help="File to write (default: stdout)")] = None,
) -> None:
    """Every stored event in a time range, with the envelope fields (streamed)."""
    if format not in ("jsonl", "csv"):
        raise typer.BadParameter("--format is jsonl or csv")
    start = _moment(since) if since else None
    end = _moment(until) if until else None
    (name,) = services_of(service)
    app = open_service(name, Settings())
    sink = output.open("w", newline="") if output else sys.stdout
    try:
        writer = csv.DictWriter(sink, EXPORT_FIELDS) if format == "csv" else None
        if writer is not None:
            writer.writeheader()
        for position, event in stored_events(app, start, end):
            record = export_record(name, position, event)
            if writer is not None:
                writer.writerow(record)
            else:
                sink.write(json.dumps(record) + "\n")
    finally:
        app.close()
        if output:
            sink.close()


def _live_read_models(url: str, token: str | None) -> dict[str, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        answer = httpx.get(f"{url.rstrip('/')}/audit/read-models", headers=headers, timeout=60)
    except httpx.HTTPError as error:
        raise typer.BadParameter(f"{url} does not answer: {error}") from None
    if answer.status_code != 200:
        detail = (
            answer.json().get("detail")
            if answer.headers.get("content-type", "").endswith("json")
            else answer.text
        )
        raise typer.BadParameter(f"{url} answered {answer.status_code}: {detail}")
    live: dict[str, dict[str, Any]] = answer.json()
    return live


@audit_app.command("rebuild")
def rebuild_command(
    service: Annotated[str | None, typer.Option(help="One service (default: all four)")] = None,
    against: Annotated[
        str | None,
        typer.Option(
            help="The URL of the service running on this store: compare its in-memory read "
            "models too (needs --service, and an auditor's token)",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="CHANGELEDGER_TOKEN", help="Bearer token for --against"),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(min=1, help="Processes that fold a log of 100,000 events or more in parallel"),
    ] = os.cpu_count() or 1,
) -> None:
    """Replay a service's store into fresh aggregates and read models, and compare them
    with its snapshots and, with --against, with the running service's read models; exit
    1 listing every difference."""
    live = None
    if against is not None:
        if service is None:
            raise typer.BadParameter("--against names one service's URL: give --service too")
        live = _live_read_models(against, token)
    reports = _per_service(
        services_of(service),
        Settings(),
        "replaying",
        lambda app, progress: rebuild(app, progress, live, workers),
    )
    table = Table(title="Rebuilt from the events")
    for column in ("service", "events", "aggregates", "snapshots", "read models", "events/s"):
        table.add_column(column, justify="left" if column == "service" else "right")
    table.add_column("result")
    for r in reports:
        compared = f", compared with {against}" if r.views_compared else ""
        table.add_row(
            r.service,
            f"{r.events:,}",
            f"{r.aggregates:,}",
            f"{r.snapshots_checked:,}",
            ", ".join(f"{k} ({v:,})" for k, v in r.views.items()) + compared,
            f"{r.rate:,.0f}",
            "[green]consistent[/green]" if not r.differences else "[red]DIFFERS[/red]",
        )
    console.print(table)
    differing = [d for r in reports for d in r.differences]
    for difference in differing:
        console.print(f"[red]{difference}[/red]")
    if differing:
        raise typer.Exit(1)


@audit_app.command("what-if")
def what_if_command(
    service: Annotated[str, typer.Option(help="The service whose store to fork")],
    until: Annotated[str, typer.Option(help="Fork the store as it was at this time")],
    then: Annotated[Path, typer.Option(help="A JSONL file of commands to apply")],
    as_json: AsJson = False,
) -> None:
    """Fork a service's store at a time into a scratch store, apply hypothetical
    commands, and show what they would change and which would be refused. The real
    store is only read."""
    moment = _moment(until)
    if not then.is_file():
        raise typer.BadParameter(f"{then} is not a file")
    (name,) = services_of(service)
    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="changeledger-what-if-") as scratch:
        app = open_service(name, settings)
        try:
            copy = fork(
                app,
                moment,
                settings.model_copy(update={"store": "sqlite", "data_dir": Path(scratch)}),
            )
        finally:
            app.close()
        try:
            outcomes = apply(copy, then.read_text().splitlines())
        finally:
            copy.close()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "line": o.line,
                        "command": o.command,
                        "status": o.status,
                        "conflict": o.conflict,
                        "rule": o.rule,
                        "detail": o.detail,
                        "changed": [e.as_json() for e in o.changed],
                    }
                    for o in outcomes
                ],
                indent=2,
            )
        )
        return
    table = Table(title=f"What if, in {name} as it was at {moment.isoformat()}", show_lines=True)
    for column in ("line", "command", "result", "what changed, or why not"):
        table.add_column(column)
    colours = {"applied": "green", "refused": "red", "invalid": "yellow"}
    for o in outcomes:
        result = f"[{colours[o.status]}]{o.status}{' (conflict)' if o.conflict else ''}[/]"
        detail = (
            "\n".join(
                f"{e.event} {e.aggregate_id}: {f}: {_short(b)} -> {_short(a)}"
                for e in o.changed
                for f, b, a in e.changes
            )
            if o.status == "applied"
            else f"{o.rule + ': ' if o.rule else ''}{o.detail}"
        )
        table.add_row(str(o.line), o.command, result, detail)
    console.print(table)

"""The `changeledger` command: run the system, mint local tokens, manage local servers."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from changeledger.cli.audit import audit_app
from changeledger.contracts import SERVICES
from changeledger.runtime import shared_port
from changeledger.runtime.settings import PORTS, Settings

app = typer.Typer(help="Changeledger: event-sourced IT release management.", no_args_is_help=True)
kafka_app = typer.Typer(help="The local Apache Kafka broker (KRaft, jars from Maven Central).")
postgres_app = typer.Typer(help="The local PostgreSQL server (Debian's package).")
contracts_app = typer.Typer(help="The published contracts: JSON Schemas and compatibility.")
app.add_typer(kafka_app, name="kafka")
app.add_typer(postgres_app, name="postgres")
app.add_typer(contracts_app, name="contracts")
app.add_typer(audit_app, name="audit")

console = Console()
ServiceName = Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}")]


def _check_service(name: str) -> str:
    if name not in SERVICES:
        raise typer.BadParameter(f"unknown service {name!r}; choose from {', '.join(SERVICES)}")
    return name


@app.command()
def serve(
    service: ServiceName,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: the service's own)")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Processes sharing the port and the store, each on a core of its own; "
            "one of them runs the relay",
        ),
    ] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request")] = False,
) -> None:
    """Run one service's HTTP API, relay and consumers in this process (or in `--workers`)."""
    import uvicorn

    _check_service(service)
    settings = Settings()
    process = " [%(process)d]" if workers > 1 else ""
    line = f"%(asctime)s {service}{process} %(levelname)s %(name)s: %(message)s"
    # Given to uvicorn rather than set here, so that every worker process logs alike.
    log_config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": line}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"level": "INFO", "handlers": ["stderr"]},
    }
    options: dict[str, Any] = {
        "factory": True,
        "host": host or settings.host,
        "port": port or settings.port_of(service),
        "workers": workers,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": access_log,
        "log_config": log_config,
        "log_level": "info",
        "timeout_graceful_shutdown": 10,
    }
    if workers == 1 or not shared_port.SUPPORTED:
        uvicorn.run(_factory(service), **options)
        return
    from uvicorn.supervisors import Multiprocess

    # Each worker builds the application itself; one that cannot exits as failed to
    # start, so that the supervisor stops, rather than starting it again and again.
    config = uvicorn.Config(partial(_worker_app, service), **options)
    log = logging.getLogger("uvicorn.error")
    try:
        sock = shared_port.shared_port(config.host, config.port)
    except shared_port.PortInUse as error:
        log.error("%s", error)
        raise typer.Exit(shared_port.STARTUP_FAILURE) from None
    address, bound = sock.getsockname()[:2]
    log.info(
        "Uvicorn running on http://%s:%d with %d workers, a socket each (Press CTRL+C to quit)",
        f"[{address}]" if ":" in address else address,
        bound,
        workers,
    )
    supervisor = Multiprocess(config, sockets=[sock])
    with contextlib.suppress(KeyboardInterrupt):
        supervisor.run()
    if any(p.exitcode == shared_port.STARTUP_FAILURE for p in supervisor.processes):
        raise typer.Exit(shared_port.STARTUP_FAILURE)


def _factory(service: str) -> str:
    return f"changeledger.{service}.service:create_app"


def _worker_app(service: str) -> Any:
    """The application of one `serve --workers` process (an app factory for uvicorn)."""
    from uvicorn.importer import import_from_string

    try:
        return import_from_string(_factory(service))()
    except Exception:
        logging.getLogger("uvicorn.error").exception("%s could not start", service)
        sys.exit(shared_port.STARTUP_FAILURE)


@app.command()
def run(
    kafka: Annotated[
        bool, typer.Option(help="Start the local Kafka broker (off: use the configured one)")
    ] = True,
) -> None:
    """Start Kafka and the four services on SQLite stores under ./var; Ctrl-C stops them all."""
    from changeledger.deploy import KafkaLauncher

    settings = Settings()
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    launcher = KafkaLauncher(settings.data_dir / "kafka")
    processes: dict[str, subprocess.Popen[bytes]] = {}
    interrupted = False
    exit_code = 0

    def on_signal(signum: int, frame: object) -> None:
        nonlocal interrupted
        interrupted = True

    # Both, explicitly: a shell that starts us in the background makes us ignore SIGINT.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if kafka:
            console.print(f"Starting Apache Kafka on {launcher.bootstrap_servers} ...")
            launcher.start()
        for name in SERVICES:
            if interrupted:  # Ctrl-C while Kafka started
                break
            log_file = (logs / f"{name}.log").open("ab")
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", "changeledger.cli", "serve", name],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**os.environ, "CHANGELEDGER_STORE": settings.store},
            )
        if _wait_ready(settings, processes, stopping=lambda: interrupted):
            _print_services(settings, launcher.bootstrap_servers, logs)
        while not interrupted:
            for name, process in processes.items():
                if process.poll() is not None:
                    console.print(f"[red]{name} exited ({process.returncode}); see {logs}[/red]")
                    interrupted = True
            time.sleep(0.5)
    except StartupFailed as failure:
        console.print(f"[red]{failure}[/red]")
        exit_code = 1
    finally:
        console.print("Stopping ...")
        _stop_services(processes)
        if kafka:
            launcher.stop()
        console.print("Stopped.")
    raise typer.Exit(exit_code)


class StartupFailed(Exception):
    pass


def _stop_services(processes: dict[str, subprocess.Popen[bytes]], timeout: float = 20.0) -> None:
    """Stop each service with SIGTERM, and kill any still running after `timeout`.

    Not SIGINT: Ctrl-C in a terminal reaches the whole process group, so the services may
    be stopping already, and uvicorn takes a SIGINT after an earlier signal as "exit now",
    skipping the service's own shutdown (consumers leaving their group, the store closed).
    A SIGTERM never cuts a shutdown short."""
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes.values():
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(
    settings: Settings,
    processes: dict[str, subprocess.Popen[bytes]],
    stopping: Callable[[], bool],
    timeout: float = 90.0,
) -> bool:
    """Wait until every service is ready; False when stopped meanwhile (Ctrl-C reaches
    the services too, so one that exits then has not failed)."""
    deadline = time.monotonic() + timeout
    pending = set(processes)
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            if stopping():
                return False
            if processes[name].poll() is not None:
                raise StartupFailed(f"{name} failed to start; see var/logs/{name}.log")
            try:
                url = f"http://127.0.0.1:{settings.port_of(name)}/readyz"
                if httpx.get(url, timeout=1.0).status_code == 200:
                    pending.discard(name)
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    if pending:
        raise StartupFailed(f"not ready after {timeout:.0f}s: {', '.join(sorted(pending))}")
    return True


def _print_services(settings: Settings, kafka: str, logs: Path) -> None:
    table = Table(title="Changeledger is running")
    table.add_column("service")
    table.add_column("API")
    table.add_column("docs")
    for name in SERVICES:
        base = f"http://127.0.0.1:{PORTS[name]}"
        table.add_row(name, base, f"{base}/docs")
    console.print(table)
    console.print(f"Kafka: {kafka}   stores: {settings.data_dir}/<service>.sqlite   logs: {logs}")
    console.print("Token: uv run changeledger token --sub alice --roles release-manager")
    console.print("Press Ctrl-C to stop everything.")


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="Who the token identifies")],
    roles: Annotated[str, typer.Option(help="Comma-separated roles")] = "",
    hours: Annotated[float, typer.Option(help="Hours until it expires")] = 12.0,
) -> None:
    """Mint a bearer token with the local development key (local mode only)."""
    from datetime import timedelta

    from changeledger.runtime.auth import ROLES, Authenticator, LocalModeOnly

    wanted = tuple(r.strip() for r in roles.split(",") if r.strip())
    unknown = sorted(set(wanted) - set(ROLES))
    if unknown:
        raise typer.BadParameter(f"unknown roles {unknown}; known: {', '.join(ROLES)}")
    try:
        typer.echo(Authenticator(Settings()).mint(sub, wanted, timedelta(hours=hours)))
    except LocalModeOnly as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None


@app.command()
def demo(
    start: Annotated[
        bool, typer.Option(help="Start the system first if it is not running (as `make run`)")
    ] = True,
) -> None:
    """Play one quarter through the public APIs of a running system, then report on it."""
    from changeledger.cli.demo.api import Unexpected
    from changeledger.cli.demo.play import play
    from changeledger.cli.demo.report import show

    settings = Settings()
    urls = {name: f"http://127.0.0.1:{PORTS[name]}" for name in SERVICES}
    system = None
    if not _running(urls):
        if not start:
            console.print("[red]The system is not running: start it with `make run`.[/red]")
            raise typer.Exit(1)
        console.print("The system is not running; starting it (as `make run`) ...")
        system = subprocess.Popen([sys.executable, "-m", "changeledger.cli", "run"])
    try:
        if system is not None:
            _wait_until_running(urls, system)
        started = time.perf_counter()
        played = play(urls, settings, lambda line: console.print(f"[bold]>[/bold] {line}"))
        console.rule(
            f"The quarter ({played.calls} API calls, {time.perf_counter() - started:.0f} s)"
        )
        show(played.report, played.quarter, console)
        console.print(f"Trace any step: changeledger audit trace {played.tag}-<change name>")
    except Unexpected as error:
        console.print(f"[red]The demo stopped: {error}[/red]")
        raise typer.Exit(1) from None
    finally:
        if system is not None:
            system.send_signal(signal.SIGINT)
            system.wait(timeout=60)


def _running(urls: dict[str, str]) -> bool:
    try:
        return all(
            httpx.get(f"{url}/readyz", timeout=2).status_code == 200 for url in urls.values()
        )
    except httpx.HTTPError:
        return False


def _wait_until_running(
    urls: dict[str, str], system: subprocess.Popen[bytes], timeout: float = 240.0
) -> None:
    deadline = time.monotonic() + timeout
    while not _running(urls):
        if system.poll() is not None or time.monotonic() > deadline:
            console.print("[red]The system did not start; see var/logs.[/red]")
            raise typer.Exit(1)
        time.sleep(1)


@app.command("cipher-key")
def cipher_key() -> None:
    """Make a new key for encrypting stores at rest (set CHANGELEDGER_CIPHER_KEY to it)."""
    from eventsourcing.cryptography import AESCipher

    typer.echo(AESCipher.create_key(32))


@app.command()
def permissions(
    write: Annotated[
        Path | None, typer.Option(help="Write the Markdown here instead of printing it")
    ] = None,
) -> None:
    """The permission matrix of every service, generated from the routes' declared roles."""
    print_or_write(permission_matrix(), write)


def permission_matrix() -> str:
    import importlib
    import tempfile

    from changeledger.runtime.permissions import matrix_markdown
    from changeledger.runtime.service import create_service

    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch))
        apps = {
            name: create_service(
                importlib.import_module(f"changeledger.{name}.service").definition, settings
            )
            for name in SERVICES
        }
        return matrix_markdown(apps)


def print_or_write(text: str, path: Path | None) -> None:
    if path is None:
        typer.echo(text)
    else:
        path.write_text(text + "\n")
        console.print(f"wrote {path}")


@kafka_app.command("start")
def kafka_start() -> None:
    """Start the broker (resolving its jars from Maven Central on first use)."""
    from changeledger.deploy import KafkaLauncher

    launcher = KafkaLauncher(Settings().data_dir / "kafka")
    launcher.start()
    console.print(f"Kafka is ready on {launcher.bootstrap_servers}")


@kafka_app.command("fetch")
def kafka_fetch() -> None:
    """Resolve the broker's jars from Maven Central into the cache (once per version)."""
    from changeledger.deploy.kafka import KAFKA_VERSION, resolve

    console.print(f"Apache Kafka {KAFKA_VERSION}: {resolve()}")


@kafka_app.command("stop")
def kafka_stop() -> None:
    from changeledger.deploy import KafkaLauncher

    KafkaLauncher(Settings().data_dir / "kafka").stop()


@postgres_app.command("start")
def postgres_start(port: int = 5432) -> None:
    """Start PostgreSQL (installing Debian's package when it is missing)."""
    from changeledger.deploy import PostgresLauncher

    launcher = PostgresLauncher(Settings().data_dir / "postgres", port=port)
    launcher.start()
    console.print(f"PostgreSQL is ready on 127.0.0.1:{port}; settings:")
    for key, value in launcher.env.items():
        console.print(f"  {key}={value}")


@postgres_app.command("install")
def postgres_install() -> None:
    """Install Debian's postgresql package when no server is installed (needs root)."""
    from changeledger.deploy.postgres import ensure_installed

    console.print(f"PostgreSQL: {ensure_installed()}")


@postgres_app.command("stop")
def postgres_stop(port: int = 5432) -> None:
    from changeledger.deploy import PostgresLauncher

    PostgresLauncher(Settings().data_dir / "postgres", port=port).stop()


@contracts_app.command("export")
def contracts_export() -> None:
    """Write the JSON Schemas of new or compatibly changed contracts."""
    from changeledger.contracts.schemas import IncompatibleChange, export

    try:
        changed = export()
    except IncompatibleChange as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    for path in changed:
        console.print(f"wrote {path}")
    if not changed:
        console.print("schemas are up to date")


def main() -> None:
    app()

"""Run services for a test: as real processes (killable), or in-process runtimes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from changeledger.runtime.auth import Authenticator
from changeledger.runtime.service import ServiceDefinition, ServiceRuntime
from changeledger.runtime.settings import Settings
from tests.support.infra import KafkaServer, PostgresServer, free_port

T = TypeVar("T")


def isolated_settings(
    tmp_path: Path, kafka: KafkaServer | None, postgres: PostgresServer | None, **overrides: Any
) -> Settings:
    """Settings of one test: its own data folder, PostgreSQL schemas and Kafka topics.

    Without a Kafka server the settings point at a port where nothing listens."""
    run = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "kafka_bootstrap_servers": (
            kafka.bootstrap_servers if kafka else f"127.0.0.1:{free_port()}"
        ),
        "kafka_topic_prefix": f"t{run}-",
        "postgres_schema_prefix": f"t{run}_",
        "relay_idle_poll_seconds": 0.5,
    }
    if postgres is not None:
        values |= postgres.settings
    else:
        values["store"] = "sqlite"
    values |= overrides
    return Settings(**values)


def settings_env(settings: Settings) -> dict[str, str]:
    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, tuple):
            value = json.dumps(list(value))
        env[f"CHANGELEDGER_{name.upper()}"] = str(value)
    return env


def bearer(settings: Settings, sub: str = "alice", *roles: str) -> dict[str, str]:
    token = Authenticator(settings).mint(sub, roles or ("release-manager",))
    return {"Authorization": f"Bearer {token}"}


@dataclass
class ServiceProcess:
    """One service running as its own process, as `changeledger serve` runs it."""

    name: str
    settings: Settings
    port: int = field(default_factory=free_port)
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def log_file(self) -> Path:
        return self.settings.data_dir / f"{self.name}-{self.port}.log"

    def start(self, timeout: float = 30.0) -> ServiceProcess:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **settings_env(self.settings)}
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "changeledger.cli",
                    "serve",
                    self.name,
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group, workers included
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_file.read_text()[-3000:]}")
            try:
                answered = httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                answered = False
            # With workers, one answering is not all of them taking requests.
            started = self.workers == 1 or len(self.worker_pids("startup complete")) == self.workers
            if answered and started:
                return self
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} did not start: {self.log_file.read_text()[-3000:]}")

    def worker_pids(self, line: str) -> set[str]:
        """The worker processes that have logged `line` (with `workers` > 1)."""
        pattern = re.compile(rf"\[(\d+)\] .*{re.escape(line)}")
        lines = self.log_file.read_text().splitlines()
        return {match[1] for match in map(pattern.search, lines) if match}

    def wait_ready(self, timeout: float = 60.0) -> dict[str, Any]:
        return eventually(lambda: self._ready(), timeout=timeout, what=f"{self.name} ready")

    def _ready(self) -> dict[str, Any] | None:
        response = httpx.get(f"{self.url}/readyz", timeout=5)
        return response.json() if response.status_code == 200 else None

    def kill(self) -> None:
        """SIGKILL to the service and its workers: no chance to tidy up, as in a crash."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):  # none of them left
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self, *roles: str, sub: str = "alice") -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers=bearer(self.settings, sub, *roles), timeout=10
        )


def eventually(
    check: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.05, what: str = ""
) -> T:
    """Poll `check` until it returns a truthy value; a bounded wait, not a timing assertion."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (httpx.HTTPError, AssertionError) as error:
            last_error = error
        time.sleep(interval)
    raise AssertionError(f"not reached within {timeout}s: {what or check} ({last_error})")


async def eventually_async(
    check: Callable[[], Awaitable[T | None]], timeout: float = 30.0, what: str = ""
) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached within {timeout}s: {what or check}")


@asynccontextmanager
async def running(definition: ServiceDefinition[Any], settings: Settings) -> AsyncIterator[Any]:
    """A service's store, relay and consumers running in this event loop (no HTTP)."""
    runtime: ServiceRuntime[Any] = ServiceRuntime(definition, settings)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def connected(runtime: ServiceRuntime[Any], timeout: float = 60.0) -> None:
    async def check() -> bool:
        return runtime.broker is not None

    await eventually_async(check, timeout, what=f"{runtime.name} connected to Kafka")

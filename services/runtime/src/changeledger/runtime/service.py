"""Service assembly: one function wires a service's store, relay, consumers and routes.

    api = create_service(ServiceDefinition(
        name="planning",
        application=PlanningApplication,
        routers=[releases.router],
        translations=translations,
        policies=policies,
    ))

The service answers HTTP even while Kafka is away: commands are stored, and the relay
publishes them when the broker is back. `/readyz` says which parts are up.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.kafka import KafkaBroker
from faststream.specification import get_asyncapi_html

from changeledger.contracts import dlq_of, topic_of
from changeledger.runtime.asyncapi import asyncapi_document
from changeledger.runtime.audit import Sealer, audit_key, witness_file
from changeledger.runtime.audit_api import router as audit_router
from changeledger.runtime.auth import Authenticator
from changeledger.runtime.consumer import Consumer, Policies
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.http import RequestGuard, authenticated
from changeledger.runtime.kafka import ensure_topics, make_broker, producer_of
from changeledger.runtime.leadership import FileLeadership, Leadership, PostgresLeadership
from changeledger.runtime.paging import PAGE_HEADERS
from changeledger.runtime.permissions import document_roles
from changeledger.runtime.problems import install_problem_handlers
from changeledger.runtime.relay import Outgoing, Relay, Translations
from changeledger.runtime.retry import until_it_works
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import (
    ServiceApplication,
    open_store,
    postgres_conninfo,
    sqlite_path,
)
from changeledger.runtime.threads import WorkerThreads
from changeledger.runtime.wakeups import PostgresWakeups, SocketWakeups

log = logging.getLogger(__name__)

AppT = TypeVar("AppT", bound=ServiceApplication)

#: How long a served process's threads hold the GIL while another waits for it.
GIL_SWITCH_SECONDS = 0.001
#: The garbage collector's thresholds in a served process (Python's are 700, 10, 10).
GC_THRESHOLDS = (10_000, 20, 100)


@dataclass(frozen=True)
class Job(Generic[AppT]):
    """Work a service does on its own clock, with no request arriving: `run(app)` every
    `interval` seconds (default `CHANGELEDGER_JOB_INTERVAL_SECONDS`), as the service, on
    the one replica whose relay leads."""

    name: str
    run: Callable[[AppT], object]
    interval: float | None = None


@dataclass
class ServiceDefinition(Generic[AppT]):
    name: str
    application: type[AppT]
    routers: Sequence[APIRouter] = ()
    #: Routes that need no token (acknowledgement links, say): they authenticate otherwise.
    public_routers: Sequence[APIRouter] = ()
    translations: Translations = field(default_factory=Translations)
    policies: Policies[AppT] = field(default_factory=Policies)
    jobs: Sequence[Job[AppT]] = ()
    description: str = ""


class ServiceRuntime(Generic[AppT]):
    """The running parts of one service, started and stopped with its HTTP server."""

    def __init__(self, definition: ServiceDefinition[AppT], settings: Settings) -> None:
        self.definition = definition
        self.settings = settings
        self.name = definition.name
        self.topic = settings.topic(topic_of(definition.name))
        self.app: AppT
        self.broker: KafkaBroker | None = None
        #: The broker's aiokafka producer, through which the relay sends (`producer_of`).
        self._producer: AIOKafkaProducer
        self.kafka_error: str | None = "not connected yet"
        self.relay: Relay
        self.consumer: Consumer[AppT]
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False
        self._connected = asyncio.Event()
        self._wakeups: PostgresWakeups | None = None
        self._saves_elsewhere: SocketWakeups | None = None
        self.threads = WorkerThreads()
        #: Background parts that failed and are being restarted, with their last error.
        self.failures: dict[str, str] = {}

    async def start(self) -> None:
        if self._stopped or self._tasks:
            raise RuntimeError(f"{self.name}: a runtime starts once; make a new one")
        self.app = await asyncio.to_thread(
            open_store, self.definition.application, self.name, self.settings
        )
        self.app.configure(self.settings)
        if self.settings.store == "sqlite":
            # Other workers on this file tell the leading relay of their saves.
            self._saves_elsewhere = SocketWakeups(sqlite_path(self.name, self.settings))
        self.relay = Relay(
            app=self.app,
            source=self.name,
            topic=self.topic,
            translate=self.definition.translations,
            publisher=self,
            leadership=self._leadership(),
            batch_size=self.settings.relay_batch_size,
            idle_poll_seconds=self.settings.relay_idle_poll_seconds,
            position_interval_seconds=self.settings.relay_position_interval_seconds,
            threads=self.threads,
            saves_elsewhere=self._saves_elsewhere,
        )
        if self._saves_elsewhere is not None:
            self.app.on_saved(self._announce_save)
        self.consumer = Consumer(
            self.app,
            self.name,
            self.definition.policies,
            topic_prefix=self.settings.kafka_topic_prefix,
            threads=self.threads,
        )
        if self.settings.store == "postgres":
            # Saves by other replicas reach this relay through the database itself.
            channel = getattr(self.app.recorder, "channel_name", self.name)
            self._wakeups = PostgresWakeups(
                postgres_conninfo(self.settings),
                channel,
                self.relay.wake,
                own=getattr(self.app.recorder, "saver", None),
            )
            self._wakeups.start()
        self._tasks = [
            asyncio.create_task(self._supervise(self.relay.run, "relay")),
            asyncio.create_task(self._supervise(self.consumer.run, "consumer")),
            asyncio.create_task(self._supervise(self._connect_kafka, "kafka", restart=False)),
            *(
                asyncio.create_task(self._supervise(partial(self._every, job), job.name))
                for job in [*self.definition.jobs, *self._sealing()]
            ),
        ]

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        await self.consumer.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.relay.leadership.release()
        if self._wakeups is not None:
            await asyncio.to_thread(self._wakeups.stop)
        if self.broker is not None:
            with contextlib.suppress(Exception):
                await self.broker.stop()
        if not await self.threads.drain():
            log.warning("%s: store calls still running at shutdown", self.name)
        await asyncio.to_thread(self.app.close)
        if self._saves_elsewhere is not None:
            self._saves_elsewhere.close()

    def _announce_save(self) -> None:
        # A leading relay here is woken directly (`Relay.wake`).
        if self._saves_elsewhere is not None and not self.relay.is_leader:
            self._saves_elsewhere.announce()

    # Publisher, for the relay
    async def send(self, topic: str, message: Outgoing) -> Awaitable[Any]:
        await self._connected.wait()
        future: Awaitable[Any] = await self._producer.send(
            topic, message.value, key=message.key, headers=message.headers
        )
        return future

    @property
    def topics(self) -> list[str]:
        own = [self.topic, dlq_of(self.topic)]
        return sorted({*own, *self.consumer.topics, *self.consumer.dlq_topics})

    def _leadership(self) -> Leadership:
        if self.settings.store == "postgres":
            conninfo = postgres_conninfo(self.settings)
            schema = f"{self.settings.postgres_schema_prefix}{self.name}"
            return PostgresLeadership(conninfo, f"changeledger-relay:{schema}")
        return FileLeadership(self.settings.data_dir / f"{self.name}.relay.lock")

    async def _connect_kafka(self) -> None:
        """Connect the broker and its consumers, retrying until Kafka answers."""

        def report(error: str) -> None:
            self.kafka_error = error

        async for attempt in until_it_works(
            f"{self.name}: connecting to Kafka", cap=10.0, report=report
        ):
            with attempt:
                # A broker that failed to start is not reused: each attempt starts afresh.
                broker = make_broker(self.name, self.settings)
                self.consumer.attach(broker)
                try:
                    await ensure_topics(self.settings, self.topics)
                    await broker.start()
                    # Here, so that a FastStream that keeps it elsewhere fails the connect,
                    # where readiness reports it, rather than each send.
                    producer = producer_of(broker)
                except BaseException:  # failed, or cancelled by a stop: close what it opened
                    with contextlib.suppress(Exception):
                        await broker.stop()
                    raise
        self.broker, self._producer = broker, producer
        self.kafka_error = None
        self._connected.set()
        log.info("%s: connected to Kafka at %s", self.name, self.settings.kafka_bootstrap_servers)

    def _sealing(self) -> list[Job[AppT]]:
        key, witness = audit_key(self.settings), witness_file(self.settings, self.name)
        sealer = Sealer(self.app, key, witness)
        return [
            # Hashing the log as it grows keeps each seal short.
            Job("hash-audit-log", lambda _: sealer.advance(), 1.0),
            Job("seal-audit-log", lambda _: sealer.seal(), self.settings.seal_interval_seconds),
        ]

    async def _every(self, job: Job[AppT]) -> None:
        provenance = Provenance(
            actor=Actor(sub=f"service:{self.name}", roles=("service",)),
            correlation_id=f"job:{job.name}",
            command=f"job:{job.name}",
        )

        def run() -> object:
            with acting(provenance):
                return job.run(self.app)

        while True:
            await asyncio.sleep(job.interval or self.settings.job_interval_seconds)
            # One replica does the service's own work, the one whose relay leads: two
            # schedulers would both deliver a due message before either recorded it.
            if self.relay.is_leader:
                await self.threads.run(run)

    async def _supervise(
        self, work: Callable[[], Awaitable[None]], what: str, restart: bool = True
    ) -> None:
        """Run a background part; if it fails, report it and start it again."""
        delay = 1.0
        while True:
            try:
                await work()
                if not restart or self._stopped:
                    return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.failures[what] = f"{type(error).__name__}: {error}"
                log.exception("%s: %s failed; restarting in %.0fs", self.name, what, delay)
            if self._stopped:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
            self.failures.pop(what, None)

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        store: dict[str, Any] = {"kind": self.settings.store}
        try:
            head = await asyncio.wait_for(
                asyncio.to_thread(self.app.process_recorder.max_notification_id), 5
            )
            store |= {"ready": True, "head": head or 0}
        except Exception as error:
            store |= {"ready": False, "error": f"{type(error).__name__}: {error}"}
        # Saves per write: how well group commit shares the commits of commands' saves.
        group = self.app.group_commit
        store |= {"writes": group.writes, "saves": group.batches}
        kafka: dict[str, Any] = {"bootstrap_servers": self.settings.kafka_bootstrap_servers}
        if self.broker is not None:
            kafka["ready"] = await self.broker.ping(timeout=2.0)
        else:
            kafka |= {"ready": False, "error": self.kafka_error}
        relay = {
            "leader": self.relay.is_leader,
            "position": self.relay.position or 0,
            "acked": self.relay.acked or 0,
            "published": self.relay.published,
            "read_from_store": self.relay.read_from_store,
            "reads": self.relay.reads,
            "last_error": self.relay.last_error,
        }
        consumer = self.consumer.status()
        ready = bool(store["ready"] and kafka["ready"] and not self.failures)
        parts = {"store": store, "kafka": kafka, "relay": relay, "consumer": consumer}
        return ready, parts | {"failing": dict(self.failures)}


def create_service(
    definition: ServiceDefinition[AppT],
    settings: Settings | None = None,
    *,
    served: bool = False,
) -> FastAPI:
    """The service's HTTP app, starting and stopping its runtime with the app's lifespan.

    `served` is for a process that serves only this app (`changeledger serve`):
    - its event loop's thread pool, which runs every store call, gets `store_threads`
      threads rather than Python's default (min(32, cores + 4)). Commands waiting for
      the write share its commit (group commit), so more of them waiting means fewer
      commits: two planning workers on one SQLite file did about 10% more commands with
      16 threads each than with 6, and PostgreSQL more still;
    - a thread waiting for the GIL gets it after 1 ms rather than Python's 5: an event
      handed from the event loop to a store thread and back waits for the GIL at each
      hop. Propagation's p99 at 200 commands/s: 38-55 ms against 52-65 ms (six runs
      against three);
    - once started, everything then alive moves out of the garbage collector's sight.
      Measured on the propagation benchmark, full collections over the imported
      libraries otherwise paused each service for 50 to 120 ms every few seconds, the
      better part of its p99;
    - and the collector runs less often (`GC_THRESHOLDS`). What a service builds while
      it runs (its live views grow with each release) still came to full collections of
      20-70 ms every 6 s or so in planning and risk, at 200 commands/s; now a collection
      of the middle generation, about 20 ms, every 20 s, and propagation's p99 on
      PostgreSQL was 29.7 ms against 45-59 ms.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        # A runtime per lifespan: a test client may start and stop one app several times.
        runtime = ServiceRuntime(definition, settings)
        api.state.runtime = runtime
        if served:
            store_pool = ThreadPoolExecutor(
                settings.store_threads, thread_name_prefix=definition.name
            )
            asyncio.get_running_loop().set_default_executor(store_pool)
            sys.setswitchinterval(GIL_SWITCH_SECONDS)
        await runtime.start()
        api.state.application = runtime.app
        if served:
            gc.collect()
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
        try:
            yield
        finally:
            await runtime.stop()

    api = FastAPI(
        title=f"Changeledger {definition.name}",
        description=definition.description,
        version="0.1.0",
        lifespan=lifespan,
    )
    api.state.settings = settings
    api.state.authenticator = Authenticator(settings)
    api.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        api.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "Idempotency-Key",
                "X-Correlation-Id",
            ],
            expose_headers=["ETag", "X-Correlation-Id", "Location", *PAGE_HEADERS],
        )
    install_problem_handlers(api)

    @api.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": definition.name}

    @api.get("/readyz", tags=["operations"])
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the store answers and Kafka is connected."""
        ready, parts = await request.app.state.runtime.readiness()
        body = {"status": "ready" if ready else "not ready", "service": definition.name, **parts}
        return JSONResponse(body, status_code=200 if ready else 503)

    for router in definition.routers:
        api.include_router(router, dependencies=[Depends(authenticated)])
    for router in definition.public_routers:
        api.include_router(router)
    api.include_router(audit_router, dependencies=[Depends(authenticated)])
    document_roles(api)
    _serve_asyncapi(api, definition, settings)
    return api


def _serve_asyncapi(api: FastAPI, definition: ServiceDefinition[Any], settings: Settings) -> None:
    document = asyncapi_document(
        definition.name, definition.description, definition.policies, settings
    )

    @api.get("/docs/asyncapi.json", tags=["operations"], include_in_schema=False)
    async def asyncapi_json() -> Response:
        """The AsyncAPI document of the topics this service publishes and consumes."""
        return Response(document.to_json(), media_type="application/json")

    @api.get("/docs/asyncapi", tags=["operations"], include_in_schema=False)
    async def asyncapi_html() -> HTMLResponse:
        return HTMLResponse(get_asyncapi_html(document))


async def application(request: Request) -> Any:
    """Dependency: the service's eventsourcing application."""
    return request.app.state.application

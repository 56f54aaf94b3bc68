"""What every service's HTTP API uses: authentication, roles, command context, limits.

A route declares what it needs:

    @router.post("/releases", status_code=201)
    async def plan_release(
        body: PlanRelease,
        command: Command = requires("release-manager"),
        app: PlanningApplication = Depends(application),
    ) -> ReleaseView:
        release_id = await command.run(app.plan_release, body.name, ...)

`command.run` executes the application method with the provenance of this request, so
every event it records names the actor, the command, and the correlation and causation
ids. eventsourcing is synchronous: the method runs on the event loop where the store is
read within the process (SQLite; `runtime.on_loop`), and in a worker thread otherwise.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ParamSpec, TypeVar

from eventsourcing.persistence import IntegrityError
from fastapi import Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from changeledger.runtime.auth import Authenticator, Unauthenticated
from changeledger.runtime.domain import Actor, InvalidValue, NotPermitted, Provenance, acting
from changeledger.runtime.idempotency import (
    IdempotencyRecord,
    KeyedCommand,
    Replay,
    fingerprint,
    keyed_command,
    record_id,
)
from changeledger.runtime.on_loop import run_on_loop
from changeledger.runtime.problems import problem
from changeledger.runtime.store import ServiceApplication

P = ParamSpec("P")
R = TypeVar("R")

CORRELATION_HEADER = "x-correlation-id"
CONFLICT_RETRIES = 3
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:@/-]{1,128}$")

#: Every GET takes `as_of`: the answer as the store stood then.
AsOf = Annotated[
    AwareDatetime | None, Query(description="Answer as the store stood at this time (ISO 8601)")
]


class Body(BaseModel):
    """Base of every request body: a field the API does not know is an error (422), not
    silently dropped."""

    model_config = ConfigDict(extra="forbid")


#: How the bearer token is documented in OpenAPI (added by `document_roles`).
BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "A JWT; `changeledger token` mints one locally",
}

# Dependencies are `async def` although they never await: FastAPI runs plain `def`
# dependencies in its thread pool, a hop that costs more than their work. And they are
# flat: each level of sub-dependencies costs a command more than the work it does, so
# the token is read here rather than through FastAPI's `HTTPBearer`.


async def authenticated(request: Request) -> Actor:
    """Dependency: the actor whose bearer token the request carries; 401 without one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("no bearer token")
    authenticator: Authenticator = request.app.state.authenticator
    actor = authenticator.verify(token)
    request.state.actor = actor
    return actor


@dataclass(frozen=True)
class Command:
    """One command request: who sends it, the ids that tie it to its business action, the
    version its sender expects (If-Match) and its Idempotency-Key, if any."""

    actor: Actor
    name: str
    correlation_id: str
    command_id: str
    expected_version: int | None = None
    keyed: KeyedCommand | None = None
    #: Run on the event loop (`ServiceApplication.commands_on_loop`), not in a thread.
    on_loop: bool = False

    @property
    def provenance(self) -> Provenance:
        return Provenance(
            actor=self.actor,
            correlation_id=self.correlation_id,
            command=self.name,
            causation_id=self.command_id,
        )

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        provenance = self.provenance
        keyed = self.keyed

        retries = 0 if self.expected_version is not None else CONFLICT_RETRIES

        def command() -> R:
            token = keyed_command.set(keyed)
            try:
                with acting(provenance):
                    for attempt in range(retries + 1):
                        try:
                            result = fn(*args, **kwargs)
                            break
                        except IntegrityError:
                            # Another writer (a policy, say) changed the aggregate first.
                            # Nothing was saved: without an If-Match, try again on the
                            # fresh state; the domain checks its rules again.
                            if attempt == retries:
                                raise
                            if keyed is not None:
                                keyed.record = None
                    if keyed is not None and (record := keyed.answered(result)) is not None:
                        keyed.app.save(record)
                    return result
            finally:
                keyed_command.reset(token)

        if self.on_loop:
            # A task of its own, shielded: a command whose caller is cancelled still
            # finishes (its answer recorded for its Idempotency-Key, say), as one in a
            # thread does. Also faster: 1,777-1,799 commands/s against 1,509 in the
            # request's task (bench/commands.py, 32 clients), likely because each
            # suspension and resumption passes through that task's whole middleware stack.
            return await asyncio.shield(run_on_loop(command))
        return await asyncio.to_thread(command)


def acting_as(request: Request, actor: Actor, name: str) -> Command:
    """A command whose actor was established without a token (by a signed link, say)."""
    return Command(
        actor=actor,
        name=name,
        correlation_id=request.state.correlation_id,
        command_id=str(uuid.uuid4()),
        on_loop=_on_loop(request),
    )


def requires(*roles: str) -> Any:
    """A dependency giving the `Command`, refused with 403 unless the actor has one of `roles`."""
    allowed = frozenset(roles)

    async def dependency(request: Request) -> Command:
        # Routers authenticate every request first; this is for a route outside them.
        actor = getattr(request.state, "actor", None) or await authenticated(request)
        if allowed and not actor.has_any(allowed):
            raise NotPermitted(
                f"this needs one of the roles {sorted(allowed)}",
                rule="role-required",
                required_roles=sorted(allowed),
            )
        route = request.scope.get("route")
        return Command(
            actor=actor,
            name=getattr(route, "name", None) or request.url.path,
            correlation_id=request.state.correlation_id,
            command_id=str(uuid.uuid4()),
            expected_version=_if_match(request.headers.get("if-match")),
            keyed=await _keyed(request, actor, route),
            on_loop=_on_loop(request),
        )

    dependency.required_roles = allowed  # type: ignore[attr-defined]  # read by the permission matrix
    return Depends(dependency)


def _on_loop(request: Request) -> bool:
    app: ServiceApplication = request.app.state.application
    return app.commands_on_loop


_ETAG = re.compile(r'^(?:W/)?"?(\d{1,12})"?$')
_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")


def etag(version: int) -> str:
    return f'"{version}"'


def _if_match(header: str | None) -> int | None:
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.match(header.strip())
    if match is None:
        raise InvalidValue(
            'If-Match must be the version of the resource, as in If-Match: "3"',
            rule="bad-if-match",
        )
    return int(match.group(1))


async def _keyed(request: Request, actor: Actor, route: Any) -> KeyedCommand | None:
    """The Idempotency-Key of this command; a replay when the key was used before."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not _KEY.match(key):
        raise InvalidValue(
            "Idempotency-Key must be 1 to 128 visible ASCII characters", rule="bad-idempotency-key"
        )
    print_ = fingerprint(request.method, request.url.path, await request.body())
    app = request.app.state.application
    found = await asyncio.to_thread(app.contains, record_id(actor.sub, key))
    if found:
        record = await asyncio.to_thread(app.get, record_id(actor.sub, key), IdempotencyRecord)
        if record.fingerprint != print_:
            raise InvalidValue(
                "this Idempotency-Key was already used for a different request",
                rule="idempotency-key-reused",
            )
        raise Replay(record.status, record.response)
    response_model = getattr(route, "response_model", None)
    return KeyedCommand(
        app=app,
        actor=actor.sub,
        key=key,
        fingerprint=print_,
        status=getattr(route, "status_code", None) or 200,
        render=getattr(response_model, "of", None),
    )


async def query(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a read of the store in a worker thread, off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


class RequestGuard:
    """ASGI middleware: correlation ids, a body size limit and JSON-only bodies."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get(CORRELATION_HEADER, "")
        correlation_id = given if _SAFE_ID.match(given) else str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = correlation_id

        async def send_with_correlation(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (CORRELATION_HEADER.encode(), correlation_id.encode()),
                ]
            await send(message)

        rejection = self._reject(scope["method"], headers)
        if rejection is not None:
            await rejection(scope, receive, send_with_correlation)
            return

        if scope["method"] in {"POST", "PUT", "PATCH"}:
            # Read the body first (it is small by rule), so an oversized stream is refused
            # before any route sees it.
            buffered: list[Message] = []
            size = 0
            while True:
                message = await receive()
                buffered.append(message)
                if message["type"] != "http.request":
                    break
                size += len(message.get("body", b""))
                if size > self.max_body_bytes:
                    await self._too_large()(scope, receive, send_with_correlation)
                    return
                if not message.get("more_body", False):
                    break

            async def replay() -> Message:
                return buffered.pop(0) if buffered else await receive()

            await self.app(scope, replay, send_with_correlation)
            return
        await self.app(scope, receive, send_with_correlation)

    def _too_large(self) -> Any:
        return problem(
            413,
            f"the request body is larger than {self.max_body_bytes} bytes",
            slug="body-too-large",
            limit=self.max_body_bytes,
        )

    def _reject(self, method: str, headers: dict[str, str]) -> Any:
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return problem(400, "Content-Length is not a number", slug="bad-content-length")
            if int(length) > self.max_body_bytes:
                return self._too_large()
        has_body = (length not in (None, "0")) or "transfer-encoding" in headers
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        is_json = content_type == "application/json" or content_type.endswith("+json")
        if method in {"POST", "PUT", "PATCH"} and has_body and not is_json:
            return problem(
                415,
                "request bodies must be application/json",
                slug="unsupported-media-type",
            )
        return None

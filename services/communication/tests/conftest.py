"""Communication's tests run on a real SQLite store, with real local SMTP and webhook
receivers where delivery is what is tested."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller

from changeledger.communication.application import CommunicationApplication
from changeledger.communication.channels import verify
from changeledger.communication.domain import Audience, Channel, Message, Stakeholder
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import open_store
from tests.support.infra import free_port

NOW = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
WEBHOOK_SECRET = "webhook-secret-for-tests-0123456789"


class Inbox:
    """A real SMTP server on localhost that keeps what it receives."""

    def __init__(self) -> None:
        self.mails: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        from email import message_from_bytes, policy

        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class Receiver:
    """A real HTTP receiver on localhost that checks each webhook's signature."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.received: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.port = free_port()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not verify(receiver.secret, body, self.headers["X-Changeledger-Signature"]):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                else:
                    receiver.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class Comms:
    """The application and the steps the tests need (through the `comms` fixture)."""

    ANNA = Provenance(Actor("anna", ("comms-manager",)), "corr", "test")
    NOW = NOW

    def __init__(self, app: CommunicationApplication, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def head(self) -> int:
        return self.app.process_recorder.max_notification_id() or 0

    def stakeholder(
        self, name: str, power: int = 4, interest: int = 4, **extra: Any
    ) -> Stakeholder:
        fields = {
            "name": name,
            "role": "lead",
            "organisation": "ops",
            "email": f"{name}@example.com",
            "webhook_url": None,
            "channel": Channel.EMAIL,
            "power": power,
            "interest": interest,
        } | extra
        with acting(self.ANNA):
            return self.app.register_stakeholder(**fields)

    def message(
        self,
        *who: UUID,
        at: datetime = NOW,
        ack_hours: float | None = 24,
        release_id: UUID | None = None,
    ) -> Message:
        with acting(self.ANNA):
            return self.app.plan_message(
                release_id=release_id,
                audience=Audience(stakeholder_ids=who),
                channel=None,
                send_at=at,
                subject="Heads up",
                body="Hello $stakeholder_name",
                ack_required=ack_hours is not None,
                ack_within=timedelta(hours=ack_hours) if ack_hours else None,
            )

    def tick(self, at: datetime) -> dict[str, int]:
        with acting(Provenance(Actor("service:communication", ("service",)), "job", "job")):
            return self.app.tick(at)

    def reopen(self) -> CommunicationApplication:
        """As after a crash: a new process on the same store."""
        self.app = open_store(CommunicationApplication, "communication", self.settings)
        self.app.configure(self.settings)
        return self.app


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    handler = Inbox()
    handler.port = free_port()  # type: ignore[attr-defined]
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)  # type: ignore[attr-defined]
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(WEBHOOK_SECRET.encode())
    r.start()
    yield r
    r.stop()


@pytest.fixture
def comms(tmp_path: Path, inbox: Inbox) -> Iterator[Comms]:
    from changeledger.communication.settings import CommunicationSettings

    settings = CommunicationSettings(
        data_dir=tmp_path,
        smtp_port=inbox_port(inbox),
        webhook_secret=WEBHOOK_SECRET,
        delivery_backoff_seconds=60,
    )
    app = open_store(CommunicationApplication, "communication", settings)
    app.configure(settings)
    c = Comms(app, settings)
    yield c
    c.app.close()


def inbox_port(inbox: Inbox) -> int:
    return inbox.port  # type: ignore[attr-defined, no-any-return]

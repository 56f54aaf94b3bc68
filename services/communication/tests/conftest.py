"""Communication's tests run on a real SQLite store, with real local SMTP and webhook
receivers where delivery is what is tested."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from changeledger.communication.application import CommunicationApplication
from changeledger.communication.domain import Audience, Channel, Message, Stakeholder
from changeledger.communication.receivers import MailInbox, WebhookReceiver
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import open_store
from tests.support.infra import free_port

NOW = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
WEBHOOK_SECRET = "webhook-secret-for-tests-0123456789"


# The receivers the demo uses too, under the names these tests give them.
Inbox = MailInbox
Receiver = WebhookReceiver


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
    server = Inbox(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver(WEBHOOK_SECRET.encode(), free_port())
    endpoint.start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def comms(tmp_path: Path, inbox: Inbox) -> Iterator[Comms]:
    from changeledger.communication.settings import CommunicationSettings

    settings = CommunicationSettings(
        data_dir=tmp_path,
        smtp_port=inbox.port,
        webhook_secret=WEBHOOK_SECRET,
        delivery_backoff_seconds=60,
    )
    app = open_store(CommunicationApplication, "communication", settings)
    app.configure(settings)
    c = Comms(app, settings)
    yield c
    c.app.close()

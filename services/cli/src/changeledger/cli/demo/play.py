"""Playing the quarter: the receivers of its messages, then the scenario, then the
report. Used by `changeledger demo` and by the end-to-end scenario test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from changeledger.cli.demo.api import Api
from changeledger.cli.demo.quarter import Quarter, Say, Scenario
from changeledger.cli.demo.report import Report, gather
from changeledger.communication.receivers import MailInbox, WebhookReceiver
from changeledger.communication.settings import CommunicationSettings, webhook_secret
from changeledger.runtime.auth import Authenticator
from changeledger.runtime.settings import Settings


@dataclass
class Played:
    quarter: Quarter
    report: Report
    calls: int
    tag: str


#: Where the webhook receiver listens: always the same port, so that stakeholders a
#: previous run registered still reach it.
WEBHOOK_PORT = 8025


@contextmanager
def receivers(settings: Settings, webhook_port: int) -> Iterator[tuple[MailInbox, WebhookReceiver]]:
    """The mail server communication sends to, and a webhook receiver."""
    own = CommunicationSettings(**settings.model_dump())
    mail = MailInbox(own.smtp_port)
    hooks = WebhookReceiver(webhook_secret(own), webhook_port)
    mail.start()
    hooks.start()
    try:
        yield mail, hooks
    finally:
        hooks.stop()
        mail.stop()


def play(
    urls: dict[str, str], settings: Settings, say: Say, webhook_port: int = WEBHOOK_PORT
) -> Played:
    tag = f"demo-{uuid.uuid4().hex[:6]}"
    api = Api(urls, Authenticator(settings), tag)
    try:
        with receivers(settings, webhook_port) as (mail, hooks):
            quarter = Scenario(api, mail, hooks, say).play()
        return Played(quarter, gather(api, quarter), api.calls, tag)
    finally:
        api.close()

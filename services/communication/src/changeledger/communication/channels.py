"""The real channels a message goes out through: SMTP and signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

import httpx

from changeledger.communication.domain import Channel, Recipient
from changeledger.communication.settings import CommunicationSettings

SIGNATURE_HEADER = "X-Changeledger-Signature"


class DeliveryFailed(Exception):
    """The channel did not take the message; it will be tried again."""


@dataclass(frozen=True)
class Letter:
    """One recipient's copy of a message."""

    message_id: str
    recipient: Recipient
    subject: str
    body: str
    ack_link: str | None


class Sender(Protocol):
    def send(self, letter: Letter) -> str:
        """Deliver, or raise DeliveryFailed; returns what the channel said."""


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, signature: str | None) -> bool:
    """What a webhook receiver checks: the signature header, compared in constant time."""
    return signature is not None and hmac.compare_digest(sign(secret, body), signature)


class Smtp:
    def __init__(self, settings: CommunicationSettings) -> None:
        self.settings = settings

    def send(self, letter: Letter) -> str:
        s = self.settings
        mail = EmailMessage()
        mail["From"] = s.smtp_sender
        mail["To"] = letter.recipient.address
        mail["Subject"] = letter.subject
        # The same id on every attempt, so a resend after a crash is recognisable.
        mail["Message-ID"] = make_msgid(idstring=letter.recipient.id.hex, domain="changeledger")
        mail.set_content(letter.body)
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_username and s.smtp_password:
                    smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
                refused = smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
        if refused:
            raise DeliveryFailed(f"refused: {refused}")
        return f"accepted by {s.smtp_host}:{s.smtp_port}"


class Webhook:
    def __init__(self, settings: CommunicationSettings, secret: bytes) -> None:
        self.settings = settings
        self.secret = secret

    def send(self, letter: Letter) -> str:
        body = json.dumps(
            {
                "message_id": letter.message_id,
                "recipient_id": str(letter.recipient.id),
                "subject": letter.subject,
                "body": letter.body,
                "ack_link": letter.ack_link,
            },
            sort_keys=True,
        ).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, body),
            "Idempotency-Key": str(letter.recipient.id),
        }
        try:
            response = httpx.post(
                letter.recipient.address,
                content=body,
                headers=headers,
                timeout=self.settings.webhook_timeout_seconds,
            )
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
        if response.status_code >= 300:
            raise DeliveryFailed(f"HTTP {response.status_code}")
        return f"HTTP {response.status_code}"


class Channels:
    def __init__(self, senders: dict[Channel, Sender]) -> None:
        self.senders = senders

    def send(self, letter: Letter) -> str:
        return self.senders[letter.recipient.channel].send(letter)

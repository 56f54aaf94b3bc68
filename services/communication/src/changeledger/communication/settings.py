"""Communication's own settings: its mail server, webhook signing and acknowledgement links."""

from __future__ import annotations

from pydantic import Field, SecretStr

from changeledger.runtime.auth import key_file
from changeledger.runtime.settings import Settings


class CommunicationSettings(Settings):
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_sender: str = "changeledger@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    #: Signs webhook bodies (HMAC-SHA256); default: a key generated under data_dir.
    webhook_secret: SecretStr | None = None
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    #: Where acknowledgement links point: this service, as recipients reach it.
    public_url: str = "http://127.0.0.1:8003"
    #: The first retry waits this long; each further one twice as long.
    delivery_backoff_seconds: float = Field(default=30.0, gt=0)


def webhook_secret(own: CommunicationSettings) -> bytes:
    """The key webhook bodies are signed with, as a receiver needs it to check them."""
    if own.webhook_secret is not None:
        return own.webhook_secret.get_secret_value().encode()
    return key_file(own.data_dir, "webhook-signing.key")

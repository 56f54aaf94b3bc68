"""Configuration from `CHANGELEDGER_*` environment variables (and an optional `.env`)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PORTS = {"planning": 8001, "risk": 8002, "communication": 8003, "cmdb": 8004}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CHANGELEDGER_", env_file=".env", extra="ignore", frozen=True
    )

    # Event stores: one SQLite file per service under data_dir, or one PostgreSQL schema
    # per service (named schema_prefix + service) in one database.
    data_dir: Path = Path("var")
    store: Literal["sqlite", "postgres"] = "sqlite"
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_user: str = "changeledger"
    postgres_password: SecretStr = SecretStr("changeledger")
    postgres_dbname: str = "changeledger"
    postgres_schema_prefix: str = ""
    postgres_pool_size: int = 5
    #: Threads for store calls (commands, queries, the relay, consumers) in a served
    #: process: commands waiting together for the write share one commit.
    store_threads: int = Field(default=16, ge=1, le=256)
    snapshot_interval: int = Field(default=100, ge=2)

    # Kafka
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_partitions: int = Field(default=3, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_topic_prefix: str = ""
    # Passed through to the producer, the consumers and the admin client.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    #: CA bundle to verify the brokers (default: the system's), and a client certificate.
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    relay_batch_size: int = Field(default=500, ge=1)
    # The relay wakes at once on events saved in this process, and on other replicas'
    # saves when told of them; this bounds how long an event can wait when nothing tells
    # it (a save by a tool, say).
    relay_idle_poll_seconds: float = Field(default=1.0, gt=0)
    #: The relay records how far it has published at most this often: after a crash
    #: it republishes at most this much (consumers drop what they already handled).
    relay_position_interval_seconds: float = Field(default=0.5, ge=0)

    # Work a service does on its own clock: communication sends what is due and marks
    # late acknowledgements, risk finds overdue mitigations.
    job_interval_seconds: float = Field(default=5.0, gt=0)
    #: How often the audit log's head is sealed with a signed checkpoint (only when
    #: something was recorded since the last one).
    seal_interval_seconds: float = Field(default=60.0, gt=0)

    # Secrets at rest: with a key, every stored event and snapshot is compressed and
    # encrypted (AES-GCM, eventsourcing's cipher). `changeledger cipher-key` makes one.
    cipher_key: SecretStr | None = None
    #: Signs the audit log's checkpoints; give every replica of a service the same one
    #: (default: a key generated beside the stores).
    audit_key: SecretStr | None = None

    # HTTP
    host: str = "127.0.0.1"
    port: int | None = None
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    #: Browser origins allowed to call the APIs (CORS); none unless configured.
    cors_origins: tuple[str, ...] = ()

    # Authentication: `local` signs and checks HS256 tokens with a development key kept
    # under data_dir; `jwt` checks tokens from an identity provider.
    auth_mode: Literal["local", "jwt"] = "local"
    jwt_secret: SecretStr | None = None
    jwt_public_key_file: Path | None = None
    #: A JSON Web Key Set (as an identity provider publishes it), keys chosen by `kid`.
    jwt_jwks_file: Path | None = None
    jwt_algorithms: tuple[str, ...] = ("HS256", "RS256", "ES256")
    jwt_issuer: str = "changeledger"
    jwt_audience: str = "changeledger"
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)

    @field_validator("cipher_key")
    @classmethod
    def _aes_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None:
            try:
                size = len(base64.b64decode(key.get_secret_value(), validate=True))
            except ValueError:
                size = 0
            if size not in (16, 24, 32):
                raise ValueError("the cipher key is 16, 24 or 32 bytes, base64-encoded")
        return key

    def port_of(self, service: str) -> int:
        return self.port or PORTS[service]

    def topic(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}{name}"

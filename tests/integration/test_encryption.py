"""Secrets at rest: with a cipher key, what a stolen disk or database dump holds is
ciphertext; the service itself reads and publishes as before."""

from __future__ import annotations

import pytest
from eventsourcing.cryptography import AESCipher
from pydantic import SecretStr

from changeledger.communication.application import CommunicationApplication
from changeledger.communication.domain import Channel
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.settings import Settings
from tests.support.stores import notifications, opened

EMAIL = "olga.secret@example.com"
ANNA = Provenance(Actor("anna", ("comms-manager",)), "corr", "test")


def register(app: CommunicationApplication) -> object:
    with acting(ANNA):
        stakeholder = app.register_stakeholder(
            name="Olga",
            role="service owner",
            organisation="it",
            email=EMAIL,
            webhook_url=None,
            channel=Channel.EMAIL,
            power=4,
            interest=4,
        )
        for interest in (1, 2, 3):  # enough events for a snapshot (interval 2)
            app.update_stakeholder(stakeholder.id, interest=interest)
    return stakeholder.id


def raw_bytes(app: CommunicationApplication, stakeholder_id: object) -> list[bytes]:
    stored = [n.state for n in notifications(app)]
    snapshots = app.snapshots.recorder.select_events(stakeholder_id) if app.snapshots else []  # type: ignore[arg-type]
    assert snapshots, "a snapshot was taken"
    return stored + [s.state for s in snapshots]


def test_contact_details_are_ciphertext_in_the_store(store_settings: Settings) -> None:
    key = AESCipher.create_key(32)
    settings = store_settings.model_copy(
        update={"cipher_key": SecretStr(key), "snapshot_interval": 2}
    )
    with opened(CommunicationApplication, "communication", settings) as app:
        stakeholder_id = register(app)
        raw = raw_bytes(app, stakeholder_id)
        assert all(EMAIL.encode() not in state and b"Olga" not in state for state in raw)
        assert app.stakeholder(stakeholder_id).email == EMAIL  # type: ignore[arg-type]
    with opened(CommunicationApplication, "communication", settings) as again:
        assert again.stakeholder(stakeholder_id).email == EMAIL  # type: ignore[arg-type]


def test_without_the_option_the_store_is_plain_and_a_wrong_key_reads_nothing(
    store_settings: Settings,
) -> None:
    plain = store_settings.model_copy(update={"snapshot_interval": 2})
    with opened(CommunicationApplication, "communication", plain) as app:
        stakeholder_id = register(app)
        assert any(EMAIL.encode() in state for state in raw_bytes(app, stakeholder_id))
    encrypted = store_settings.model_copy(
        update={
            "cipher_key": SecretStr(AESCipher.create_key(32)),
            "postgres_schema_prefix": "enc_",
            "data_dir": store_settings.data_dir / "encrypted",
        }
    )
    with opened(CommunicationApplication, "communication", encrypted) as app:
        stakeholder_id = register(app)
    stolen = encrypted.model_copy(update={"cipher_key": SecretStr(AESCipher.create_key(32))})
    with (
        opened(CommunicationApplication, "communication", stolen) as thief,
        pytest.raises(ValueError, match="Invalid cipher tag"),
    ):
        thief.stakeholder(stakeholder_id)  # type: ignore[arg-type]


def test_a_key_that_is_not_an_aes_key_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="16, 24 or 32 bytes"):
        Settings(cipher_key="not a key")

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from changeledger.runtime.auth import Authenticator, LocalModeOnly, Unauthenticated
from changeledger.runtime.domain import Actor
from changeledger.runtime.settings import Settings


@pytest.fixture
def local(tmp_path: Path) -> Authenticator:
    return Authenticator(Settings(data_dir=tmp_path, auth_mode="local"))


def test_a_minted_token_verifies_to_its_actor(local: Authenticator) -> None:
    token = local.mint("alice", ("release-manager", "viewer"))
    assert local.verify(token) == Actor("alice", ("release-manager", "viewer"))


def test_the_local_key_is_private_to_its_owner(tmp_path: Path) -> None:
    Authenticator(Settings(data_dir=tmp_path))
    assert (tmp_path / "local-signing.key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "tamper",
    [
        lambda claims: claims | {"exp": datetime.now(UTC) - timedelta(minutes=5)},
        lambda claims: claims | {"nbf": datetime.now(UTC) + timedelta(minutes=5)},
        lambda claims: claims | {"aud": "someone-else"},
        lambda claims: claims | {"iss": "someone-else"},
        lambda claims: {k: v for k, v in claims.items() if k != "sub"},
        lambda claims: claims | {"roles": "viewer"} | {"roles": [1, 2]},
    ],
)
def test_expired_early_foreign_or_incomplete_tokens_are_refused(
    local: Authenticator, tamper: object
) -> None:
    claims = jwt.decode(local.mint("alice", ()), options={"verify_signature": False})
    key = local._verify_key
    token = jwt.encode(tamper(claims), key, algorithm="HS256")  # type: ignore[operator]
    with pytest.raises(Unauthenticated):
        local.verify(token)


def test_a_token_signed_with_another_key_is_refused(local: Authenticator) -> None:
    forged = jwt.encode(
        {"sub": "mallory", "iss": "changeledger", "aud": "changeledger", "exp": 2**33},
        "not-the-key-" * 4,
        algorithm="HS256",
    )
    with pytest.raises(Unauthenticated):
        local.verify(forged)


def test_an_unsigned_token_is_refused(local: Authenticator) -> None:
    unsigned = jwt.encode(
        {"sub": "mallory", "iss": "changeledger", "aud": "changeledger", "exp": 2**33},
        key="",
        algorithm="none",
    )
    with pytest.raises(Unauthenticated):
        local.verify(unsigned)


def test_tokens_are_minted_only_in_local_mode(tmp_path: Path) -> None:
    provider = Authenticator(Settings(data_dir=tmp_path, auth_mode="jwt", jwt_secret="s" * 32))
    with pytest.raises(LocalModeOnly):
        provider.mint("alice", ())

import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from changeledger.runtime.auth import Authenticator, LocalModeOnly, Unauthenticated, key_file
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


def test_processes_creating_a_key_at_once_all_get_the_one_whole_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process (`serve --workers`) arrives while this one is writing the key.
    token_hex = secrets.token_hex
    calls, theirs = 0, []

    def meanwhile(nbytes: int) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            theirs.append(key_file(tmp_path, "audit.key"))
        return token_hex(nbytes)

    monkeypatch.setattr(secrets, "token_hex", meanwhile)
    mine = key_file(tmp_path, "audit.key")
    assert theirs == [mine]
    assert len(mine) == 64
    assert [p.name for p in tmp_path.iterdir()] == ["audit.key"]


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


class TestIdentityProviderKeys:
    """Tokens an identity provider signs with its private key, checked with the public
    key or its JWKS."""

    def claims(self, **extra: object) -> dict[str, object]:
        now = datetime.now(UTC)
        return {
            "sub": "alice",
            "roles": ["viewer"],
            "iss": "https://idp.example",
            "aud": "changeledger",
            "exp": now + timedelta(minutes=5),
            "nbf": now,
        } | extra

    def settings(self, tmp_path: Path, **keys: Any) -> Settings:
        return Settings(
            data_dir=tmp_path, auth_mode="jwt", jwt_issuer="https://idp.example", **keys
        )

    def test_rs256_with_a_public_key_file(self, tmp_path: Path) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        (tmp_path / "idp.pem").write_bytes(public_pem)
        idp = Authenticator(self.settings(tmp_path, jwt_public_key_file=tmp_path / "idp.pem"))
        assert idp.verify(jwt.encode(self.claims(), private, algorithm="RS256")).sub == "alice"
        # The public key used as an HMAC secret (algorithm confusion) is refused. PyJWT
        # will not sign that way, so the token is put together by hand.
        with pytest.raises(Unauthenticated):
            idp.verify(hs256_by_hand(self.claims(sub="mallory"), public_pem))

    def test_es256_with_a_jwks_file_chooses_the_key_by_kid(self, tmp_path: Path) -> None:
        import json

        from cryptography.hazmat.primitives.asymmetric import ec
        from jwt.algorithms import ECAlgorithm

        current, other = (
            ec.generate_private_key(ec.SECP256R1()),
            ec.generate_private_key(ec.SECP256R1()),
        )
        keys = []
        for kid, key in (("2026-11", current), ("2026-05", other)):
            jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
            keys.append(jwk | {"kid": kid, "alg": "ES256", "use": "sig"})
        (tmp_path / "jwks.json").write_text(json.dumps({"keys": keys}))
        idp = Authenticator(self.settings(tmp_path, jwt_jwks_file=tmp_path / "jwks.json"))
        signed = jwt.encode(self.claims(), current, algorithm="ES256", headers={"kid": "2026-11"})
        assert idp.verify(signed).roles == ("viewer",)
        for kid in ("2026-05", "unknown"):  # the wrong key, or none at all
            wrong = jwt.encode(self.claims(), current, algorithm="ES256", headers={"kid": kid})
            with pytest.raises(Unauthenticated):
                idp.verify(wrong)

    def test_a_little_clock_skew_is_allowed(self, tmp_path: Path) -> None:
        settings = self.settings(tmp_path, jwt_secret="s" * 32)
        idp = Authenticator(settings)
        just_expired = self.claims(exp=datetime.now(UTC) - timedelta(seconds=10))
        assert idp.verify(jwt.encode(just_expired, "s" * 32, algorithm="HS256")).sub == "alice"
        long_expired = self.claims(exp=datetime.now(UTC) - timedelta(seconds=120))
        with pytest.raises(Unauthenticated):
            idp.verify(jwt.encode(long_expired, "s" * 32, algorithm="HS256"))


def hs256_by_hand(claims: dict[str, object], secret: bytes) -> str:
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    body = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}
    signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + b"." + b64(json.dumps(body).encode())
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64(signature)).decode()


def test_a_remembered_token_is_still_refused_once_it_expires(tmp_path: Path) -> None:
    strict = Authenticator(Settings(data_dir=tmp_path, auth_mode="local", jwt_leeway_seconds=0))
    token = strict.mint("alice", ("viewer",), timedelta(seconds=1))
    assert strict.verify(token) == Actor("alice", ("viewer",))
    time.sleep(1.1)
    with pytest.raises(Unauthenticated):
        strict.verify(token)

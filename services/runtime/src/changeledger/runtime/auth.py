"""Bearer tokens: who the actor is, from a verified JWT and never from a request body.

In `local` mode tokens are HS256, signed with a development key that is generated once
under the data folder; `changeledger token` mints them. In `jwt` mode tokens come from an
identity provider and are checked with a configured secret (HS256), a public key (RS256,
ES256, ...) or a JWKS file whose keys are chosen by the token's `kid`. Expiry, not-before,
issuer and audience are always checked, with a small clock-skew allowance; `alg: none`
and algorithms that do not fit the configured key are refused.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cachetools import TTLCache

from changeledger.runtime.domain import Actor
from changeledger.runtime.settings import Settings

ROLES = (
    "viewer",
    "release-manager",
    "change-authority",
    "risk-manager",
    "comms-manager",
    "cmdb-maintainer",
    "cmdb-admin",
    "auditor",
)


class Unauthenticated(Exception):
    """The request carries no valid token."""


class LocalModeOnly(Exception):
    pass


def local_signing_key(data_dir: Path) -> bytes:
    """The development key of this machine, created on first use (readable by its owner only)."""
    return key_file(data_dir, "local-signing.key")


def key_file(data_dir: Path, name: str) -> bytes:
    """A random secret kept in `data_dir/name`, created on first use, owner-readable only.

    Several processes may start on a fresh folder at once (`serve --workers`): the key is
    written in full under a name of its own and then linked into place, so whoever links
    first wins, and no one reads a file still being written."""
    path = data_dir / name
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, written = tempfile.mkstemp(dir=data_dir, prefix=f".{name}.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
            with contextlib.suppress(FileExistsError):
                os.link(written, path)
        finally:
            os.unlink(written)
    return path.read_text().strip().encode()


class Authenticator:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.algorithms: list[str]
        # A client sends the same token with every request; checking its signature each
        # time was a fifth of a command's cost. A verified token is remembered briefly,
        # and its expiry and not-before are still checked on every use.
        self._verified: TTLCache[str, tuple[Actor, float, float]] = TTLCache(4096, ttl=60)
        self._jwks: jwt.PyJWKSet | None = None
        if settings.auth_mode == "local":
            self._verify_key: str | bytes = local_signing_key(settings.data_dir)
            self.algorithms = ["HS256"]
        elif settings.jwt_jwks_file is not None:
            self._jwks = jwt.PyJWKSet.from_json(settings.jwt_jwks_file.read_text())
            self._verify_key = b""
            self.algorithms = [a for a in settings.jwt_algorithms if not a.startswith("HS")]
        elif settings.jwt_public_key_file is not None:
            self._verify_key = settings.jwt_public_key_file.read_bytes()
            self.algorithms = [a for a in settings.jwt_algorithms if not a.startswith("HS")]
        elif settings.jwt_secret is not None:
            self._verify_key = settings.jwt_secret.get_secret_value().encode()
            self.algorithms = [a for a in settings.jwt_algorithms if a.startswith("HS")]
        else:
            raise ValueError("jwt mode needs CHANGELEDGER_JWT_SECRET or _JWT_PUBLIC_KEY_FILE")
        if not self.algorithms:
            raise ValueError("no JWT algorithm fits the configured key")

    def _key_for(self, token: str) -> Any:
        if self._jwks is None:
            return self._verify_key
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._jwks.keys:
            if key.key_id == kid:
                return key.key
        raise Unauthenticated(f"no key {kid!r} in the configured key set")

    def verify(self, token: str) -> Actor:
        remembered = self._verified.get(token)
        if remembered is not None:
            actor, not_before, expires = remembered
            leeway = self.settings.jwt_leeway_seconds
            if not_before - leeway <= time.time() < expires + leeway:
                return actor
        actor, not_before, expires = self._check(token)
        self._verified[token] = (actor, not_before, expires)
        return actor

    def _check(self, token: str) -> tuple[Actor, float, float]:
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=self.algorithms,
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": ["sub", "exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise Unauthenticated(str(error)) from None
        roles = claims.get("roles", [])
        if isinstance(roles, str):
            roles = roles.split()
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthenticated("the roles claim must be a list of strings")
        sub = claims["sub"]
        # Bounded like the envelope's actor, so every stored event can be published.
        if not isinstance(sub, str) or not 0 < len(sub) <= 200 or not sub.isprintable():
            raise Unauthenticated("the sub claim must be 1 to 200 printable characters")
        if len(roles) > 32 or any(not 0 < len(r) <= 64 for r in roles):
            raise Unauthenticated("the roles claim holds at most 32 roles of 1 to 64 characters")
        return Actor(sub=sub, roles=tuple(roles)), float(claims.get("nbf", 0)), float(claims["exp"])

    def mint(self, sub: str, roles: tuple[str, ...], ttl: timedelta = timedelta(hours=12)) -> str:
        if self.settings.auth_mode != "local":
            raise LocalModeOnly("tokens are minted only in local mode")
        now = datetime.now(UTC)
        claims = {
            "sub": sub,
            "roles": list(roles),
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
        }
        assert isinstance(self._verify_key, bytes)
        return jwt.encode(claims, self._verify_key, algorithm="HS256")

"""The four services' HTTP APIs as the demo's people use them: each call is made with
the token of the person doing it, and anything but the expected answer stops the demo."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from changeledger.cli.demo.people import Person
from changeledger.runtime.auth import Authenticator

T = TypeVar("T")


class Unexpected(Exception):
    """A service answered differently from what the scenario expects."""


class Api:
    def __init__(self, urls: dict[str, str], authenticator: Authenticator, tag: str) -> None:
        self.urls = urls
        self.authenticator = authenticator
        #: Correlation ids of this run start with it, so `audit trace` finds its actions.
        self.tag = tag
        self._http = httpx.Client(timeout=30)
        self._tokens: dict[Person, str] = {}
        self.calls = 0

    def close(self) -> None:
        self._http.close()

    def _token(self, person: Person) -> str:
        if person not in self._tokens:
            self._tokens[person] = self.authenticator.mint(person.sub, person.roles)
        return self._tokens[person]

    def call(
        self,
        service: str,
        method: str,
        path: str,
        who: Person,
        body: Any = None,
        *,
        expect: int | None = None,
        params: dict[str, Any] | None = None,
        correlation: str | None = None,
    ) -> Any:
        """One request as `who`; `expect` is the one status the scenario wants (any 2xx
        when not given). Returns the decoded answer (a problem when a 4xx was expected)."""
        headers = {
            "Authorization": f"Bearer {self._token(who)}",
            "X-Correlation-Id": f"{self.tag}-{correlation or 'demo'}",
        }
        response = self._http.request(
            method, self.urls[service] + path, json=body, params=params, headers=headers
        )
        self.calls += 1
        wanted = response.is_success if expect is None else response.status_code == expect
        if not wanted:
            raise Unexpected(
                f"{method} {service}{path} as {who.sub} answered {response.status_code}, "
                f"expected {expect or '2xx'}: {response.text[:500]}"
            )
        answer = response.json() if response.content else None
        # A listing comes a page at a time: the demo reads all of it.
        while isinstance(answer, list) and "next" in response.links:
            following = self.urls[service] + response.links["next"]["url"]
            response = self._http.request(method, following, headers=headers)
            self.calls += 1
            response.raise_for_status()
            answer += response.json()
        return answer

    def public(self, service: str, method: str, path: str) -> httpx.Response:
        """A request that needs no token (an acknowledgement link)."""
        self.calls += 1
        return self._http.request(method, self.urls[service] + path)


def until(check: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    """Wait for something another service does in its own time (an event to arrive, a
    message to go out); a bounded wait."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Unexpected as error:
            last = error
        time.sleep(0.2)
    raise Unexpected(f"not within {timeout:.0f}s: {what}" + (f" ({last})" if last else ""))

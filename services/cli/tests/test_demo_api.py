"""The demo's API client reads a whole listing, however many pages it comes in."""

from __future__ import annotations

from pathlib import Path

import httpx

from changeledger.cli.demo.api import Api
from changeledger.cli.demo.people import RITA
from changeledger.runtime.auth import Authenticator
from changeledger.runtime.settings import Settings

RELEASES = [{"name": f"R{n}"} for n in range(250)]


def pages(request: httpx.Request) -> httpx.Response:
    offset = int(request.url.params.get("offset", 0))
    headers = {"X-Total-Count": str(len(RELEASES))}
    if offset + 100 < len(RELEASES):
        headers["Link"] = f'</releases?limit=100&offset={offset + 100}>; rel="next"'
    return httpx.Response(200, json=RELEASES[offset : offset + 100], headers=headers)


def test_a_listing_is_read_to_its_last_page(tmp_path: Path) -> None:
    api = Api({"planning": "http://planning"}, Authenticator(Settings(data_dir=tmp_path)), "t")
    api._http = httpx.Client(transport=httpx.MockTransport(pages))
    try:
        assert api.call("planning", "GET", "/releases", RITA) == RELEASES
        assert api.calls == 3
    finally:
        api.close()

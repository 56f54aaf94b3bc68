"""Pages of a listing: `?limit=&offset=`, with the total and the neighbouring pages in the
response headers (`X-Total-Count`, and RFC 8288 `Link` with `next` and `prev`), so the
body stays the plain list it always was.

    @router.get("", response_model=list[ReleaseView])
    async def list_releases(app: Planning, page: Paged) -> list[ReleaseView]:
        return await query(
            app.portfolio.query, lambda p: [ReleaseView.of(r) for r in page.of(p.releases())]
        )

`page.of` takes the page out of the whole listing, in the listing's own order, before
anything is rendered. Offsets count from the listing as it stands at each request: an
item recorded between two requests may shift the pages after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request, Response

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: Headers a browser client may read (CORS).
PAGE_HEADERS = ("Link", "X-Total-Count")


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int
    request: Request
    response: Response

    def of(self, items: Sequence[T]) -> list[T]:
        """This page of `items`; the response then names the total and the neighbours."""
        total = len(items)
        headers = self.response.headers
        headers["X-Total-Count"] = str(total)
        links = []
        if self.offset + self.limit < total:
            links.append(self._link("next", self.offset + self.limit))
        if self.offset > 0:
            links.append(self._link("prev", max(0, self.offset - self.limit)))
        if links:
            headers["Link"] = ", ".join(links)
        return list(items[self.offset : self.offset + self.limit])

    def _link(self, relation: str, offset: int) -> str:
        # Relative: behind a proxy, the address this server sees is not the client's.
        url = self.request.url.include_query_params(limit=self.limit, offset=offset)
        return f'<{url.path}?{url.query}>; rel="{relation}"'


async def page(
    request: Request,
    response: Response,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Items per page (the total is in X-Total-Count)")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, description="Items to skip; see the Link header")] = 0,
) -> Page:
    return Page(limit, offset, request, response)


Paged = Annotated[Page, Depends(page)]

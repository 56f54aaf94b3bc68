"""Retrying what only infrastructure can make fail: until it works, with capped backoff."""

from __future__ import annotations

import logging
from collections.abc import Callable

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_never,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)


def until_it_works(
    what: str,
    *,
    on: type[BaseException] | tuple[type[BaseException], ...] = Exception,
    cap: float = 2.0,
    report: Callable[[str], None] | None = None,
) -> AsyncRetrying:
    """`async for attempt in until_it_works("publishing"): with attempt: ...`

    Retries on `on` (never on cancellation), waiting 0.1 s doubling to `cap`; `report`
    hears of each failure."""

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        message = f"{type(error).__name__}: {error}"
        log.warning("%s failed (%s); retrying", what, message)
        if report is not None:
            report(message)

    return AsyncRetrying(
        retry=retry_if_exception_type(on),
        wait=wait_exponential_jitter(multiplier=0.1, max=cap, jitter=0.05),
        stop=stop_never,
        before_sleep=before_sleep,
        reraise=True,
    )

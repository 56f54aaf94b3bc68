"""What a process has just saved, kept for a reader that follows its store's log (the
relay, a live view), so that it need not read back and decode what it has in hand.

Saves arrive in the order of the log (`ServiceApplication.on_recorded`). The reader takes
the unbroken run that follows its position; a gap (another process's saves, ids a
rolled-back write used up) it reads from the store, which stays the source of truth.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Generic, TypeVar

T = TypeVar("T")

#: Gaps a reader reads from the store one by one, at most, before it reads the rest of
#: what it needs in one go (the writers alternate so often that one read is cheaper).
GAPS_READ_ONE_BY_ONE = 8


class RecentSaves(Generic[T]):
    """Items by log position, kept only while the reader follows (`follow`), and at
    most `limit` of them (beyond it, the store has the rest)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[int, T] = OrderedDict()
        self._lock = threading.Lock()
        self._following = False

    def follow(self) -> None:
        with self._lock:
            self._following = True

    def stop(self) -> None:
        """Keep nothing more, and forget what was kept."""
        with self._lock:
            self._following = False
            self._items.clear()

    def add(self, items: Iterable[tuple[int, T]]) -> bool:
        """Thread-safe: what a save recorded, in log order. False when they were not kept
        for want of room (the reader must find them in the store)."""
        with self._lock:
            if not self._following:
                return True  # nobody follows: a reader starts from the store
            if len(self._items) >= self.limit:
                return False
            self._items.update(items)
            return True

    def take_after(self, position: int, most: int | None = None) -> list[tuple[int, T]]:
        """The items that follow `position` without a gap (at most `most`), taken out;
        those at or before it are dropped (the reader has them from the store)."""
        items = self._items
        taken: list[tuple[int, T]] = []
        with self._lock:
            while items and next(iter(items)) <= position:
                items.popitem(last=False)
            while items and next(iter(items)) == position + len(taken) + 1:
                if most is not None and len(taken) >= most:
                    break
                taken.append(items.popitem(last=False))
        return taken

    def gap_after(self, position: int) -> int | None:
        """Where the gap that follows `position` ends: the position before the next item
        kept (`position` itself when that item follows at once, announced since the last
        take), or None when none is kept beyond it. Those at or before it are dropped."""
        items = self._items
        with self._lock:
            while items and next(iter(items)) <= position:
                items.popitem(last=False)
            return next(iter(items)) - 1 if items else None

"""Walking the CI graph: impact analysis and the rule that `part_of` has no cycles.

Edges are held as adjacency maps, `out[source] = {(type, target)}` and
`into[target] = {(type, source)}`. Going *down* follows edges the way they point (what a
CI depends on, runs on, is part of); going *up* follows them backwards (what depends on
it, so what a change to it can break).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

Adjacency = Mapping[str, Collection[tuple[str, str]]]


class Direction(Enum):
    UP = "up"
    DOWN = "down"
    BOTH = "both"


class Hop(NamedTuple):
    """One step of a path: across a `relationship` edge, `direction` up or down, to `ci`."""

    relationship: str
    direction: str
    ci: str


@dataclass
class Impact:
    """The CIs reached, nearest first (then by key), each by one shortest path. The paths
    are kept as a tree (each CI's last hop and the CI it came from), so a walk over the
    whole graph stays linear; `path` spells one out."""

    start: str
    reached: list[tuple[str, int]] = field(default_factory=list)
    #: CI -> (the CI it was reached from, relationship, direction).
    came_from: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def via(self, ci: str) -> tuple[str, Hop]:
        previous, relationship, direction = self.came_from[ci]
        return previous, Hop(relationship, direction, ci)

    def path(self, ci: str) -> tuple[Hop, ...]:
        hops: list[Hop] = []
        while ci in self.came_from:
            previous, hop = self.via(ci)
            hops.append(hop)
            ci = previous
        return tuple(reversed(hops))


def impact(
    out: Adjacency,
    into: Adjacency,
    start: str,
    direction: Direction,
    depth: int,
    types: Collection[str] | None = None,
) -> Impact:
    """Every CI reachable from `start` within `depth` steps (breadth first, so by a
    shortest path). Diamonds are reached once; cycles end where they meet a CI already
    reached."""
    ways: list[tuple[Adjacency, str]] = []
    if direction in (Direction.DOWN, Direction.BOTH):
        ways.append((out, Direction.DOWN.value))
    if direction in (Direction.UP, Direction.BOTH):
        ways.append((into, Direction.UP.value))
    found = Impact(start)
    came_from, reached = found.came_from, found.reached
    frontier = [start]
    seen = {start}
    for distance in range(1, depth + 1):
        following: list[str] = []
        for adjacency, way in ways:
            neighbours_of = adjacency.get
            for node in frontier:
                for relationship, neighbour in neighbours_of(node, ()):
                    if neighbour in seen or (types is not None and relationship not in types):
                        continue
                    seen.add(neighbour)
                    came_from[neighbour] = (node, relationship, way)
                    reached.append((neighbour, distance))
                    following.append(neighbour)
        if not following:
            break
        frontier = following
    # The same order every time, whatever order the sets of edges iterate in.
    found.reached.sort(key=lambda reached: (reached[1], reached[0]))
    return found


def reaches(out: Adjacency, start: str, goal: str, relationship: str) -> bool:
    """Whether `goal` can be reached from `start` along `relationship` edges."""
    stack, seen = [start], {start}
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for kind, neighbour in out.get(node, ()):
            if kind == relationship and neighbour not in seen:
                seen.add(neighbour)
                stack.append(neighbour)
    return False

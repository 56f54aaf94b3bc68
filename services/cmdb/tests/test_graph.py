"""Relationships and impact analysis: diamonds, cycles, depth, and a 10,000-CI graph."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import pytest

from changeledger.cmdb.domain import RelationshipType
from changeledger.cmdb.domain.graph import Direction, Hop, impact, reaches
from changeledger.runtime.domain import DomainError, acting

DEPENDS = RelationshipType.DEPENDS_ON.value


def adjacency(*edges: tuple[str, str]) -> tuple[dict[str, set[tuple[str, str]]], ...]:
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    into: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for source, target in edges:
        out[source].add((DEPENDS, target))
        into[target].add((DEPENDS, source))
    return out, into


def reached(
    out: Any, into: Any, start: str, direction: Direction, depth: int = 10
) -> dict[str, int]:
    return dict(impact(out, into, start, direction, depth).reached)


class TestImpact:
    # web -> api-1 -> db, web -> api-2 -> db: a diamond.
    DIAMOND = (("web", "api-1"), ("web", "api-2"), ("api-1", "db"), ("api-2", "db"))

    def test_a_diamond_reaches_its_far_corner_once_by_a_shortest_path(self) -> None:
        out, into = adjacency(*self.DIAMOND)
        found = impact(out, into, "web", Direction.DOWN, 10)
        assert sorted(found.reached) == [("api-1", 1), ("api-2", 1), ("db", 2)]
        path = found.path("db")
        assert path[-1] == Hop(DEPENDS, "down", "db")
        assert path[0].ci in {"api-1", "api-2"}
        assert found.via("db") == (path[0].ci, path[-1])

    def test_up_is_what_depends_on_the_ci(self) -> None:
        out, into = adjacency(*self.DIAMOND)
        assert reached(out, into, "db", Direction.UP) == {"api-1": 1, "api-2": 1, "web": 2}
        assert reached(out, into, "db", Direction.DOWN) == {}

    def test_both_ways_from_the_middle(self) -> None:
        out, into = adjacency(*self.DIAMOND)
        assert reached(out, into, "api-1", Direction.BOTH) == {"web": 1, "db": 1, "api-2": 2}

    def test_a_cycle_ends_where_it_meets_a_ci_already_reached(self) -> None:
        out, into = adjacency(("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"))
        assert reached(out, into, "a", Direction.DOWN) == {"b": 1, "c": 2, "d": 3}
        assert reached(out, into, "a", Direction.UP) == {"c": 1, "b": 2}

    def test_depth_limits_the_walk(self) -> None:
        out, into = adjacency(("a", "b"), ("b", "c"), ("c", "d"))
        assert reached(out, into, "a", Direction.DOWN, depth=2) == {"b": 1, "c": 2}

    def test_relationship_types_filter_the_walk(self) -> None:
        out: dict[str, set[tuple[str, str]]] = {"app": {("runs_on", "vm"), (DEPENDS, "db")}}
        found = impact(out, {}, "app", Direction.DOWN, 5, {"runs_on"})
        assert found.reached == [("vm", 1)]

    def test_ten_thousand_cis_and_thirty_thousand_edges(self) -> None:
        # A tree (each CI depends on its parent) plus 20,000 extra edges to earlier CIs:
        # every CI depends, transitively, on ci-0.
        rng = random.Random(7)
        n = 10_000
        edges = {(f"ci-{i}", f"ci-{(i - 1) // 3}") for i in range(1, n)}
        while len(edges) < 30_000:
            i = rng.randrange(1, n)
            edges.add((f"ci-{i}", f"ci-{rng.randrange(0, i)}"))
        out, into = adjacency(*edges)
        found = impact(out, into, "ci-0", Direction.UP, 100)
        assert len(found.reached) == n - 1
        for ci, distance in found.reached:
            path = found.path(ci)
            assert len(path) == distance
            here = "ci-0"
            for hop in path:
                assert (hop.ci, here) in edges  # each hop is a real edge, walked backwards
                here = hop.ci
            assert here == ci
        # The tree alone bounds every distance.
        assert max(distance for _, distance in found.reached) <= 9

    def test_reaches_follows_one_relationship_type(self) -> None:
        out = {"a": {("part_of", "b")}, "b": {(DEPENDS, "c")}}
        assert reaches(out, "a", "b", "part_of")
        assert not reaches(out, "a", "c", "part_of")


class TestRelationships:
    def test_self_loops_duplicates_and_part_of_cycles_are_refused(self, cmdb: Any) -> None:
        change_id = cmdb.cis("disk", "array", "rack")
        part_of = RelationshipType.PART_OF
        with acting(cmdb.MAINTAINER):
            cmdb.app.relate("disk", part_of, "array", change_id)
            cmdb.app.relate("array", part_of, "rack", change_id)
            for source, target, rule in (
                ("disk", "disk", "self-loop"),
                ("disk", "array", "relationship-exists"),
                ("rack", "disk", "part-of-cycle"),
            ):
                head = cmdb.head()
                with pytest.raises(DomainError) as refused:
                    cmdb.app.relate(source, part_of, target, change_id)
                assert refused.value.rule == rule
                assert cmdb.head() == head
            # depends_on may loop (services call each other); only part_of may not.
            depends = RelationshipType.DEPENDS_ON
            cmdb.app.relate("rack", depends, "disk", change_id)
            cmdb.app.relate("disk", depends, "rack", change_id)

    def test_a_removed_relationship_leaves_the_graph_and_can_be_restored(self, cmdb: Any) -> None:
        change_id = cmdb.cis("app", "db")
        depends = RelationshipType.DEPENDS_ON
        with acting(cmdb.MAINTAINER):
            edge = cmdb.app.relate("app", depends, "db", change_id)
            cmdb.app.unrelate("app", depends, "db", change_id)
            assert cmdb.app.graph.query(lambda g: g.relationships("app")) == []
            with pytest.raises(DomainError) as again:
                cmdb.app.unrelate("app", depends, "db", change_id)
            assert again.value.rule == "relationship-removed"
            restored = cmdb.app.relate("app", depends, "db", change_id)
        assert restored.id == edge.id
        assert restored.active
        assert cmdb.app.graph.query(lambda g: g.edges({"app", "db"}, None)) == [
            ("app", "depends_on", "db")
        ]

    def test_a_retired_ci_takes_no_new_relationships(self, cmdb: Any) -> None:
        from changeledger.cmdb.domain import Lifecycle

        change_id = cmdb.cis("app", "old-db")
        with acting(cmdb.MAINTAINER):
            cmdb.app.change_lifecycle("old-db", Lifecycle.RETIRED, change_id, "decommissioned")
            with pytest.raises(DomainError) as refused:
                cmdb.app.relate("app", RelationshipType.DEPENDS_ON, "old-db", change_id)
        assert refused.value.rule == "ci-retired"

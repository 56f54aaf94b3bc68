"""Relationships between CIs, the graph, and impact analysis."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query, Response

from changeledger.cmdb import domain as d
from changeledger.cmdb.api.common import MAINTAINERS, AsOf, Cmdb
from changeledger.cmdb.api.views import (
    ChangeId,
    Edge,
    GraphView,
    ImpactView,
    Key,
    Node,
    RelationshipView,
)
from changeledger.cmdb.domain.graph import Direction
from changeledger.cmdb.reports import CmdbGraph
from changeledger.runtime.domain import NotFound
from changeledger.runtime.http import Body, Command, query, requires

router = APIRouter(tags=["relationships and impact"])


class Relate(Body):
    source: str = Key
    type: d.RelationshipType
    target: str = Key
    change_id: UUID | None = ChangeId


@router.post("/relationships", status_code=201, response_model=RelationshipView)
async def relate(
    body: Relate, app: Cmdb, command: Command = requires(*MAINTAINERS)
) -> RelationshipView:
    """`source type target`, under a change whose scope names the source. Self-loops,
    duplicates and `part_of` cycles are refused."""
    relationship = await command.run(
        app.relate, body.source, body.type, body.target, body.change_id
    )
    return RelationshipView.of(relationship)


@router.post("/relationships/remove", response_model=RelationshipView)
async def unrelate(
    body: Relate, app: Cmdb, command: Command = requires(*MAINTAINERS)
) -> RelationshipView:
    relationship = await command.run(
        app.unrelate, body.source, body.type, body.target, body.change_id
    )
    return RelationshipView.of(relationship)


@router.get("/graph", response_model=GraphView)
async def graph(
    app: Cmdb,
    type: list[d.CiType] | None = Query(default=None, description="Only CIs of these types"),
    relationship_type: list[d.RelationshipType] | None = Query(default=None),
    as_of: AsOf = None,
) -> GraphView:
    """Nodes and edges, now or as they were at `as_of`."""
    types = {t.value for t in relationship_type} if relationship_type else None

    def nodes_and_edges(g: CmdbGraph) -> GraphView:
        cis = [
            ci
            for ci in g.items()
            if ci.lifecycle is not d.Lifecycle.RETIRED and (not type or ci.type in type)
        ]
        keys = {ci.key for ci in cis}
        return GraphView(
            nodes=[
                Node(
                    key=ci.key,
                    type=ci.type,
                    name=ci.name,
                    owner=ci.owner,
                    lifecycle=ci.lifecycle,
                    version=ci.ci_version,
                )
                for ci in cis
            ],
            edges=[
                Edge(source=s, type=d.RelationshipType(k), target=t)
                for s, k, t in g.edges(keys, types)
            ],
        )

    return await query(app.graph.query, nodes_and_edges, as_of)


@router.get("/impact", response_model=ImpactView)
async def impact(
    app: Cmdb,
    ci: str = Query(min_length=1, max_length=100),
    direction: Direction = Direction.UP,
    depth: int = Query(default=10, ge=1, le=100),
    relationship_type: list[d.RelationshipType] | None = Query(default=None),
    paths: bool = Query(default=False, description="Spell out each CI's whole path"),
    as_of: AsOf = None,
) -> Response:
    """Every CI reachable from `ci` within `depth` steps, each by a shortest path: `via`
    is its last hop, so the entries form a tree rooted at `ci` (with `paths=true`, each
    also has its whole path). `up` follows edges backwards (what depends on the CI: what
    a change to it can break), `down` follows them forwards (what it depends on), `both`
    does both."""
    types = {t.value for t in relationship_type} if relationship_type else None

    def walk(g: CmdbGraph) -> bytes:
        if ci not in g.cis:
            raise NotFound(f"there is no CI {ci}", rule="ci-unknown")
        question = (ci, direction, depth, frozenset(types) if types else None, paths)
        return g.answer(
            question,
            lambda: ImpactView.render(
                g.impact(ci, direction, depth, types), direction.value, depth, paths
            ),
        )

    return Response(await query(app.graph.query, walk, as_of), media_type="application/json")

"""CMDB impact analysis on 10,000 CIs and 30,000 edges: in the projection, and over HTTP.

The graph is loaded by the bootstrap import into a fresh SQLite store; the CMDB then runs
as its own process (as `changeledger serve cmdb` runs it) and answers `GET /impact`.
Three questions: everything upstream of the root (the whole graph, 9,999 CIs), a bounded
walk both ways from the middle (depth 3), and what a leaf depends on (depth 10).
The target (DESIGN.md section 7) is under 50 ms per answer.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bench.support import console, percentiles, show, write_results
from changeledger.cmdb.application import CmdbApplication, NewCi
from changeledger.cmdb.domain import CiType, RelationshipType
from changeledger.cmdb.domain.graph import Direction
from changeledger.cmdb.reports import CmdbGraph
from changeledger.runtime.domain import Actor, Provenance, acting
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import open_store
from tests.support.services import ServiceProcess, bearer

QUESTIONS: dict[str, dict[str, str]] = {
    "up from the root (all)": {"ci": "ci-0", "direction": "up", "depth": "100"},
    "both ways, depth 3": {"ci": "ci-5000", "direction": "both", "depth": "3"},
    "down from a leaf, depth 10": {"ci": "ci-9999", "direction": "down", "depth": "10"},
}


def graph(cis: int, edges: int, seed: int = 7) -> set[tuple[str, str]]:
    """A tree (each CI depends on its parent) plus random edges to earlier CIs."""
    rng = random.Random(seed)
    found = {(f"ci-{i}", f"ci-{(i - 1) // 3}") for i in range(1, cis)}
    while len(found) < edges:
        i = rng.randrange(1, cis)
        found.add((f"ci-{i}", f"ci-{rng.randrange(0, i)}"))
    return found


def load(settings: Settings, cis: int, edges: set[tuple[str, str]]) -> float:
    app = open_store(CmdbApplication, "cmdb", settings)
    try:
        started = time.perf_counter()
        with acting(Provenance(Actor("bench", ("cmdb-admin",)), "bench", "bootstrap")):
            app.bootstrap(
                [NewCi(f"ci-{i}", CiType.SERVICE, f"CI {i}", "bench") for i in range(cis)],
                [(s, RelationshipType.DEPENDS_ON, t) for s, t in sorted(edges)],
                "benchmark graph",
            )
        return time.perf_counter() - started
    finally:
        app.close()


def in_projection(settings: Settings, repeats: int) -> dict[str, dict[str, float]]:
    app = open_store(CmdbApplication, "cmdb", settings)
    try:
        app.graph.query(lambda g: None)  # fold the store once
        rows: dict[str, dict[str, float]] = {}
        for name, q in QUESTIONS.items():
            ask = partial(
                CmdbGraph.impact,
                ci=str(q["ci"]),
                direction=Direction(q["direction"]),
                depth=int(q["depth"]),
                types=None,
            )
            timings = []
            for _ in range(repeats):
                started = time.perf_counter()
                app.graph.query(ask)
                timings.append((time.perf_counter() - started) * 1000)
            rows[f"projection: {name}"] = percentiles(timings)
        return rows
    finally:
        app.close()


def over_http(
    settings: Settings, repeats: int
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, int]]]:
    service = ServiceProcess("cmdb", settings).start(timeout=120)
    rows: dict[str, dict[str, float]] = {}
    sizes: dict[str, dict[str, int]] = {}
    try:
        headers = bearer(settings, "bench", "viewer")
        with httpx.Client(base_url=service.url, headers=headers, timeout=60) as client:
            client.get("/impact", params=QUESTIONS["down from a leaf, depth 10"]).raise_for_status()
            for name, q in QUESTIONS.items():
                # First asked (computed), then asked again (the service remembers an
                # answer until the graph changes). Each first-time question differs a
                # little (depth, or a neighbouring CI) so that none is remembered.
                cold, warm = [], []
                for i in range(repeats):
                    started = time.perf_counter()
                    client.get("/impact", params=_variant(q, i)).raise_for_status()
                    cold.append((time.perf_counter() - started) * 1000)
                for _ in range(repeats):
                    started = time.perf_counter()
                    answer = client.get("/impact", params=q)
                    warm.append((time.perf_counter() - started) * 1000)
                    answer.raise_for_status()
                sizes[name] = {"impacted": answer.json()["count"], "bytes": len(answer.content)}
                rows[f"HTTP, first asked: {name}"] = percentiles(cold)
                rows[f"HTTP, asked again: {name}"] = percentiles(warm)
        rows |= asyncio.run(over_aiohttp(service.url, headers, repeats))
    finally:
        service.stop()
    return rows, sizes


def _variant(question: dict[str, str], i: int) -> dict[str, str]:
    """The question with a different depth (from the root), or from a nearby CI."""
    if question["ci"] == "ci-0":
        return question | {"depth": str(100 - i)}
    number = int(question["ci"].removeprefix("ci-"))
    return question | {"ci": f"ci-{number - 1 - i}"}


async def over_aiohttp(
    url: str, headers: dict[str, str], repeats: int
) -> dict[str, dict[str, float]]:
    """The same questions from a client with a C HTTP parser: httpx parses responses in
    pure Python, which for a 1 MB answer is a good part of what the table above shows."""
    rows: dict[str, dict[str, float]] = {}
    async with aiohttp.ClientSession(url, headers=headers) as session:
        for name, q in QUESTIONS.items():
            timings = []
            for i in range(repeats):
                started = time.perf_counter()
                async with session.get("/impact", params=_variant(q, repeats + i)) as answer:
                    await answer.read()
                timings.append((time.perf_counter() - started) * 1000)
            rows[f"HTTP (aiohttp), first asked: {name}"] = percentiles(timings)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cis", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "var", kafka_bootstrap_servers="127.0.0.1:1")
        edges = graph(args.cis, args.edges)
        console.print(f"loading {args.cis:,} CIs and {len(edges):,} edges ...")
        load_seconds = load(settings, args.cis, edges)
        rows = in_projection(settings, args.repeats)
        http_rows, sizes = over_http(settings, args.repeats)
        rows |= http_rows

    show(f"Impact analysis on {args.cis:,} CIs and {len(edges):,} edges", rows, "ms")
    for name, size in sizes.items():
        console.print(f"  {name}: {size['impacted']:,} CIs, {size['bytes']:,} bytes")
    parameters: dict[str, Any] = vars(args) | {"questions": QUESTIONS}
    path = write_results(
        "impact",
        parameters,
        {"load_seconds": load_seconds, "latency_ms": rows, "answers": sizes, "target_ms": 50},
    )
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()

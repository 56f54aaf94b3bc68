"""Propagation latency: from a 2xx on planning to the effect recorded in risk's store.

Planning and risk run as their own processes on SQLite (or PostgreSQL) stores against a
real Kafka broker. Commands (`POST /releases`) are sent open-loop at a fixed rate, first
unmeasured for `--warmup` seconds (the broker's JVM compiles its hot paths meanwhile: in
20 s windows at 200/s on a fresh broker here it spent 2.35, 1.41, 0.89 and 0.88 ms of CPU
per command), then, once risk has caught up with the warm-up, measured. The
effect is risk's `RiskRegister.Opened` event, whose timestamp is taken when risk's policy
runs, just before its transaction commits; it is read from risk's store afterwards, so
measuring adds no polling delay. Two spans are reported:

- 2xx -> effect: from the client receiving the 2xx to the effect (can be below zero: the
  relay is woken by the save and may beat the HTTP response to the client);
- stored -> effect: from planning's `Release.Planned` timestamp to the effect, split at
  the moment the relay handed the record to the producer (the record's timestamp).

    uv run python -m bench.propagation --rate 200 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import tempfile
import time
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

import aiohttp

from bench.support import (
    CpuMeter,
    console,
    kafka_for_bench,
    percentiles,
    postgres_pid,
    show,
    show_cpu,
    write_results,
)
from changeledger.planning.application import PlanningApplication
from changeledger.risk.application import RiskApplication
from changeledger.runtime.settings import Settings
from tests.support.actors import release_body
from tests.support.infra import postgres_server
from tests.support.kafka import read_topic
from tests.support.services import ServiceProcess, bearer, eventually
from tests.support.stores import events_of, opened


async def send_at_rate(
    url: str, headers: dict[str, str], rate: float, seconds: float, prefix: str = "B"
) -> tuple[dict[str, float], int]:
    """POST /releases open-loop at `rate` per second; returns id -> wall time of the 2xx."""
    answered: dict[str, float] = {}
    failures = 0
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(url, headers=headers, connector=connector) as client:

        async def one(n: int) -> None:
            nonlocal failures
            async with client.post("/releases", json=release_body(f"{prefix}{n}")) as response:
                if response.status == 201:
                    answered[(await response.json())["id"]] = time.time()
                else:
                    failures += 1

        tasks = []
        start = time.monotonic()
        total = int(rate * seconds)
        for n in range(total):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return answered, failures


def recorded(settings: Settings) -> set[str]:
    """The releases whose effect risk has recorded."""
    with opened(RiskApplication, "risk", settings) as store:
        return {str(e.release_id) for e in events_of(store, "RiskRegister.Opened")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="commands per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to send")
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--warmup",
        type=float,
        default=60.0,
        help="seconds of the same load, unmeasured, before the measured run",
    )
    args = parser.parse_args()

    with (
        kafka_for_bench() as kafka,
        tempfile.TemporaryDirectory() as tmp,
        postgres_server() if args.store == "postgres" else nullcontext() as postgres,
    ):
        settings = Settings(
            data_dir=Path(tmp) / "var",
            kafka_bootstrap_servers=kafka.bootstrap_servers,
            postgres_schema_prefix=f"bench{int(time.time())}_",
            **(postgres.settings if postgres is not None else {"store": "sqlite"}),
        )
        planning = ServiceProcess("planning", settings).start()
        risk = ServiceProcess("risk", settings).start()
        try:
            planning.wait_ready()
            risk.wait_ready()
            headers = bearer(settings, "bench", "release-manager")
            # A production broker has run a while; this one is a fresh JVM, which spends
            # two to three times the CPU per message until its JIT has compiled the request
            # paths, and on shared cores that CPU would show up as the services' latency.
            console.print(f"warming up at {args.rate:.0f} commands/s for {args.warmup:.0f} s ...")
            warmed, _ = asyncio.run(
                send_at_rate(planning.url, headers, args.rate, args.warmup, "W")
            )
            # Measured commands must not queue behind the warm-up's backlog.
            eventually(
                lambda: recorded(settings) >= set(warmed),
                timeout=300,
                interval=0.5,
                what="every warm-up effect recorded",
            )
            console.print(f"sending {args.rate:.0f} commands/s for {args.seconds:.0f} s ...")
            # The load generator's own full collections would pause the sending, and the
            # burst after each pause would show up as the services' latency.
            gc.collect()
            gc.freeze()
            sent_at = time.monotonic()
            pids = {
                "planning": planning.pid,
                "risk": risk.pid,
                "Kafka": kafka.pid,
                "PostgreSQL": postgres_pid(postgres),
                "client": os.getpid(),
            }
            with CpuMeter(pids) as meter:
                answered, failures = asyncio.run(
                    send_at_rate(planning.url, headers, args.rate, args.seconds)
                )
            achieved = len(answered) / (time.monotonic() - sent_at)

            eventually(
                lambda: recorded(settings) >= set(answered),
                timeout=300,
                interval=1.0,
                what="every effect recorded",
            )
        except BaseException:
            console.print(risk.log_file.read_text()[-3000:])
            raise
        finally:
            planning.stop()
            risk.stop()

        with opened(RiskApplication, "risk", settings) as store:
            effects = {
                str(e.release_id): e.timestamp for e in events_of(store, "RiskRegister.Opened")
            }
        with opened(PlanningApplication, "planning", settings) as planning_store:
            stored = {
                str(e.originator_id): e.timestamp
                for e in events_of(planning_store, "Release.Planned")
            }
        records = asyncio.run(
            read_topic(
                kafka.bootstrap_servers,
                settings.topic("planning.events"),
                at_least=len(stored),
                keys={i.encode() for i in answered},
                timeout=120,
            )
        )
        # The record's timestamp is the producer's: when the relay handed it over.
        published = {r.key.decode(): r.timestamp / 1000 for r in records if r.key}

    def ms(later: datetime, earlier: float) -> float:
        return (later.timestamp() - earlier) * 1000

    from_2xx = [ms(effects[i], t) for i, t in answered.items()]
    from_store = [ms(effects[i], stored[i].timestamp()) for i in answered]
    stored_to_published = [(published[i] - stored[i].timestamp()) * 1000 for i in answered]
    published_to_effect = [ms(effects[i], published[i]) for i in answered]
    rows = {
        "2xx -> effect": percentiles(from_2xx),
        "stored -> effect": percentiles(from_store),
        "  stored -> handed to Kafka": percentiles(stored_to_published),
        "  handed to Kafka -> effect": percentiles(published_to_effect),
    }
    show(f"Propagation planning -> risk over Kafka ({args.store})", rows, "ms")
    console.print(f"achieved {achieved:.1f} commands/s, {failures} failed")
    cpu = meter.per_command(len(answered))
    show_cpu(
        "Where the CPU went while sending (ms per command, and cores used)",
        {f"{args.rate:g} commands/s": {"cpu": cpu}},
    )
    write_results(
        "propagation"
        + ("" if args.rate == 200 else f"-{args.rate:g}")
        + ("" if args.store == "sqlite" else f"-{args.store}"),
        {"rate": args.rate, "seconds": args.seconds, "store": args.store, "warmup": args.warmup},
        {"latency_ms": rows, "achieved_rate": achieved, "failures": failures, "cpu": cpu},
    )


if __name__ == "__main__":
    main()

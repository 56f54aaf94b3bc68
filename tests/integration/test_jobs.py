"""A service's own clock work (the scheduler, escalations, sealing) runs on one replica
only: the one whose relay leads. Two schedulers would both deliver a due message."""

import asyncio
from collections import Counter
from dataclasses import replace

from changeledger.planning.application import PlanningApplication
from changeledger.planning.service import definition as planning
from changeledger.runtime.service import Job, ServiceRuntime
from changeledger.runtime.settings import Settings
from tests.support.infra import KafkaServer
from tests.support.services import eventually_async


async def test_only_the_leading_replica_runs_the_jobs_and_the_other_takes_over(
    settings: Settings, kafka: KafkaServer
) -> None:
    runs: Counter[int] = Counter()

    def count(app: PlanningApplication) -> None:
        runs[id(app)] += 1

    counted = replace(planning, jobs=[Job("count", count, interval=0.05)])
    first, second = ServiceRuntime(counted, settings), ServiceRuntime(counted, settings)
    await first.start()
    await second.start()
    try:

        async def one_leads() -> bool:
            return [first.relay.is_leader, second.relay.is_leader].count(True) == 1

        await eventually_async(one_leads, what="one replica leads")
        leader, follower = (first, second) if first.relay.is_leader else (second, first)
        await asyncio.sleep(1.0)
        assert runs[id(leader.app)] > 0
        assert runs[id(follower.app)] == 0

        await leader.stop()

        async def follower_runs_them() -> bool:
            return runs[id(follower.app)] > 0

        await eventually_async(follower_runs_them, timeout=15, what="the other replica takes over")
    finally:
        await first.stop()
        await second.stop()
    print(f"job runs by replica: {dict(runs)}")

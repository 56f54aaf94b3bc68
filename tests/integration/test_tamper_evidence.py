"""Each kind of tampering, done directly on a service's tables (SQLite and PostgreSQL),
is found by `verify`, which names the first broken link; an untouched store verifies
clean. Each is checked with the log read whole and in chunks of 1 and 4 events, whose
links are then stitched (as when chunks are checked in parallel)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from changeledger.planning.application import PlanningApplication
from changeledger.planning.domain import Priority
from changeledger.runtime.audit import Sealer, seal_log
from changeledger.runtime.domain import acting
from changeledger.runtime.settings import Settings
from changeledger.runtime.verification import CHUNK, verify
from tests.support.actors import Q1, RELEASE_MANAGER
from tests.support.stores import opened
from tests.support.tamper import RawStore

KEY = b"the auditors' checkpoint key, kept off the database host"


class Scene:
    """A planning store with three releases of three events each, sealed, and more
    events after the seal."""

    def __init__(self, settings: Settings, witness: Path, chunk: int = CHUNK) -> None:
        self.settings = settings
        self.witness = witness
        self.chunk = chunk
        self.raw = RawStore(settings, "planning")
        with opened(PlanningApplication, "planning", settings) as app, acting(RELEASE_MANAGER):
            self.releases: list[UUID] = []
            for name in ("Spring", "Summer", "Autumn"):
                release = app.plan_release(name, "rita", Priority.HIGH, Q1)
                app.put_release_on_hold(release.id, "waiting for funds")
                app.resume_release(release.id)
                self.releases.append(release.id)
            self.sealed_at = seal_log(app, KEY, witness)
            app.put_release_on_hold(self.releases[0], "again")

    def verify(self) -> Any:
        with opened(PlanningApplication, "planning", self.settings) as app:
            return verify(app, KEY, self.witness, chunk=self.chunk)


@pytest.fixture(params=[CHUNK, 1, 4], ids=["whole", "chunks-of-1", "chunks-of-4"])
def scene(store_settings: Settings, tmp_path: Path, request: pytest.FixtureRequest) -> Scene:
    return Scene(store_settings, tmp_path / "witness.json", request.param)


def test_an_untouched_store_verifies_clean(scene: Scene) -> None:
    report = scene.verify()
    assert report.broken is None
    # 3 releases x 3 events, the audit log started and sealed, one event after the seal
    assert (report.events, report.aggregates, report.checkpoints) == (12, 4, 1)
    assert report.unsealed == 3  # the audit log's own two events, and the one after


def test_a_modified_payload(scene: Scene) -> None:
    scene.raw.alter(scene.releases[1], 1, b"Summer", b"Winter")
    assert "content was altered" in scene.verify().broken


def test_a_deleted_event(scene: Scene) -> None:
    scene.raw.delete(scene.releases[1], 2)
    assert "deleted or reordered" in scene.verify().broken


def test_events_reordered(scene: Scene) -> None:
    scene.raw.swap(scene.releases[2], 2, 3)
    assert "content was altered" in scene.verify().broken


def test_an_event_inserted_by_hand(scene: Scene) -> None:
    scene.raw.insert(uuid4(), scene.raw.topic(scene.releases[0], 1), b'{"name":"Ghost"}')
    assert "carries no chain" in scene.verify().broken


def test_an_aggregates_last_event_deleted_is_caught_by_the_checkpoint(scene: Scene) -> None:
    # Its own chain cannot show a missing last link; the sealed log can.
    scene.raw.delete(scene.releases[2], 3)
    assert "before it" in scene.verify().broken


def test_a_forged_aggregate_after_the_checkpoint_is_unsealed_until_the_next(
    scene: Scene,
) -> None:
    scene.raw.forge(like=scene.releases[0], new_id=uuid4())
    report = scene.verify()
    assert report.broken is None  # a well-forged tail looks like new events ...
    assert report.unsealed == 4  # ... but is not covered by any checkpoint yet
    with opened(PlanningApplication, "planning", scene.settings) as app, acting(RELEASE_MANAGER):
        seal_log(app, b"a forger's own key", None)  # and cannot be sealed without the key
    assert "not signed" in scene.verify().broken


def test_a_truncated_tail(scene: Scene) -> None:
    assert scene.sealed_at is not None
    scene.raw.truncate_after(scene.sealed_at - 1)  # the sealed events and the checkpoint
    assert "cut off" in scene.verify().broken


def test_chunks_checked_in_parallel_processes_give_the_same_answer(
    store_settings: Settings, tmp_path: Path
) -> None:
    scene = Scene(store_settings, tmp_path / "witness.json")

    def in_processes() -> Any:
        with opened(PlanningApplication, "planning", scene.settings) as app:
            return verify(app, KEY, scene.witness, workers=2, chunk=3)

    clean = in_processes()
    assert (clean.broken, clean.events, clean.aggregates, clean.checkpoints) == (
        None,
        12,
        4,
        1,
    )
    scene.raw.alter(scene.releases[1], 2, b"waiting", b"WAITING")
    tampered = in_processes().broken
    assert tampered == scene.verify().broken
    assert "content was altered" in tampered


def test_seals_hashed_as_the_log_grew_verify_whoever_sealed_last(
    store_settings: Settings, tmp_path: Path
) -> None:
    witness = tmp_path / "witness.json"
    with opened(PlanningApplication, "planning", store_settings) as app, acting(RELEASE_MANAGER):
        sealer, other_replica = Sealer(app, KEY, witness), Sealer(app, KEY, witness)
        for name in ("Spring", "Summer"):
            app.plan_release(name, "rita", Priority.HIGH, Q1)
            sealer.advance()
        first = sealer.seal()
        app.plan_release("Autumn", "rita", Priority.HIGH, Q1)
        sealer.advance()
        # The other replica seals over what this one has hashed already...
        second = other_replica.seal()
        app.plan_release("Winter", "rita", Priority.HIGH, Q1)
        sealer.advance()
        # ...so this one starts its segment again from that checkpoint.
        third = sealer.seal()
        nothing_new = sealer.seal()
        report = verify(app, KEY, witness)

    assert first is not None
    assert second is not None
    assert third is not None
    assert first < second < third
    assert nothing_new is None
    assert report.broken is None
    assert report.checkpoints == 3


def test_a_sealer_hashes_each_event_once_between_seals(store_settings: Settings) -> None:
    with opened(PlanningApplication, "planning", store_settings) as app, acting(RELEASE_MANAGER):
        sealer = Sealer(app, KEY)
        app.plan_release("Sealed", "rita", Priority.HIGH, Q1)
        sealer.seal()
        sealer.advance()
        before = sealer.hashed
        for n in range(10):
            app.plan_release(f"R{n}", "rita", Priority.HIGH, Q1)
        for _ in range(5):
            sealer.advance()
        sealed = sealer.seal()

    # The ten new events, and the two that the first seal added (the audit log's start
    # and the seal) once more as the segment starts again after them; never the whole
    # segment at every call.
    assert sealer.hashed - before <= 12
    assert sealed is not None

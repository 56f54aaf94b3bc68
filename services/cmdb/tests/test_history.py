"""The CMDB as it was at any time, and what changed between two times, each change
attributed to its change request and actor; discovery records drift and changes nothing."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import Tracking
from pydantic import SecretStr

from changeledger.cmdb.application import CmdbApplication, Observation
from changeledger.cmdb.domain import CiType, Lifecycle, RelationshipType
from changeledger.runtime.domain import DomainError, acting
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import open_store


def moment() -> datetime:
    time.sleep(0.01)  # distinct timestamps between steps
    stamp = datetime.now(UTC)
    time.sleep(0.01)
    return stamp


@pytest.fixture
def story(cmdb: Any) -> dict[str, Any]:
    """Three authorised changes, one after another, each by a different person."""
    first = cmdb.planning.authorised_change("app", "db")
    with acting(cmdb.as_("mo", "cmdb-maintainer")):
        cmdb.register("app", first, version="1.0")
    t1 = moment()
    with acting(cmdb.as_("mo", "cmdb-maintainer")):
        cmdb.register("db", first, type=CiType.DATABASE)
    second = cmdb.planning.authorised_change("app")
    with acting(cmdb.as_("nina", "cmdb-maintainer")):
        cmdb.app.set_version("app", "2.0", second)
        cmdb.app.update_ci("app", second, attributes={"tier": "gold"})
    t2 = moment()
    third = cmdb.planning.authorised_change("app")
    with acting(cmdb.as_("otto", "cmdb-maintainer")):
        cmdb.app.change_lifecycle("app", Lifecycle.RETIRED, third, "replaced")
    t3 = moment()
    return {"changes": (first, second, third), "times": (t1, t2, t3)}


def test_a_ci_as_it_was_at_each_time(cmdb: Any, story: dict[str, Any]) -> None:
    t1, t2, t3 = story["times"]
    assert (cmdb.app.ci("app", t1).ci_version, cmdb.app.ci("app", t1).attributes) == ("1.0", {})
    assert cmdb.app.ci("app", t2).ci_version == "2.0"
    assert cmdb.app.ci("app", t2).attributes == {"tier": "gold"}
    assert cmdb.app.ci("app", t2).lifecycle is Lifecycle.ACTIVE
    assert cmdb.app.ci("app", t3).lifecycle is Lifecycle.RETIRED
    with pytest.raises(DomainError):
        cmdb.app.ci("db", t1)  # not registered yet


def test_the_whole_cmdb_as_it_was(cmdb: Any, story: dict[str, Any]) -> None:
    t1, t2, t3 = story["times"]

    def census(g: Any) -> dict[str, str]:
        return {ci.key: ci.lifecycle.value for ci in g.items()}

    assert cmdb.app.graph.query(census, as_of=t1) == {"app": "Active"}
    assert cmdb.app.graph.query(census, as_of=t2) == {"app": "Active", "db": "Active"}
    assert cmdb.app.graph.query(census, as_of=t3) == {"app": "Retired", "db": "Active"}


def test_the_diff_between_two_times_names_each_change_and_actor(
    cmdb: Any, story: dict[str, Any]
) -> None:
    first, second, third = story["changes"]
    t1, t2, _ = story["times"]
    between = cmdb.app.differences("app", t1, t2)
    assert [(d.event, d.change_id, d.provenance.actor.sub) for d in between] == [
        ("VersionSet", second, "nina"),
        ("Updated", second, "nina"),
    ]
    assert between[0].changes == (("version", "1.0", "2.0"),)
    assert between[1].changes == (("attributes.tier", None, "gold"),)
    everything = cmdb.app.differences("app")
    assert [d.change_id for d in everything] == [first, second, second, third]
    assert everything[-1].changes == (("lifecycle", "Active", "Retired"),)


def writes_under(cmdb: Any, *change_ids: UUID, as_of: datetime | None = None) -> Any:
    return cmdb.app.writes_under([cmdb.app.known_change(c) for c in change_ids], as_of)


def test_writes_are_listed_per_change(cmdb: Any, story: dict[str, Any]) -> None:
    first, second, third = story["changes"]
    untouched = cmdb.planning.authorised_change("app")
    writes = writes_under(cmdb, first, second, third, untouched)
    assert [(w.ci, w.what) for w in writes[first]] == [
        ("app", "ConfigurationItem.Registered"),
        ("db", "ConfigurationItem.Registered"),
    ]
    assert [(w.what, w.actor) for w in writes[second]] == [
        ("ConfigurationItem.VersionSet", "nina"),
        ("ConfigurationItem.Updated", "nina"),
    ]
    assert [w.what for w in writes[third]] == ["ConfigurationItem.Retired"]
    assert writes[untouched] == []


def test_writes_per_change_as_they_were(cmdb: Any, story: dict[str, Any]) -> None:
    first, second, _ = story["changes"]
    t1, t2, _ = story["times"]
    assert [w.ci for w in writes_under(cmdb, first, as_of=t1)[first]] == ["app"]
    assert writes_under(cmdb, second, as_of=t1)[second] == []
    assert len(writes_under(cmdb, second, as_of=t2)[second]) == 2


def test_relationship_writes_are_their_source_cis_and_the_graph_keeps_none(cmdb: Any) -> None:
    registration = cmdb.planning.authorised_change("app", "db")
    with acting(cmdb.as_("mo", "cmdb-maintainer")):
        cmdb.register("app", registration)
        cmdb.register("db", registration, type=CiType.DATABASE)
    wiring = cmdb.planning.authorised_change("app")
    with acting(cmdb.as_("mo", "cmdb-maintainer")):
        cmdb.app.relate("app", RelationshipType.DEPENDS_ON, "db", wiring)
        cmdb.app.unrelate("app", RelationshipType.DEPENDS_ON, "db", wiring)
    assert [(w.ci, w.what) for w in writes_under(cmdb, wiring)[wiring]] == [
        ("app", "Relationship.Added"),
        ("app", "Relationship.Removed"),
    ]
    # Read from the store when asked: nothing per write is held in memory.
    assert not hasattr(cmdb.app.graph.query(lambda g: g), "writes")


class TestDiscovery:
    def test_each_difference_is_drift_and_nothing_is_changed(self, cmdb: Any) -> None:
        change_id = cmdb.planning.authorised_change("app")
        cmdb.register("app", change_id, version="1.0", attributes={"port": 443})
        before = cmdb.app.ci("app").version
        with acting(cmdb.as_("scan", "cmdb-maintainer")):
            run = cmdb.app.record_discovery(
                "nmap",
                [
                    Observation("app", {"version": "1.1", "owner": "olga"}, {"port": 8443}),
                    Observation("rogue-vm", {"type": "server"}),
                ],
            )
        assert run.drifts == [
            {"ci": "app", "field": "version", "authorised": "1.0", "observed": "1.1"},
            {"ci": "app", "field": "attributes.port", "authorised": 443, "observed": 8443},
            {"ci": "rogue-vm", "field": "existence", "authorised": "absent", "observed": "present"},
        ]
        assert cmdb.app.ci("app").version == before
        with pytest.raises(DomainError):
            cmdb.app.ci("rogue-vm")

    def test_a_matching_observation_is_no_drift(self, cmdb: Any) -> None:
        change_id = cmdb.planning.authorised_change("app")
        cmdb.register("app", change_id, version="1.0")
        with acting(cmdb.as_("scan", "cmdb-maintainer")):
            run = cmdb.app.record_discovery("nmap", [Observation("app", {"version": "1.0"})])
        assert run.drifts == []


def test_effects_saved_together_list_each_write_as_its_maker_made_it(cmdb: Any) -> None:
    """A consumer saves the effects of several messages in one transaction."""
    registration = cmdb.planning.authorised_change("app", "db")
    with acting(cmdb.as_("mo", "cmdb-maintainer")):
        cmdb.register("app", registration, version="1.0")
        cmdb.register("db", registration, type=CiType.DATABASE)
    change_id = cmdb.planning.authorised_change("app", "db")
    app, db = cmdb.app.ci("app"), cmdb.app.ci("db")
    with acting(cmdb.as_("nina", "cmdb-maintainer")):
        app.set_version("2.0", change_id)
    with acting(cmdb.as_("otto", "cmdb-maintainer")):
        db.set_version("15", change_id)
    cmdb.app.save_tracked(app, db, tracking=Tracking("planning.events:0", 7))
    writes = writes_under(cmdb, change_id)[change_id]
    assert [(w.ci, w.what, w.actor) for w in writes] == [
        ("app", "ConfigurationItem.VersionSet", "nina"),
        ("db", "ConfigurationItem.VersionSet", "otto"),
    ]


def test_writes_are_listed_from_an_encrypted_store_too(cmdb: Any, tmp_path: Path) -> None:
    """Encrypted states cannot be searched for the change's id: each event is decoded."""
    key = SecretStr(AESCipher.create_key(32))
    sealed = Settings(data_dir=tmp_path / "sealed", cipher_key=key)
    app = open_store(CmdbApplication, "cmdb", sealed)
    try:
        assert app.mapper.cipher is not None
        encrypted = type(cmdb)(app)
        change_id = encrypted.planning.authorised_change("app")
        encrypted.register("app", change_id, version="1.0")
        with acting(cmdb.as_("nina", "cmdb-maintainer")):
            app.set_version("app", "2.0", change_id)
        assert [(w.what, w.actor) for w in writes_under(encrypted, change_id)[change_id]] == [
            ("ConfigurationItem.Registered", "mo"),
            ("ConfigurationItem.VersionSet", "nina"),
        ]
    finally:
        app.close()

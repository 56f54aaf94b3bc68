"""Only an authorised change, still open for implementation, whose scope covers the CI, may
write the CMDB; every other write is refused, recorded, and changes nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import pytest

from changeledger.cmdb.application import CmdbApplication, NewCi
from changeledger.cmdb.domain import (
    CiType,
    ConfigurationItem,
    Lifecycle,
    RefusedWrite,
    RelationshipType,
)
from changeledger.contracts import planning as planning_events
from changeledger.runtime.domain import DomainError, acting

Write = Callable[[CmdbApplication, UUID | None], Any]

#: Each kind of write, aimed at CI "app" (which exists, with "db").
WRITES: dict[str, Write] = {
    "register": lambda app, change: app.register_ci(
        NewCi("app", CiType.APPLICATION, "App", "olga"), change
    ),
    "update": lambda app, change: app.update_ci("app", change, attributes={"tier": "gold"}),
    "set-version": lambda app, change: app.set_version("app", "9.9", change),
    "change-lifecycle": lambda app, change: app.change_lifecycle("app", Lifecycle.RETIRED, change),
    "relate": lambda app, change: app.relate("app", RelationshipType.RUNS_ON, "db", change),
}


def _refused(cmdb: Any, write: str, change_id: UUID | None) -> DomainError:
    head = cmdb.head()
    before = cmdb.app.graph.query(lambda g: {k: ci.version for k, ci in g.cis.items()})
    with acting(cmdb.MAINTAINER), pytest.raises(DomainError) as refused:
        WRITES[write](cmdb.app, change_id)
    # One event was recorded: the refusal. Nothing else changed.
    assert cmdb.head() == head + 1
    after = cmdb.app.graph.query(lambda g: {k: ci.version for k, ci in g.cis.items()})
    assert after == before
    refusal = cmdb.refusals()[-1]
    assert (refusal.ci, refusal.change_id, refusal.rule, refusal.actor) == (
        "app",
        change_id,
        refused.value.rule,
        "mo",
    )
    assert refused.value.extra["refusal_id"] == str(refusal.id)
    return refused.value


def _existing(cmdb: Any, write: str) -> None:
    """ "app" and "db" exist, except "app" for a registration."""
    keys = ("db",) if write == "register" else ("app", "db")
    cmdb.cis(*keys)


@pytest.mark.parametrize("write", WRITES)
def test_a_write_without_a_change_is_refused_and_recorded(cmdb: Any, write: str) -> None:
    _existing(cmdb, write)
    error = _refused(cmdb, write, None)
    assert (error.status, error.rule) == (403, "change-required")


@pytest.mark.parametrize("write", WRITES)
def test_a_write_under_an_unknown_change_is_refused_and_recorded(cmdb: Any, write: str) -> None:
    _existing(cmdb, write)
    error = _refused(cmdb, write, uuid4())
    assert (error.status, error.rule) == (403, "change-unknown")


@pytest.mark.parametrize("write", WRITES)
def test_a_write_under_a_change_not_yet_authorised_is_refused(cmdb: Any, write: str) -> None:
    _existing(cmdb, write)
    change_id = cmdb.planning.raise_change(("app",))
    error = _refused(cmdb, write, change_id)
    assert (error.status, error.rule) == (403, "change-not-authorised")


@pytest.mark.parametrize(
    "ending",
    [planning_events.ChangeReviewed, planning_events.ChangeClosed, planning_events.ChangeCancelled],
)
@pytest.mark.parametrize("write", WRITES)
def test_a_write_under_a_finished_change_is_refused(cmdb: Any, write: str, ending: Any) -> None:
    _existing(cmdb, write)
    change_id = cmdb.planning.authorised_change("app")
    fields: dict[str, Any] = {"change_id": change_id}
    if ending is planning_events.ChangeReviewed:
        fields |= {"outcome": "successful", "notes": "done"}
    if ending is planning_events.ChangeCancelled:
        fields |= {"reason": "no longer needed"}
    cmdb.planning.tell(ending(**fields))
    error = _refused(cmdb, write, change_id)
    assert (error.status, error.rule) == (409, "change-finished")


def test_a_rejected_change_authorises_nothing(cmdb: Any) -> None:
    _existing(cmdb, "update")
    change_id = cmdb.planning.raise_change(("app",))
    cmdb.planning.tell(
        planning_events.ChangeRejected(change_id=change_id, decided_by="carl", reason="no")
    )
    assert _refused(cmdb, "update", change_id).rule == "change-finished"


@pytest.mark.parametrize("write", WRITES)
def test_a_write_to_a_ci_outside_the_changes_scope_is_refused(cmdb: Any, write: str) -> None:
    _existing(cmdb, write)
    change_id = cmdb.planning.authorised_change("db")
    error = _refused(cmdb, write, change_id)
    assert (error.status, error.rule) == (403, "ci-outside-scope")
    assert error.extra["ci_scope"] == ["db"]


@pytest.mark.parametrize("write", WRITES)
def test_an_authorised_change_in_scope_writes_and_is_named_on_the_event(
    cmdb: Any, write: str
) -> None:
    _existing(cmdb, write)
    change_id = cmdb.planning.authorised_change("app")
    with acting(cmdb.MAINTAINER):
        WRITES[write](cmdb.app, change_id)
    events = list(cmdb.app.events.get(cmdb.app.ci("app").id))
    if write == "relate":
        edge = cmdb.app.graph.query(lambda g: g.relationships("app"))[0]
        events = list(cmdb.app.events.get(edge.id))
    last = events[-1]
    assert last.change_id == change_id
    assert last.provenance.actor.sub == "mo"
    assert cmdb.refusals() == []


@pytest.mark.parametrize(
    "step", [planning_events.ChangeScheduled, planning_events.ChangeImplementing]
)
def test_a_change_stays_open_while_scheduled_and_implementing(cmdb: Any, step: Any) -> None:
    cmdb.cis("app")
    change_id = cmdb.planning.authorised_change("app")
    fields: dict[str, Any] = {"change_id": change_id}
    if step is planning_events.ChangeScheduled:
        fields["window"] = planning_events.Window(
            start="2030-01-01T00:00:00Z", end="2030-01-01T02:00:00Z"
        )
    cmdb.planning.tell(step(**fields))
    with acting(cmdb.MAINTAINER):
        assert cmdb.app.set_version("app", "2.0", change_id).ci_version == "2.0"


def test_late_status_events_never_open_an_unauthorised_change(cmdb: Any) -> None:
    cmdb.cis("app")
    change_id = cmdb.planning.raise_change(("app",))
    cmdb.planning.tell(planning_events.ChangeImplementing(change_id=change_id))
    assert _refused(cmdb, "update", change_id).rule == "change-not-authorised"


def test_an_authorisation_event_delivered_twice_is_learned_once(cmdb: Any) -> None:
    change_id = cmdb.planning.raise_change(("app",))
    cmdb.planning.authorise(change_id, ("app",))
    head = cmdb.head()
    cmdb.planning.authorise(change_id, ("app",))
    assert cmdb.head() == head


def test_refusals_are_published_for_subscribers(cmdb: Any) -> None:
    from changeledger.cmdb.published import translations

    cmdb.cis("app")
    _refused(cmdb, "update", None)
    stored = list(cmdb.app.events.get(cmdb.refusals()[-1].id))
    published = translations(stored[0])
    assert published is not None
    assert (published.event_type, published.rule, published.owner) == (  # type: ignore[attr-defined]
        "cmdb.write_refused",
        "change-required",
        "olga",
    )


class TestBootstrap:
    def cis(self) -> list[NewCi]:
        return [
            NewCi("web", CiType.APPLICATION, "Web", "olga"),
            NewCi("db", CiType.DATABASE, "DB", "dan", version="14"),
        ]

    def test_an_empty_cmdb_is_loaded_once_without_a_change_and_on_record(self, cmdb: Any) -> None:
        admin = cmdb.as_("ada", "cmdb-admin")
        with acting(admin):
            record = cmdb.app.bootstrap(
                self.cis(), [("web", RelationshipType.DEPENDS_ON, "db")], "initial load"
            )
        assert (record.cis, record.relationships) == (2, 1)
        registered = next(iter(cmdb.app.events.get(cmdb.app.ci("web").id)))
        assert (registered.bootstrap, registered.change_id) == (True, None)
        assert registered.provenance.actor == admin.actor
        with acting(admin), pytest.raises(DomainError) as again:
            cmdb.app.bootstrap([NewCi("x", CiType.SERVER, "X", "o")], [], "again")
        assert again.value.rule == "cmdb-not-empty"

    def test_a_cmdb_that_holds_cis_refuses_the_import(self, cmdb: Any) -> None:
        cmdb.cis("app")
        with acting(cmdb.as_("ada", "cmdb-admin")), pytest.raises(DomainError) as refused:
            cmdb.app.bootstrap(self.cis(), [], "late")
        assert refused.value.rule == "cmdb-not-empty"

    def test_an_import_with_a_part_of_cycle_records_nothing(self, cmdb: Any) -> None:
        part_of = RelationshipType.PART_OF
        with acting(cmdb.as_("ada", "cmdb-admin")), pytest.raises(DomainError) as refused:
            cmdb.app.bootstrap(
                self.cis(), [("web", part_of, "db"), ("db", part_of, "web")], "cyclic"
            )
        assert refused.value.rule == "part-of-cycle"
        assert cmdb.head() == 0


class TestDeployment:
    def test_a_deployed_release_sets_its_planned_versions_under_its_changes(
        self, cmdb: Any
    ) -> None:
        release_id = uuid4()
        cmdb.cis("app", "db")
        change_id = cmdb.planning.authorised_change("app", release_id=release_id)
        cmdb.planning.tell(
            planning_events.ReleaseCiVersionPlanned(
                release_id=release_id, ci="app", ci_version="2.0"
            )
        )
        cmdb.planning.tell(
            planning_events.ReleaseCiVersionPlanned(release_id=release_id, ci="db", ci_version="15")
        )
        cmdb.planning.tell(planning_events.ReleaseDeployed(release_id=release_id))
        app: ConfigurationItem = cmdb.app.ci("app")
        assert app.ci_version == "2.0"
        version_set = list(cmdb.app.events.get(app.id))[-1]
        assert (version_set.change_id, version_set.release_id) == (change_id, release_id)
        # The deployment is among the writes made under the change.
        known = cmdb.app.known_change(change_id)
        last_write = cmdb.app.writes_under([known])[change_id][-1]
        assert (last_write.ci, last_write.what, last_write.release_id) == (
            "app",
            "ConfigurationItem.VersionSet",
            release_id,
        )
        # No change of the release covers db: its version is refused, and on record.
        assert cmdb.app.ci("db").ci_version is None
        refusal: RefusedWrite = cmdb.refusals()[-1]
        assert (refusal.ci, refusal.release_id, refusal.rule) == (
            "db",
            release_id,
            "release-change-missing",
        )

    def test_a_deployment_delivered_twice_applies_once(self, cmdb: Any) -> None:
        release_id = uuid4()
        cmdb.cis("app")
        cmdb.planning.authorised_change("app", release_id=release_id)
        cmdb.planning.tell(
            planning_events.ReleaseCiVersionPlanned(
                release_id=release_id, ci="app", ci_version="2.0"
            )
        )
        cmdb.planning.tell(planning_events.ReleaseDeployed(release_id=release_id))
        head = cmdb.head()
        cmdb.planning.tell(planning_events.ReleaseDeployed(release_id=release_id))
        assert cmdb.head() == head

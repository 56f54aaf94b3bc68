"""Communication's reactions: what planning and risk events make it say, and to whom."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from changeledger.communication.application import (
    CommunicationApplication,
    reaction_message_id,
)
from changeledger.communication.domain import (
    HIGH_POWER,
    Audience,
    KnownChange,
    KnownCi,
    KnownRelease,
    Quadrant,
    known_change_id,
    known_ci_id,
    known_release_id,
)
from changeledger.contracts import Envelope
from changeledger.contracts import cmdb as cmdb_events
from changeledger.contracts import planning as planning_events
from changeledger.contracts import risk as risk_events
from changeledger.runtime.consumer import Policies
from changeledger.runtime.domain import Aggregate, now

policies: Policies[CommunicationApplication] = Policies()
ANNOUNCE_AHEAD = (timedelta(days=14), timedelta(days=1))
ACK_WITHIN = timedelta(days=2)


def _known(app: CommunicationApplication, release_id: object) -> KnownRelease | None:
    assert release_id is not None
    key = known_release_id(release_id)  # type: ignore[arg-type]
    return app.get(key, KnownRelease) if app.contains(key) else None


@policies.on(planning_events.ReleasePlanned)
def learn_release(
    app: CommunicationApplication, event: planning_events.ReleasePlanned, envelope: Envelope
) -> Sequence[Aggregate]:
    if _known(app, event.release_id) is not None:
        return []
    return [KnownRelease(release_id=event.release_id, name=event.name, owner=event.owner)]


@policies.on(planning_events.ReleaseScheduled)
def announce_release(
    app: CommunicationApplication, event: planning_events.ReleaseScheduled, envelope: Envelope
) -> Sequence[Aggregate]:
    """Tell the release's subscribers and the Manage-closely stakeholders, 14 days and
    1 day before the window (at once, if that moment has passed)."""
    changed: list[Aggregate] = []
    known = _known(app, event.release_id)
    if known is not None:
        known.learn_window(event.window.start, event.window.end)
        changed.append(known)
    audience = Audience(
        subscribers_of_release=event.release_id, quadrants=(Quadrant.MANAGE_CLOSELY,)
    )
    planned: set[object] = set()
    for ahead in ANNOUNCE_AHEAD:
        message_id = reaction_message_id(event.release_id, "announce", ahead, event.window.start)
        planned.add(message_id)
        changed += app.plan_once(
            message_id,
            release_id=event.release_id,
            audience=audience,
            channel=None,
            send_at=max(now(), event.window.start - ahead),
            subject=f"Release $release_name deploys in {ahead.days} day(s)",
            body="$release_name is scheduled from $window_start to $window_end.",
            ack_required=True,
            ack_within=ACK_WITHIN,
            purpose="announcement",
        )
    changed += app.cancel_stale(event.release_id, "announcement", planned)  # type: ignore[arg-type]
    return changed


@policies.on(planning_events.ReleaseDeployed)
def announce_go_live(
    app: CommunicationApplication, event: planning_events.ReleaseDeployed, envelope: Envelope
) -> Sequence[Aggregate]:
    known = _known(app, event.release_id)
    changed: list[Aggregate] = []
    if known is not None:
        known.learn_deployment()
        changed.append(known)
    return changed + list(
        app.plan_once(
            reaction_message_id(event.release_id, "go-live"),
            release_id=event.release_id,
            audience=Audience(
                subscribers_of_release=event.release_id, quadrants=(Quadrant.MANAGE_CLOSELY,)
            ),
            channel=None,
            send_at=now(),
            subject="Release $release_name is live",
            body="$release_name has been deployed.",
            ack_required=False,
            ack_within=None,
            purpose="go-live",
        )
    )


@policies.on(risk_events.RiskEscalated)
def warn_of_critical_risk(
    app: CommunicationApplication, event: risk_events.RiskEscalated, envelope: Envelope
) -> Sequence[Aggregate]:
    """A risk escalated to Critical: tell the release's owner and its high-power
    stakeholders at once."""
    if event.rating != "Critical" or event.release_id is None:
        return []
    release_id = event.release_id

    def people(board: object) -> tuple[object, ...]:
        from changeledger.communication.reports import CommunicationBoard

        assert isinstance(board, CommunicationBoard)
        release = board.release(release_id)
        owners = board.named(release.owner) if release else []
        return tuple(s.id for s in [*owners, *board.high_power(release_id, HIGH_POWER)])

    stakeholder_ids = tuple(dict.fromkeys(app.board.query(people)))
    return app.plan_once(
        reaction_message_id(event.risk_id, "critical", envelope.id),
        release_id=release_id,
        audience=Audience(stakeholder_ids=stakeholder_ids),  # type: ignore[arg-type]
        channel=None,
        send_at=now(),
        subject="Critical risk on $release_name",
        body=f"A risk on $release_name was escalated: {event.reason}.",
        ack_required=True,
        ack_within=ACK_WITHIN,
        purpose="critical-risk",
    )


@policies.on(planning_events.ChangeRaised)
def learn_change(
    app: CommunicationApplication, event: planning_events.ChangeRaised, envelope: Envelope
) -> Sequence[Aggregate]:
    if app.contains(known_change_id(event.change_id)):
        return []
    change = KnownChange(
        change_id=event.change_id,
        title=event.title,
        type=event.type,
        requested_by=event.requested_by,
        affected_cis=tuple(event.affected_cis),
        target_release_id=event.target_release_id,
    )
    app.enlist(change)
    return [change]


@policies.on(planning_events.ChangeAuthorised)
def announce_change(
    app: CommunicationApplication, event: planning_events.ChangeAuthorised, envelope: Envelope
) -> Sequence[Aggregate]:
    """Tell the owners of the CIs the change may touch (as the CMDB says), and those who
    subscribe to them."""
    changed: list[Aggregate] = []
    key = known_change_id(event.change_id)
    release_id = None
    if app.contains(key):
        known = app.get(key, KnownChange)
        known.learn_authorisation(
            tuple(event.ci_scope), event.window.start, event.window.end, event.reason
        )
        release_id = known.target_release_id
        changed.append(known)
    scope = tuple(event.ci_scope)
    return changed + list(
        app.plan_once(
            reaction_message_id(event.change_id, "authorised"),
            release_id=release_id,
            change_id=event.change_id,
            audience=Audience(subscribers_of_cis=scope, owners_of_cis=scope),
            channel=None,
            send_at=now(),
            subject="Change authorised: $change_title",
            body=(
                "The change $change_title ($change_type, requested by $change_requested_by) "
                "is authorised on $change_cis from $change_window_start to "
                "$change_window_end: $change_reason"
            ),
            ack_required=False,
            ack_within=None,
            purpose="change-authorised",
        )
    )


def _learn_ci_owner(
    app: CommunicationApplication, event: cmdb_events.CiEvent, envelope: Envelope
) -> Sequence[Aggregate]:
    """Every CI event from the CMDB carries the CI's owner."""
    key = known_ci_id(event.key)
    if app.contains(key):
        known = app.get(key, KnownCi)
        known.learn_owner(event.owner)
        return [known]
    ci = KnownCi(key=event.key, owner=event.owner)
    app.enlist(ci)
    return [ci]


for ci_event in (
    cmdb_events.CiRegistered,
    cmdb_events.CiUpdated,
    cmdb_events.CiLifecycleChanged,
    cmdb_events.CiVersionSet,
    cmdb_events.CiRetired,
):
    policies.on(ci_event)(_learn_ci_owner)

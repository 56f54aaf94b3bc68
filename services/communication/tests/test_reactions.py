"""What other services' events make communication say, and to whom: a change authorised
in planning reaches the owners of its CIs, as the CMDB last said, and their subscribers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from changeledger.communication.policies import policies
from changeledger.contracts import cmdb as cmdb_events
from changeledger.contracts import planning as planning_events
from changeledger.runtime.domain import acting
from tests.support.events import tell

if TYPE_CHECKING:
    from services.communication.tests.conftest import Comms, Inbox

START = datetime(2031, 5, 4, 22, 0, tzinfo=UTC)


def ci_owned_by(comms: Comms, key: str, owner: str) -> None:
    tell(
        comms.app,
        policies,
        cmdb_events.CiRegistered(
            ci_id=uuid4(),
            key=key,
            owner=owner,
            change_id=None,
            type="service",
            name=key,
            attributes={},
            ci_version=None,
            lifecycle="Active",
            bootstrap=True,
        ),
    )


def authorised_change(comms: Comms, *cis: str) -> UUID:
    change_id = uuid4()
    tell(
        comms.app,
        policies,
        planning_events.ChangeRaised(
            change_id=change_id,
            type="normal",
            category="technical",
            title="CRM patch",
            affected_cis=list(cis),
            target_release_id=None,
            impact="low",
            urgency="low",
            requested_by="rita",
        ),
    )
    tell(
        comms.app,
        policies,
        planning_events.ChangeAuthorised(
            change_id=change_id,
            decided_by="carl",
            decided_at=START - timedelta(days=3),
            reason="CAB approved",
            ci_scope=list(cis),
            window=planning_events.Window(start=START, end=START + timedelta(hours=2)),
        ),
    )
    return change_id


def test_an_authorised_change_reaches_the_owners_and_subscribers_of_its_cis(
    comms: Comms, inbox: Inbox
) -> None:
    olga = comms.stakeholder("olga")
    ursula = comms.stakeholder("ursula")
    comms.stakeholder("bystander")
    with acting(comms.ANNA):
        comms.app.subscribe(ursula.id, None, "crm")
    ci_owned_by(comms, "crm", "olga")
    change_id = authorised_change(comms, "crm")

    [message] = comms.app.board.query(lambda b: b.messages())
    assert (message.change_id, message.purpose) == (change_id, "change-authorised")
    comms.tick(comms.NOW)
    sent = comms.app.message(message.id)
    assert {r.stakeholder_id for r in sent.recipients} == {olga.id, ursula.id}
    assert sent.sent_subject == "Change authorised: CRM patch"
    assert sent.sent_body is not None
    assert "requested by rita" in sent.sent_body
    assert f"on crm from {START.isoformat()}" in sent.sent_body
    assert {mail["To"] for mail in inbox.mails} == {"olga@example.com", "ursula@example.com"}


def test_a_new_owner_in_the_cmdb_is_who_hears_of_the_next_change(comms: Comms) -> None:
    comms.stakeholder("olga")
    dan = comms.stakeholder("dan")
    ci_owned_by(comms, "crm", "olga")
    tell(
        comms.app,
        policies,
        cmdb_events.CiUpdated(
            ci_id=uuid4(),
            key="crm",
            owner="dan",
            change_id=uuid4(),
            name=None,
            attributes_set={},
            attributes_removed=[],
        ),
    )
    authorised_change(comms, "crm")
    comms.tick(comms.NOW)
    [message] = comms.app.board.query(lambda b: b.messages())
    assert [r.stakeholder_id for r in comms.app.message(message.id).recipients] == [dan.id]

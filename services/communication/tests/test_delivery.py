"""Messages go out at their time through real channels, are acknowledged once per
recipient, and escalate when acknowledgements are late."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest

from changeledger.communication.domain import Channel, MessageState, Quadrant
from changeledger.runtime.domain import DomainError, acting

if TYPE_CHECKING:
    from services.communication.tests.conftest import Comms, Inbox, Receiver

HOUR = timedelta(hours=1)


def test_quadrants_follow_power_and_interest(comms: Comms) -> None:
    cases = {
        (5, 5): "Manage closely",
        (4, 1): "Keep satisfied",
        (1, 4): "Keep informed",
        (2, 2): "Monitor",
        (3, 3): "Manage closely",
    }
    for (power, interest), quadrant in cases.items():
        assert comms.stakeholder(f"s{power}{interest}", power, interest).quadrant.value == quadrant
    grid = comms.app.board.query(lambda b: b.grid())
    assert len(grid[Quadrant.MANAGE_CLOSELY]) == 2


def test_a_message_goes_out_by_smtp_at_its_time_and_is_acknowledged_once(
    comms: Comms, inbox: Inbox
) -> None:
    ann = comms.stakeholder("ann")
    message = comms.message(ann.id, at=comms.NOW + HOUR)
    assert comms.tick(comms.NOW) == {"sent": 0, "attempts": 0, "overdue": 0}
    assert comms.tick(comms.NOW + HOUR) == {"sent": 1, "attempts": 1, "overdue": 0}
    [mail] = inbox.mails
    assert mail["To"] == "ann@example.com"
    assert mail["Subject"] == "Heads up"
    text = mail.get_content()
    assert "Hello ann" in text
    link = next(word for word in text.split() if "/acks/" in word)
    token = link.rsplit("/", 1)[1]
    delivered = comms.app.message(message.id)
    assert delivered.state is MessageState.DELIVERED
    with acting(comms.ANNA):
        acked, _ = comms.app.acknowledge(token)
    assert acked.state is MessageState.ACKNOWLEDGED
    before = comms.head()
    with acting(comms.ANNA), pytest.raises(DomainError) as reused:
        comms.app.acknowledge(token)
    assert reused.value.rule == "ack-used"
    assert comms.head() == before


def test_an_ack_token_cannot_be_guessed_or_used_for_another_recipient(comms: Comms) -> None:
    ann, bob = comms.stakeholder("ann"), comms.stakeholder("bob")
    message = comms.message(ann.id, bob.id)
    comms.tick(comms.NOW)
    anns = comms.app.ack_token(message.id, ann.id)
    message_hex, _, mac = anns.split(".")
    forged = [
        f"{message_hex}.{bob.id.hex}.{mac}",  # ann's signature on bob's behalf
        f"{message_hex}.{ann.id.hex}.{'0' * len(mac)}",
        f"{uuid4().hex}.{ann.id.hex}.{mac}",
        "not-a-token",
    ]
    for token in forged:
        with acting(comms.ANNA), pytest.raises(DomainError) as refused:
            comms.app.acknowledge(token)
        assert refused.value.rule == "ack-unknown"
    other = comms.message(ann.id)  # another message, same person: another token
    assert comms.app.ack_token(other.id, ann.id) != anns


def test_webhooks_are_signed_and_a_receiver_that_was_down_gets_exactly_one(
    comms: Comms, receiver: Receiver
) -> None:
    hooked = comms.stakeholder(
        "hook", channel=Channel.WEBHOOK, email=None, webhook_url=receiver.url
    )
    receiver.stop()
    message = comms.message(hooked.id)
    comms.tick(comms.NOW)  # down: the attempt fails and is recorded
    attempts = comms.app.message(message.id).recipients[0].attempts
    assert attempts == 1
    receiver.start()
    comms.tick(comms.NOW + timedelta(seconds=30))  # within the backoff: not retried yet
    assert receiver.received == []
    comms.tick(comms.NOW + timedelta(minutes=2))
    comms.tick(comms.NOW + timedelta(minutes=30))
    assert len(receiver.received) == 1
    assert receiver.bad_signatures == 0
    sent = comms.app.message(message.id)
    assert sent.state is MessageState.DELIVERED
    assert sent.recipients[0].attempts == 2


def test_the_scheduler_carries_on_across_a_restart(comms: Comms, inbox: Inbox) -> None:
    ann, bob = comms.stakeholder("ann"), comms.stakeholder("bob")
    first = comms.message(ann.id, at=comms.NOW)
    second = comms.message(bob.id, at=comms.NOW + 2 * HOUR)
    comms.tick(comms.NOW)
    comms.app.close()
    app = comms.reopen()  # a new process on the same store
    comms.tick(comms.NOW + HOUR)  # nothing is due: nothing sent again
    assert len(inbox.mails) == 1
    comms.tick(comms.NOW + 3 * HOUR)  # the second one was not skipped
    assert [m["To"] for m in inbox.mails] == ["ann@example.com", "bob@example.com"]
    assert app.message(first.id).state is MessageState.DELIVERED
    assert app.message(second.id).state is MessageState.DELIVERED


def test_a_late_acknowledgement_makes_the_message_overdue_and_escalates_once(
    comms: Comms, inbox: Inbox
) -> None:
    release_id = uuid4()
    from changeledger.communication.domain import KnownRelease
    from changeledger.runtime.domain import Actor, Provenance

    with acting(Provenance(Actor("service:communication", ()), "c", "t")):
        comms.app.save(KnownRelease(release_id=release_id, name="Spring", owner="olga"))
    olga = comms.stakeholder("olga", power=2, interest=5)  # the release's owner
    boss = comms.stakeholder("boss", power=5, interest=3)
    ann = comms.stakeholder("ann", power=1, interest=1)
    with acting(comms.ANNA):
        comms.app.subscribe(boss.id, release_id, None)
    message = comms.message(ann.id, ack_hours=2, release_id=release_id)
    comms.tick(comms.NOW)
    assert comms.tick(comms.NOW + HOUR)["overdue"] == 0
    comms.tick(comms.NOW + 3 * HOUR)
    late = comms.app.message(message.id)
    assert late.state is MessageState.ESCALATED
    assert late.escalation_id is not None
    comms.tick(comms.NOW + 4 * HOUR)  # the escalation goes out, and only once
    comms.tick(comms.NOW + 9 * HOUR)
    escalation = comms.app.message(late.escalation_id)
    assert {r.stakeholder_id for r in escalation.recipients} == {olga.id, boss.id}
    assert sorted(m["To"] for m in inbox.mails) == [
        "ann@example.com",
        "boss@example.com",
        "olga@example.com",
    ]


def test_a_message_is_edited_or_cancelled_only_until_it_is_sent(comms: Comms) -> None:
    ann = comms.stakeholder("ann")
    message = comms.message(ann.id, at=comms.NOW + HOUR)
    with acting(comms.ANNA):
        comms.app.edit_message(message.id, subject="Changed")
    comms.tick(comms.NOW + HOUR)
    before = comms.head()
    with acting(comms.ANNA), pytest.raises(DomainError) as refused:
        comms.app.cancel_message(message.id, "too late")
    assert refused.value.rule == "message-state"
    assert comms.head() == before
    assert comms.app.message(message.id).sent_subject == "Changed"


def test_retired_stakeholders_receive_nothing_more(comms: Comms, inbox: Inbox) -> None:
    ann = comms.stakeholder("ann")
    with acting(comms.ANNA):
        comms.app.retire_stakeholder(ann.id, "left the company")
    comms.message(ann.id)
    comms.tick(comms.NOW)
    assert inbox.mails == []
    assert comms.app.stakeholder(ann.id).name == "ann"  # the history stays

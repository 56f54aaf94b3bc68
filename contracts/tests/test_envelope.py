from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from changeledger.contracts import (
    Actor,
    Envelope,
    UnknownEventType,
    dlq_of,
    owner_of,
    parse_event,
    topic_of,
)
from changeledger.contracts.planning import ReleasePlanned


def envelope(**overrides: object) -> Envelope:
    release_id = uuid4()
    values: dict[str, object] = {
        "id": uuid4(),
        "source": "planning",
        "type": "planning.release.planned",
        "dataversion": 1,
        "subject": str(release_id),
        "time": datetime.now(UTC),
        "actor": Actor(sub="alice", roles=("release-manager",)),
        "correlationid": "c-1",
        "sequence": 1,
        "data": {
            "release_id": str(release_id),
            "name": "Q1",
            "owner": "alice",
            "priority": "high",
            "target_start": "2027-01-01",
            "target_end": "2027-01-31",
        },
    }
    return Envelope.model_validate(values | overrides)


def test_an_envelope_round_trips_through_json_and_yields_its_event() -> None:
    original = envelope()
    parsed = Envelope.model_validate_json(original.model_dump_json())
    assert parsed == original
    event = parse_event(parsed)
    assert isinstance(event, ReleasePlanned)
    assert event.target_start == date(2027, 1, 1)


def test_an_unknown_type_or_version_is_refused() -> None:
    with pytest.raises(UnknownEventType):
        parse_event(envelope(type="planning.release.vanished"))
    with pytest.raises(UnknownEventType):
        parse_event(envelope(dataversion=9))


def test_an_event_from_the_wrong_source_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot come from"):
        parse_event(envelope(source="risk"))


@pytest.mark.parametrize(
    "change",
    [
        {"time": "2027-01-01T00:00:00"},  # no time zone
        {"sequence": 0},
        {"type": "Not A Type"},
        {"actor": {"sub": ""}},
    ],
)
def test_a_malformed_envelope_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        envelope(**change)


def test_event_data_is_validated_against_its_model() -> None:
    bad = envelope(data={"release_id": "not-a-uuid"})
    with pytest.raises(ValidationError):
        parse_event(bad)


def test_topics_belong_to_their_services() -> None:
    assert topic_of("planning") == "planning.events"
    assert dlq_of("planning.events") == "planning.events.dlq"
    assert owner_of("planning.events") == "planning"
    assert owner_of("planning.events.dlq") == "planning"
    assert ReleasePlanned.topic() == "planning.events"

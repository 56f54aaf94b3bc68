"""The fast event decoder gives exactly the domain events the store's mapper gives, for
every kind of value an event can carry, in plain, encrypted and compressed stores; what
it cannot decode exactly, the mapper decodes."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.domain import event
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent
from pydantic import SecretStr

from changeledger.runtime.decoding import EventDecoder
from changeledger.runtime.domain import Actor, Aggregate, Provenance, acting
from changeledger.runtime.history import stored_events
from changeledger.runtime.settings import Settings
from changeledger.runtime.store import ServiceApplication, open_store

CAROL = Provenance(Actor("carol", ("viewer", "auditor")), "corr", "test")


class Level(Enum):
    LOW = 1
    HIGH = "high"


@dataclass(frozen=True)
class Tag:
    name: str
    weights: tuple[float, ...] = ()
    level: Level = Level.LOW


@dataclass(frozen=True)
class Bag:
    """Frozen, but its list can change: never shared between events."""

    items: list[str]


class Sample(Aggregate):
    class Created(Aggregate.Created):
        payload: Any

    @event(Created)
    def __init__(self, payload: Any) -> None:
        self.payload = payload

    class Noted(Aggregate.Event):
        payload: Any

    @event(Noted)
    def note(self, payload: Any) -> None:
        self.payload = payload

    class Renamed(Aggregate.Event):
        class_version: ClassVar[int] = 2
        name: str
        spelling: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["spelling"] = "british"

    @event(Renamed)
    def rename(self, name: str, spelling: str) -> None:
        self.name, self.spelling = name, spelling


class Samples(ServiceApplication):
    value_objects = (Tag, Bag, Level)


PAYLOADS: list[Any] = [
    {"int": 1, "float": 1.0, "bool": True, "none": None, "text": "ünïcödé ✓ \u0000 \n"},
    {"big": 2**70, "negative big": -(2**64), "u64": 2**64 - 1, "i64": -(2**63)},
    {"tiny": 5e-324, "huge": 1e300, "beyond i64": 2.0**64, "zero": -0.0, "pi": math.pi},
    {"nan": math.nan, "inf": math.inf, "-inf": -math.inf},
    [Tag("a", (0.1, 2.5)), Tag("a", (0.1, 2.5)), Tag("b", level=Level.HIGH)],
    {"bag": Bag(["x", "y"]), "nested": {"deeper": [[Tag("c")], {"d": date(2026, 1, 2)}]}},
    [Decimal("1.10"), UUID(int=7), datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC), timedelta(hours=1)],
    {"_type_": "looks like a transcoding", "but": "has three keys", "x": 1},
    [],
    {},
    "just a string",
    12345678901234567890123,
]


@pytest.fixture(params=["plain", "encrypted and compressed"])
def samples(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Samples]:
    settings = Settings(data_dir=tmp_path, snapshot_interval=100)
    if request.param != "plain":
        settings = settings.model_copy(update={"cipher_key": SecretStr(AESCipher.create_key(32))})
    app = open_store(Samples, "samples", settings)
    yield app
    app.close()


def stored(app: Samples) -> list[StoredEvent]:
    with acting(CAROL):
        sample = Sample(payload=PAYLOADS[0])
        for payload in PAYLOADS[1:]:
            sample.note(payload)
        sample.rename("colour", "british")
    app.save(sample)
    return list(app.recorder.select_events(sample.id))


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1, 1.0 and True are not)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if dataclasses.is_dataclass(a):
        return same(vars(a), vars(b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, float):
        return (a, math.copysign(1, a)) == (b, math.copysign(1, b))
    if isinstance(a, Aggregate.Event):
        return same(vars(a), vars(b))
    return bool(a == b)


def test_every_event_decodes_as_the_mapper_decodes_it(samples: Samples) -> None:
    decoder = EventDecoder(samples.mapper)
    for record in stored(samples):
        ours = decoder.to_domain_event(record)
        theirs = samples.mapper.to_domain_event(record)
        assert same(ours, theirs), (vars(ours), vars(theirs))


def test_an_old_version_of_an_event_is_upcast_as_by_the_mapper(samples: Samples) -> None:
    renamed = stored(samples)[-1]
    state = samples.mapper.transcoder.encode({"timestamp": datetime.now(UTC), "name": "color"})
    if samples.mapper.compressor:
        state = samples.mapper.compressor.compress(state)
    if samples.mapper.cipher:
        state = samples.mapper.cipher.encrypt(state)
    record = StoredEvent(renamed.originator_id, renamed.originator_version, renamed.topic, state)
    ours = EventDecoder(samples.mapper).to_domain_event(record)
    assert same(ours, samples.mapper.to_domain_event(record))
    assert ours.spelling == "british"


def test_immutable_values_are_shared_and_mutable_ones_are_not(samples: Samples) -> None:
    decoder = EventDecoder(samples.mapper)
    events = [decoder.to_domain_event(r) for r in stored(samples) * 2]
    assert events[0].provenance is events[4].provenance  # (1 to 3 go to the mapper)
    first, second, _ = events[4].payload
    assert first is second
    assert events[5].payload["bag"] is not events[5 + len(events) // 2].payload["bag"]


def test_what_the_mapper_cannot_read_fails_as_the_mapper_fails(samples: Samples) -> None:
    record = stored(samples)[1]
    broken = StoredEvent(record.originator_id, record.originator_version, record.topic, b"{")
    with pytest.raises(MapperDeserialisationError):
        samples.mapper.to_domain_event(broken)
    with pytest.raises(MapperDeserialisationError):
        EventDecoder(samples.mapper).decode(broken.topic, uuid4(), 1, broken.state)


def test_stored_events_are_the_mapper_s_events_in_log_order(samples: Samples) -> None:
    records = stored(samples)
    events = [event for _, event in stored_events(samples)]
    assert len(events) == len(records)
    for ours, record in zip(events, records, strict=True):
        assert same(ours, samples.mapper.to_domain_event(record))


def test_events_naming_an_id_are_found_without_decoding_the_others(samples: Samples) -> None:
    records = stored(samples)  # one payload holds UUID(int=7); the provenance ids do not
    sample_id = UUID(str(records[0].originator_id))
    named = list(samples.events_naming(sample_id, UUID(int=7)))
    if samples.mapper.cipher is None:
        assert [e.originator_version for e in named] == [7]
        assert UUID(int=7) in named[0].payload
    else:  # encrypted states cannot be searched: every event is decoded
        assert len(named) == len(records)
    assert list(samples.events_naming(sample_id, uuid4())) == (
        [] if samples.mapper.cipher is None else named
    )

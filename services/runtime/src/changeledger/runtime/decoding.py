"""Stored events into domain events, exactly as the store's mapper makes them, about
twice as fast: for reading a whole log (rebuild, export, trace).

The library's JSON transcoder revives its custom types with an `object_hook`: a Python
call for every JSON object of every event (about six per event), after Python's own JSON
parser. Here orjson parses, and the same revival follows, inner objects first. What
differs: an immutable value object (a frozen dataclass, such as an event's provenance)
is revived once per distinct stored form and shared by the events that store it alike;
a value stored as a string (a timestamp, a date, an id, a decimal) is revived by the
function its transcoding calls, without the transcoding's own call, and an enum member is
looked up once for each stored value.
Whatever this cannot decode exactly (orjson refuses NaN, and reads integers beyond 64
bits as floats) goes to the mapper, which decodes it, or raises its own error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
    UUIDAsHex,
    find_id_convertor,
    pass_through_convertor,
)
from eventsourcing.utils import resolve_topic

from changeledger.runtime.store import DataclassAsDict, DateAsISO, EnumAsValue

#: Distinct value objects remembered at most (forgotten all at once past it).
_SHARED = 4096
#: What the revival looks into.
_NESTED = {dict, list, float}
_INTEGERS = 2.0**63
_ATOMS = (str, int, float, bool, type(None), Enum, date, time, timedelta, UUID, Decimal)
#: (Bound once: looked up for every event otherwise.)
_new, _set = object.__new__, object.__setattr__
#: What these transcodings' `decode` does with a string, called without it.
_FROM_TEXT: dict[type[Transcoding], Callable[[str], Any]] = {
    DatetimeAsISO: datetime.fromisoformat,
    DateAsISO: date.fromisoformat,
    UUIDAsHex: UUID,
    DecimalAsStr: Decimal,
}


class EventDecoder:
    def __init__(self, mapper: Mapper[UUID]) -> None:
        self._mapper = mapper
        transcoder = mapper.transcoder
        # Another transcoder, or a mapper that decodes its own way: the mapper decodes.
        self._fast = (
            type(transcoder) is JSONTranscoder
            and type(mapper).to_domain_event is Mapper.to_domain_event
        )
        # Whether stored states are the JSON as it is (neither encrypted nor compressed).
        self._plain = not (mapper.cipher or mapper.compressor)
        self._names = transcoder.names if isinstance(transcoder, JSONTranscoder) else {}
        self._shareable = {
            name
            for name, transcoding in self._names.items()
            if isinstance(transcoding, DataclassAsDict)
            and transcoding.type.__dataclass_params__.frozen  # type: ignore[attr-defined]
        }
        self._decoders = {name: transcoding.decode for name, transcoding in self._names.items()}
        # Values stored as a string, each revived by a call of C code (a stored timestamp
        # in every event) or, for an enum, looked up once for each of its values.
        self._from_text: dict[str, Callable[[str], Any]] = {
            name: _Members(t.decode).__getitem__ if type(t) is EnumAsValue else _FROM_TEXT[type(t)]
            for name, t in self._names.items()
            if type(t) in _FROM_TEXT or type(t) is EnumAsValue
        }
        self._shared: dict[bytes, Any] = {}
        #: Each topic's event class, its id convertor (None: none needed) and version.
        self._classes: dict[str, tuple[type, Callable[[Any], Any] | None, int]] = {}

    def decode(self, topic: str, originator_id: UUID | str, version: int, state: bytes) -> Any:
        """The domain event (or snapshot) stored with these columns."""
        if self._fast:
            try:
                plain = state if self._plain else self._decrypted(state)
                fields = self._revive(orjson.loads(plain))
                if type(fields) is not dict or type(originator_id) is not UUID:
                    raise TypeError("decoded by the mapper")
                cls, convert, class_version = self._classes.get(topic) or self._class_of(topic)
                fields["originator_id"] = (
                    originator_id if convert is None else convert(originator_id)
                )
                fields["originator_version"] = version
                if class_version > 1 or "class_version" in fields:
                    from_version = fields.pop("class_version", 1)
                    while from_version < class_version:
                        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(fields)
                        from_version += 1
                event: Any = _new(cls)
                _set(event, "__dict__", fields)
                return event
            except Exception:  # the mapper decodes it, or says what is wrong
                pass
        return self._mapper.to_domain_event(StoredEvent(originator_id, version, topic, state))

    def to_domain_event(self, stored: StoredEvent) -> Any:
        """As the mapper's method of this name: a stored event (or notification) decoded."""
        return self.decode(
            stored.topic, stored.originator_id, stored.originator_version, stored.state
        )

    def naming(self, stored: Iterable[StoredEvent], value: UUID) -> Iterator[Any]:
        """The events of `stored` that may hold the id `value`, decoded. Plain states hold
        an id in its hex form (UUIDAsHex), so they are searched for it first and the others
        are never decoded; encrypted or compressed states are all decoded."""
        marker = value.hex.encode()
        for record in stored:
            if not self._plain or marker in record.state:
                yield self.to_domain_event(record)

    def _decrypted(self, state: bytes) -> bytes:
        mapper = self._mapper
        plain = mapper.cipher.decrypt(state) if mapper.cipher else state
        return mapper.compressor.decompress(plain) if mapper.compressor else plain

    def _class_of(self, topic: str) -> tuple[type, Callable[[Any], Any] | None, int]:
        cls = resolve_topic(topic)
        convert = find_id_convertor(cls, UUID)
        known = (
            cls,
            None if convert is pass_through_convertor else convert,
            getattr(cls, "class_version", 1),
        )
        self._classes[topic] = known
        return known

    def _revive(self, obj: dict[str, Any]) -> Any:
        """What the transcoder's object hook makes of a parsed JSON object, inner ones
        first."""
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            return self._revive_typed(obj)
        for key, value in obj.items():
            kind = type(value)
            if kind is dict:
                # The common typed values are revived here, without a call of _revive.
                if len(value) == 2 and "_type_" in value and "_data_" in value:
                    from_text = self._from_text.get(value["_type_"])
                    data = value["_data_"]
                    obj[key] = (
                        from_text(data)
                        if from_text is not None and type(data) is str
                        else self._revive_typed(value)
                    )
                else:
                    obj[key] = self._revive(value)
            elif kind in _NESTED:
                obj[key] = self._revive_value(value)
        return obj

    def _revive_typed(self, obj: dict[str, Any]) -> Any:
        """A parsed `{"_type_": name, "_data_": data}`, revived as its transcoding does."""
        name, data = obj["_type_"], obj["_data_"]
        if type(name) is not str:
            raise TypeError("decoded by the mapper")
        if name in self._shareable:
            # orjson's JSON of a parsed value differs for any two that differ.
            stored_form = orjson.dumps(obj)
            found = self._shared.get(stored_form)
            if found is None:
                found = self._decoders[name](self._revive_value(data))
                if _immutable(found):
                    if len(self._shared) >= _SHARED:
                        self._shared.clear()
                    self._shared[stored_form] = found
            return found
        if type(data) in _NESTED:
            data = self._revive_value(data)
        return self._decoders[name](data)

    def _revive_value(self, value: Any) -> Any:
        if type(value) is dict:
            return self._revive(value)
        if type(value) is list:
            for index, item in enumerate(value):
                if type(item) in _NESTED:
                    value[index] = self._revive_value(item)
        elif type(value) is float and not -_INTEGERS < value < _INTEGERS:
            # Perhaps an integer beyond 64 bits, which orjson reads as a float.
            raise ValueError("decoded by the mapper")
        return value


def _immutable(value: Any) -> bool:
    """Whether a value can be shared: nothing in it can change."""
    if isinstance(value, tuple | frozenset):
        return all(_immutable(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return bool(value.__dataclass_params__.frozen) and all(  # type: ignore[attr-defined]
            _immutable(getattr(value, f.name)) for f in dataclasses.fields(value)
        )
    return isinstance(value, _ATOMS)


class _Members(dict[str, Any]):
    """An enum's members by their stored values, each decoded once (a member is the same
    object every time)."""

    def __init__(self, decode: Callable[[str], Any]) -> None:
        super().__init__()
        self._decode = decode

    def __missing__(self, value: str) -> Any:
        member = self[value] = self._decode(value)
        return member

"""Applying an event to its aggregate as the library's `mutate` does, with less of its
generic work, for folding a whole log.

Most events are those of a method decorated with `@event`: the library's `mutate` checks
the aggregate's id and version, picks out the method's arguments from the event's fields
(through a signature lookup, a dict and a bound method for every event) and calls it,
then sets the aggregate's version and time of change. Here the arguments' names are found
once for each event class, and the rest is the same. Any event class or aggregate class
that changes any of those steps (its own `mutate`, `apply`, or `version` property, say)
is mutated by its own `mutate`; so is an event that is not the aggregate's next one, so
that it fails with the library's own error.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import FunctionType
from typing import Any

from eventsourcing.domain import (
    BaseAggregate,
    CanMutateAggregate,
    DecoratedFuncCaller,
    decorated_funcs,
)

#: Mutates an aggregate with an event, and returns the aggregate.
Mutate = Callable[[Any, Any], Any]

_PROPERTIES = ("id", "version", "modified_on")


def mutator(event_class: type) -> Mutate:
    """How to mutate an aggregate with an event of this class (`mutate(event, aggregate)`)."""
    method = decorated_funcs.get(event_class)
    if not (
        isinstance(method, FunctionType)
        and _attribute(event_class, "mutate") is CanMutateAggregate.mutate
        and _attribute(event_class, "_as_dict") is CanMutateAggregate._as_dict
        and _attribute(event_class, "apply") is DecoratedFuncCaller.apply
        and _applies_after(event_class, DecoratedFuncCaller) is CanMutateAggregate.apply
    ):
        return event_class.mutate  # type: ignore[attr-defined, no-any-return]
    # The names the library would pick out of the event's fields for the method.
    names = tuple(inspect.signature(method).parameters)
    plain: dict[type, bool] = {}

    def mutate(event: Any, aggregate: Any) -> Any:
        fields = event.__dict__
        usual = plain.get(type(aggregate))
        if usual is None:
            usual = plain[type(aggregate)] = _plain_aggregate(type(aggregate))
        originator_id, version = fields.get("originator_id"), fields.get("originator_version")
        if (
            not usual
            or (originator_id is not aggregate._id and originator_id != aggregate._id)
            or version != aggregate._version + 1
            or "timestamp" not in fields
        ):
            return event.mutate(aggregate)
        method(aggregate, **{name: fields[name] for name in names if name in fields})
        aggregate._version = version
        aggregate._modified_on = fields["timestamp"]
        return aggregate

    return mutate


def _attribute(cls: type, name: str) -> Any:
    """The class attribute as it is defined (not bound)."""
    for base in cls.__mro__:
        if name in vars(base):
            return vars(base)[name]
    return None


def _applies_after(cls: type, base: type) -> Any:
    """The `apply` that `super().apply` calls from `base`'s in an instance of `cls`."""
    mro = cls.__mro__
    later = (vars(c)["apply"] for c in mro[mro.index(base) + 1 :] if "apply" in vars(c))
    return next(later, None)


def _plain_aggregate(cls: type) -> bool:
    """Whether the aggregate keeps its id, version and time of change as the library's
    base class does."""
    return all(_attribute(cls, name) is vars(BaseAggregate)[name] for name in _PROPERTIES)

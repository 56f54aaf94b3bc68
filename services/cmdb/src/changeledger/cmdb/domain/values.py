"""The CMDB's vocabulary: CI types, lifecycle, relationship types, keys and attributes."""

from __future__ import annotations

import json
import re
from enum import Enum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from changeledger.runtime.domain import InvalidValue


class CiType(Enum):
    APPLICATION = "application"
    SERVICE = "service"
    SERVER = "server"
    DATABASE = "database"
    NETWORK = "network"
    STORAGE = "storage"
    CONTAINER = "container"
    MIDDLEWARE = "middleware"
    OTHER = "other"


class Lifecycle(Enum):
    PLANNED = "Planned"
    ACTIVE = "Active"
    RETIRED = "Retired"


#: Planned -> Active -> Retired; a CI that never went live can be retired from Planned.
LIFECYCLE_STEPS = {
    Lifecycle.PLANNED: frozenset({Lifecycle.ACTIVE, Lifecycle.RETIRED}),
    Lifecycle.ACTIVE: frozenset({Lifecycle.RETIRED}),
    Lifecycle.RETIRED: frozenset[Lifecycle](),
}


class RelationshipType(Enum):
    """Directed: `source depends_on target`, `app runs_on server`, `disk part_of array`."""

    DEPENDS_ON = "depends_on"
    RUNS_ON = "runs_on"
    CONNECTS_TO = "connects_to"
    PART_OF = "part_of"


#: A CI's key is how planning's changes name it (`affected_cis`), so it is stable,
#: URL-safe and unique; the aggregate id is derived from it.
CI_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
VERSION = re.compile(r"^\S{1,64}$")
MAX_ATTRIBUTES_BYTES = 16 * 1024
_NAMESPACE = uuid5(NAMESPACE_URL, "urn:changeledger:cmdb")


def ci_id_for(key: str) -> UUID:
    return uuid5(_NAMESPACE, f"ci\n{key}")


def relationship_id_for(source: str, type: RelationshipType, target: str) -> UUID:
    return uuid5(_NAMESPACE, f"relationship\n{source}\n{type.value}\n{target}")


def known_change_id(change_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"change\n{change_id}")


def known_release_id(release_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"release\n{release_id}")


def checked_key(key: str) -> str:
    if not CI_KEY.match(key):
        raise InvalidValue(
            f"{key!r} is not a CI key: 1-100 letters, digits and . _ : - (starting with a "
            "letter or digit)",
            rule="ci-key",
        )
    return key


def checked_version(version: str | None) -> str | None:
    if version is not None and not VERSION.match(version):
        raise InvalidValue(f"{version!r} is not a version", rule="ci-version")
    return version


def checked_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """A JSON object of at most MAX_ATTRIBUTES_BYTES."""
    if not isinstance(attributes, dict):
        raise InvalidValue("attributes are a JSON object", rule="attributes")
    size = len(json.dumps(attributes, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_ATTRIBUTES_BYTES:
        raise InvalidValue(
            f"attributes take {size} bytes; the limit is {MAX_ATTRIBUTES_BYTES}",
            rule="attributes-too-large",
            limit=MAX_ATTRIBUTES_BYTES,
        )
    _refuse_reserved(attributes)
    return attributes


def _refuse_reserved(value: Any) -> None:
    # The store's JSON transcoder reserves objects keyed `_type_` for its own types.
    if isinstance(value, dict):
        if "_type_" in value:
            raise InvalidValue("attribute names may not be '_type_'", rule="attributes")
        for item in value.values():
            _refuse_reserved(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_reserved(item)

"""Who does what in the demo: each person acts with their own token and roles, so the
audit trail shows who did each thing, and separation of duties holds."""

from __future__ import annotations

from typing import NamedTuple


class Person(NamedTuple):
    sub: str
    roles: tuple[str, ...]


RITA = Person("rita", ("release-manager",))  # owns the releases
ROB = Person("rob", ("release-manager",))  # raises changes
CARL = Person("carl", ("change-authority",))  # authorises them
FIONA = Person("fiona", ("change-authority",))  # assesses benefits and reviews them
ROSE = Person("rose", ("risk-manager",))  # owns the risks
RAVI = Person("ravi", ("risk-manager",))  # accepts a risk he does not own
CORA = Person("cora", ("comms-manager",))  # the communication lead
MO = Person("mo", ("cmdb-maintainer",))  # writes to the CMDB under changes
EVE = Person("eve", ("cmdb-maintainer",))  # tries a write without a change
DISCOVERY = Person("discovery-bot", ("cmdb-maintainer",))
AUDREY = Person("audrey", ("auditor",))

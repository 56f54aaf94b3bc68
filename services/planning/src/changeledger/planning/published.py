"""Planning's domain events as the contract events other services see."""

from __future__ import annotations

from changeledger.contracts import planning as contract
from changeledger.planning.domain import Release
from changeledger.runtime.relay import Translations

translations = Translations()
translations.add(
    Release.Planned,
    lambda e: contract.ReleasePlanned(
        release_id=e.originator_id,
        name=e.name,
        owner=e.owner,
        priority=e.priority.value,
        target_start=e.target.start,
        target_end=e.target.end,
    ),
)

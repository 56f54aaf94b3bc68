"""Risk's domain events as the contract events other services see."""

from __future__ import annotations

from changeledger.contracts import risk as contract
from changeledger.risk.domain import RiskRegister
from changeledger.runtime.relay import Translations

translations = Translations()
translations.add(
    RiskRegister.Opened,
    lambda e: contract.RiskRegisterOpened(register_id=e.originator_id, release_id=e.release_id),
)

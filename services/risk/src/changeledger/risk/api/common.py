"""What risk's routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from changeledger.risk.application import RiskApplication
from changeledger.runtime.http import AsOf
from changeledger.runtime.service import application

Risks = Annotated[RiskApplication, Depends(application)]
RISK_MANAGER = ("risk-manager",)
#: Who may record and work on risks and issues; accepting a risk stays the risk manager's.
RISK_WORKERS = ("risk-manager", "release-manager", "change-authority")

__all__ = ["AsOf"]

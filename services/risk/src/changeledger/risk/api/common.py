"""What risk's routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import AwareDatetime

from changeledger.risk.application import RiskApplication
from changeledger.runtime.service import application

Risks = Annotated[RiskApplication, Depends(application)]
AsOf = Annotated[
    AwareDatetime | None, Query(description="Answer as the store stood at this time (ISO 8601)")
]
RISK_MANAGER = ("risk-manager",)
#: Who may record and work on risks and issues; accepting a risk stays the risk manager's.
RISK_WORKERS = ("risk-manager", "release-manager", "change-authority")

"""What planning's routes share: the application, time travel, and who may do what."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from changeledger.planning.application import PlanningApplication
from changeledger.runtime.http import AsOf
from changeledger.runtime.service import application

Planning = Annotated[PlanningApplication, Depends(application)]

RELEASE_MANAGER = ("release-manager",)
CHANGE_AUTHORITY = ("change-authority",)
CHANGE_MANAGERS = ("release-manager", "change-authority")
#: Anyone who works on changes may raise one; viewers and auditors only look.
REQUESTERS = (
    "release-manager",
    "change-authority",
    "risk-manager",
    "comms-manager",
    "cmdb-maintainer",
    "cmdb-admin",
)

__all__ = ["AsOf"]

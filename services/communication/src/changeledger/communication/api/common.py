"""What communication's routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from changeledger.communication.application import CommunicationApplication
from changeledger.runtime.http import AsOf
from changeledger.runtime.service import application

Comms = Annotated[CommunicationApplication, Depends(application)]
COMMS_MANAGER = ("comms-manager",)

__all__ = ["AsOf"]

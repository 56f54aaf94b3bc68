"""What communication's routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import AwareDatetime

from changeledger.communication.application import CommunicationApplication
from changeledger.runtime.service import application

Comms = Annotated[CommunicationApplication, Depends(application)]
AsOf = Annotated[
    AwareDatetime | None, Query(description="Answer as the store stood at this time (ISO 8601)")
]
COMMS_MANAGER = ("comms-manager",)

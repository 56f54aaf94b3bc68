"""What the CMDB's routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from changeledger.cmdb.application import CmdbApplication
from changeledger.runtime.http import AsOf
from changeledger.runtime.service import application

Cmdb = Annotated[CmdbApplication, Depends(application)]
#: Who may write the CMDB (each write still needs an authorised change).
MAINTAINERS = ("cmdb-maintainer", "cmdb-admin")
ADMIN = ("cmdb-admin",)

__all__ = ["AsOf"]

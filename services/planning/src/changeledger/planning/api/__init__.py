"""Planning's HTTP API (port 8001)."""

from changeledger.planning.api import calendar, changes, releases

routers = [releases.router, changes.router, calendar.router]

__all__ = ["routers"]

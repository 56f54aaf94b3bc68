"""Risk's HTTP API (port 8002)."""

from changeledger.risk.api import issues, registers, risks

routers = [risks.router, issues.router, registers.router]

__all__ = ["routers"]

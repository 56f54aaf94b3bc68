"""Communication's HTTP API (port 8003)."""

from changeledger.communication.api import acks, messages, stakeholders

routers = [stakeholders.router, messages.router]
public_routers = [acks.router]

__all__ = ["public_routers", "routers"]

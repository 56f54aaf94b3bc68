"""The CMDB's HTTP API (port 8004)."""

from changeledger.cmdb.api import cis, graph, oversight

routers = [cis.router, graph.router, oversight.router]

__all__ = ["routers"]

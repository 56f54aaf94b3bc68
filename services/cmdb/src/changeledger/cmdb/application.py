"""Cmdb's commands and queries (a minimal application until its issue grows it)."""

from changeledger.runtime.store import ServiceApplication


class CmdbApplication(ServiceApplication):
    name = "cmdb"

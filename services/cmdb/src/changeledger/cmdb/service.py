"""The cmdb service, assembled."""

from fastapi import FastAPI

from changeledger.cmdb.application import CmdbApplication
from changeledger.runtime.service import ServiceDefinition, create_service

definition = ServiceDefinition(
    name="cmdb",
    application=CmdbApplication,
    description="Configuration items, changed only through authorised changes.",
)


def create_app() -> FastAPI:
    return create_service(definition)

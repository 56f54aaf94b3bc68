"""The cmdb service, assembled."""

from fastapi import FastAPI

from changeledger.cmdb.api import routers
from changeledger.cmdb.application import CmdbApplication
from changeledger.cmdb.policies import policies
from changeledger.cmdb.published import translations
from changeledger.runtime.service import ServiceDefinition, create_service

definition = ServiceDefinition(
    name="cmdb",
    application=CmdbApplication,
    routers=routers,
    translations=translations,
    policies=policies,
    description=(
        "Configuration items and their relationships, written only through authorised "
        "changes, with impact analysis, drift detection and time travel."
    ),
)


def create_app() -> FastAPI:
    return create_service(definition, served=True)

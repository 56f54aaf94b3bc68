"""The communication service, assembled."""

from fastapi import FastAPI

from changeledger.communication.api import public_routers, routers
from changeledger.communication.application import CommunicationApplication
from changeledger.communication.policies import policies
from changeledger.communication.published import translations
from changeledger.runtime.service import Job, ServiceDefinition, create_service

definition = ServiceDefinition(
    name="communication",
    application=CommunicationApplication,
    routers=routers,
    public_routers=public_routers,
    translations=translations,
    policies=policies,
    jobs=[Job("scheduler", lambda app: app.tick())],
    description="Stakeholders, planned communications, delivery and acknowledgement.",
)


def create_app() -> FastAPI:
    return create_service(definition, served=True)

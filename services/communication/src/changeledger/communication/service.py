"""The communication service, assembled."""

from fastapi import FastAPI

from changeledger.communication.application import CommunicationApplication
from changeledger.runtime.service import ServiceDefinition, create_service

definition = ServiceDefinition(
    name="communication",
    application=CommunicationApplication,
    description="Stakeholders, planned communications, delivery and acknowledgement.",
)


def create_app() -> FastAPI:
    return create_service(definition)

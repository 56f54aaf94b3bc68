"""The risk service, assembled."""

from fastapi import FastAPI

from changeledger.risk import api
from changeledger.risk.application import RiskApplication
from changeledger.risk.policies import policies
from changeledger.risk.published import translations
from changeledger.runtime.service import ServiceDefinition, create_service

definition = ServiceDefinition(
    name="risk",
    application=RiskApplication,
    routers=[api.router],
    translations=translations,
    policies=policies,
    description="A risk and issue register per release, with scoring and escalation.",
)


def create_app() -> FastAPI:
    return create_service(definition)

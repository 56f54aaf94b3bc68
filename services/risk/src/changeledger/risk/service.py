"""The risk service, assembled."""

from fastapi import FastAPI

from changeledger.risk.api import routers
from changeledger.risk.application import RiskApplication
from changeledger.risk.policies import policies
from changeledger.risk.published import translations
from changeledger.runtime.service import Job, ServiceDefinition, create_service

definition = ServiceDefinition(
    name="risk",
    application=RiskApplication,
    routers=routers,
    translations=translations,
    policies=policies,
    jobs=[Job("escalate-overdue-mitigations", lambda app: app.escalate_overdue())],
    description="A risk and issue register per release, with scoring, escalation and a heat map.",
)


def create_app() -> FastAPI:
    return create_service(definition, served=True)

"""The planning service, assembled."""

from fastapi import FastAPI

from changeledger.planning.api import routers
from changeledger.planning.application import PlanningApplication
from changeledger.planning.policies import policies
from changeledger.planning.published import translations
from changeledger.runtime.service import ServiceDefinition, create_service

definition = ServiceDefinition(
    name="planning",
    application=PlanningApplication,
    routers=routers,
    translations=translations,
    policies=policies,
    description="Releases, budgets, resources, prioritised work, benefits, change requests "
    "and freeze windows.",
)


def create_app() -> FastAPI:
    return create_service(definition, served=True)

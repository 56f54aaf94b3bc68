"""Who may do what: each command route declares its roles with `requires(...)`; this reads
them back from a service's routes, for the documented matrix and the tests that walk it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from changeledger.runtime.auth import ROLES
from changeledger.runtime.http import BEARER_SCHEME, authenticated

READS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Permission:
    method: str
    path: str
    #: None: the route declares no roles (a read for any authenticated user, or public).
    roles: frozenset[str] | None
    authenticated: bool


def declared_roles(dependant: Dependant) -> frozenset[str] | None:
    """The roles a route's `requires(...)` names, found among its dependencies."""
    for dependency in dependant.dependencies:
        roles = getattr(dependency.call, "required_roles", None)
        if roles is not None:
            return frozenset(roles)
        found = declared_roles(dependency)
        if found is not None:
            return found
    return None


def _authenticates(dependant: Dependant) -> bool:
    return any(
        d.call is authenticated
        or getattr(d.call, "required_roles", None) is not None  # `requires` authenticates
        or _authenticates(d)
        for d in dependant.dependencies
    )


def permissions(app: FastAPI) -> list[Permission]:
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path is None or not route.methods:
            continue
        # The effective dependant holds the dependencies of the routers it was included with.
        dependant = context.dependant
        roles, authenticates = declared_roles(dependant), _authenticates(dependant)
        found += [Permission(m, context.path, roles, authenticates) for m in sorted(route.methods)]
    return found


def document_roles(app: FastAPI) -> None:
    """Show each operation's roles in the OpenAPI spec (`x-required-roles`, or
    `x-public` for an operation that needs no token), where the permission tests and
    clients read them."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = generate()
        for permission in permissions(app):
            operation = spec["paths"].get(permission.path, {}).get(permission.method.lower())
            if operation is None:
                continue
            if permission.roles is not None:
                operation["x-required-roles"] = sorted(permission.roles)
            elif not permission.authenticated:
                operation["x-public"] = True
            if permission.authenticated:
                operation["security"] = [{"HTTPBearer": []}]
        schemes = spec.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["HTTPBearer"] = BEARER_SCHEME
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def matrix_markdown(services: dict[str, Any]) -> str:
    """The permission matrix of every service, as a Markdown document."""
    lines = [
        "# Permissions",
        "",
        "Generated from the code by `changeledger permissions` (a test checks it is current).",
        "Every GET needs an authenticated caller (any role) unless marked public; every",
        "command needs one of the roles ticked. A caller without them gets 403, and nothing",
        "is recorded. Rules inside the domain (separation of duties, the CMDB's change",
        "authority) apply on top of these.",
        "",
    ]
    for name, app in services.items():
        lines += [f"## {name}", "", "| operation | " + " | ".join(ROLES) + " |"]
        lines.append("|---|" + "---|" * len(ROLES))
        for p in permissions(app):
            if p.method in READS and p.roles is None:
                continue
            if p.roles is None:
                cells = ["public" if not p.authenticated else "any"] * len(ROLES)
            else:
                cells = ["x" if role in p.roles else "" for role in ROLES]
            lines.append(f"| `{p.method} {p.path}` | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)

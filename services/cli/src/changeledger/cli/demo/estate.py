"""The demo's IT estate: about fifty configuration items of five business systems on
shared infrastructure, and how they depend on each other."""

from __future__ import annotations

from typing import Any

SYSTEMS = {
    "pay": ("Payments", "olga"),
    "portal": ("Customer portal", "pete"),
    "dw": ("Data warehouse", "dora"),
    "crm": ("CRM", "carmen"),
    "hr": ("HR system", "hugo"),
}
INFRA_OWNER = "ian"


def cis() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for key, (name, owner) in SYSTEMS.items():
        items += [
            _ci(f"{key}-service", "service", f"{name} service", owner, "1.0"),
            _ci(f"{key}-api", "application", f"{name} API", owner, "3.2.0"),
            _ci(f"{key}-worker", "application", f"{name} worker", owner, "3.2.0"),
            _ci(f"{key}-db", "database", f"{name} database", owner, "15.4"),
            _ci(f"{key}-app-01", "server", f"{name} app server 1", INFRA_OWNER, "rhel-9.3"),
            _ci(f"{key}-app-02", "server", f"{name} app server 2", INFRA_OWNER, "rhel-9.3"),
        ]
    items += [
        _ci(f"web-0{n}", "server", f"Web server {n}", INFRA_OWNER, "nginx-1.24")
        for n in (1, 2, 3, 4)
    ]
    items += [
        _ci(f"lb-0{n}", "network", f"Load balancer {n}", INFRA_OWNER, "f5-17") for n in (1, 2)
    ]
    items += [_ci(f"fw-0{n}", "network", f"Firewall {n}", INFRA_OWNER, "pan-11") for n in (1, 2)]
    items += [
        _ci(f"k8s-node-0{n}", "server", f"Kubernetes node {n}", INFRA_OWNER, "1.29")
        for n in (1, 2, 3, 4)
    ]
    items += [
        _ci("k8s-cluster", "container", "Kubernetes cluster", INFRA_OWNER, "1.29"),
        _ci("network-core", "network", "Core network", INFRA_OWNER, None),
        _ci("san-01", "storage", "Storage array", INFRA_OWNER, "9.14"),
        _ci("pay-gateway", "middleware", "Payment gateway", "olga", "2.8"),
        _ci("portal-auth", "application", "Portal sign-in (OIDC)", "pete", "1.4"),
        _ci("portal-web", "application", "Portal front end", "pete", "1.9.0"),
        _ci("vault", "application", "Secrets vault", INFRA_OWNER, "1.15"),
        _ci("monitoring", "application", "Monitoring", INFRA_OWNER, "2.50"),
        _ci("backup", "application", "Backup", INFRA_OWNER, "12.1"),
        _ci("dns", "network", "DNS", INFRA_OWNER, None),
        _ci("smtp-relay", "middleware", "Mail relay", INFRA_OWNER, "3.8"),
        _ci("reporting-01", "server", "Old reporting server", "dora", "rhel-7.9"),
    ]
    return items


def relationships() -> list[dict[str, str]]:
    edges: list[tuple[str, str, str]] = []
    for key in SYSTEMS:
        edges += [
            (f"{key}-api", "part_of", f"{key}-service"),
            (f"{key}-worker", "part_of", f"{key}-service"),
            (f"{key}-db", "part_of", f"{key}-service"),
            (f"{key}-api", "depends_on", f"{key}-db"),
            (f"{key}-worker", "depends_on", f"{key}-db"),
            (f"{key}-api", "runs_on", f"{key}-app-01"),
            (f"{key}-worker", "runs_on", f"{key}-app-02"),
            (f"{key}-db", "depends_on", "san-01"),
            (f"{key}-app-01", "connects_to", "network-core"),
            (f"{key}-app-02", "connects_to", "network-core"),
            (f"{key}-api", "depends_on", "vault"),
        ]
    edges += [(f"web-0{n}", "connects_to", "lb-01") for n in (1, 2, 3, 4)]
    edges += [(f"k8s-node-0{n}", "part_of", "k8s-cluster") for n in (1, 2, 3, 4)]
    edges += [
        ("portal-web", "runs_on", "k8s-cluster"),
        ("portal-auth", "runs_on", "k8s-cluster"),
        ("portal-web", "depends_on", "portal-auth"),
        ("portal-web", "depends_on", "portal-api"),
        ("portal-web", "part_of", "portal-service"),
        ("portal-auth", "part_of", "portal-service"),
        ("pay-api", "depends_on", "pay-gateway"),
        ("pay-gateway", "connects_to", "fw-01"),
        ("lb-01", "connects_to", "fw-01"),
        ("lb-02", "connects_to", "fw-02"),
        ("fw-01", "connects_to", "network-core"),
        ("fw-02", "connects_to", "network-core"),
        ("dw-worker", "depends_on", "pay-db"),
        ("dw-worker", "depends_on", "crm-db"),
        ("crm-api", "depends_on", "smtp-relay"),
        ("hr-api", "depends_on", "smtp-relay"),
        ("reporting-01", "depends_on", "dw-db"),
    ]
    return [{"source": s, "type": t, "target": d} for s, t, d in edges]


def _ci(key: str, type: str, name: str, owner: str, version: str | None) -> dict[str, Any]:
    return {"key": key, "type": type, "name": name, "owner": owner, "version": version}

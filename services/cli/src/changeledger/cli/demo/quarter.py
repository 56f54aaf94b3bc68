"""One quarter of release management, played through the four services' public APIs.

Three releases are planned months ahead and funded on their benefits (one is refused);
a CMDB of about fifty CIs is built and changed only under authorised changes; a dozen
changes of all three types run their course; a freeze blocks a schedule; a Critical risk
blocks a deployment until someone other than its owner accepts it; stakeholders across
the power/interest grid get messages by e-mail and webhook, and acknowledge some.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from changeledger.cli.demo import estate
from changeledger.cli.demo.api import Api, Unexpected, until
from changeledger.cli.demo.people import (
    CARL,
    CORA,
    DISCOVERY,
    EVE,
    FIONA,
    MO,
    RAVI,
    RITA,
    ROB,
    ROSE,
    Person,
)
from changeledger.communication.receivers import MailInbox, WebhookReceiver


@dataclass
class Quarter:
    """What the scenario created, by name, for the report and for the test."""

    releases: dict[str, str] = field(default_factory=dict)
    changes: dict[str, str] = field(default_factory=dict)
    stakeholders: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    risks: dict[str, str] = field(default_factory=dict)
    refusals: dict[str, dict[str, Any]] = field(default_factory=dict)
    acknowledged: int = 0
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


Say = Callable[[str], None]
_ACK_TOKEN = re.compile(r"/acks/([A-Za-z0-9_\-.~]+)")


class Scenario:
    def __init__(self, api: Api, mail: MailInbox, hooks: WebhookReceiver, say: Say) -> None:
        self.api = api
        self.mail = mail
        self.hooks = hooks
        self.say = say
        self.q = Quarter()
        self.today = datetime.now(UTC).date()
        #: A later run plays a later quarter, so its windows meet no earlier run's.
        self.shift = 0

    def _later_quarter_if_played_before(self) -> None:
        releases = self._call("planning", "GET", "/releases", RITA)
        runs = sum(1 for release in releases if release["name"] == "Payments 4.0")
        self.shift = 120 * runs
        if runs:
            self.say(f"Played {runs} time(s) before here: this is a quarter {self.shift} days on")

    def play(self) -> Quarter:
        self._later_quarter_if_played_before()
        self.stakeholders()
        self.cmdb_estate()
        self.releases()
        self.funding()
        self.release_changes()
        self.freeze_and_schedules()
        self.scope_enhancement()
        self.operational_changes()
        self.risks()
        self.messages()
        self.deployments()
        self.cmdb_oversight()
        self.acknowledgements()
        self.benefits_review()
        return self.q

    # Helpers

    def _day(self, days: int) -> date:
        return self.today + timedelta(days=self.shift + days)

    def _window(self, days: int, hours: int = 4) -> dict[str, str]:
        start = datetime.combine(self._day(days), datetime.min.time(), UTC) + timedelta(hours=20)
        return {"start": start.isoformat(), "end": (start + timedelta(hours=hours)).isoformat()}

    def _call(
        self, service: str, method: str, path: str, who: Person, body: Any = None, **kw: Any
    ) -> Any:
        kw.setdefault("correlation", self._change_named_in(path, body))
        return self.api.call(service, method, path, who, body, **kw)

    def _change_named_in(self, path: str, body: Any) -> str | None:
        """Every call about a change carries the change's correlation id, so that
        `audit trace` follows the change from raised to its CMDB writes."""
        change_id = body.get("change_id") if isinstance(body, dict) else None
        if change_id is None and path.startswith("/change-requests/"):
            change_id = path.split("/")[2]
        names = {change: name for name, change in self.q.changes.items()}
        return names.get(change_id) if change_id else None

    def _refused(
        self, name: str, service: str, method: str, path: str, who: Person, body: Any, status: int
    ) -> dict[str, Any]:
        problem: dict[str, Any] = self._call(service, method, path, who, body, expect=status)
        self.q.refusals[name] = problem
        self.say(f"  refused as it should be ({status} {problem.get('rule', '')}): {name}")
        return problem

    # Scenes

    def stakeholders(self) -> None:
        self.say("Stakeholders across the power/interest grid")
        people = [
            ("Sam Board", "Sponsor", 5, 5, "email"),
            ("Chloe Ops", "Head of operations", 5, 4, "webhook"),
            ("Frank Finance", "CFO", 5, 2, "email"),
            ("Lena Legal", "Compliance officer", 4, 2, "email"),
            ("Ursula Users", "Customer service lead", 2, 5, "email"),
            ("Tom Support", "Service desk", 2, 4, "webhook"),
            ("Vic Vendor", "Gateway vendor", 1, 2, "email"),
            ("Iris Intern", "Analyst", 1, 1, "email"),
        ]
        known = {
            s["email"]: s["id"]
            for s in self._call("communication", "GET", "/stakeholders", CORA)
            if not s["retired"]
        }
        for name, role, power, interest, channel in people:
            handle = name.split()[0].lower()
            body: dict[str, Any] = {
                "name": name,
                "role": role,
                "organisation": "Acme Bank",
                "power": power,
                "interest": interest,
                "channel": channel,
                "email": f"{handle}@acme.example",
            }
            if channel == "webhook":
                body["webhook_url"] = f"{self.hooks.url}/hook/{handle}"
            if body["email"] in known:  # registered by an earlier run
                self.q.stakeholders[handle] = known[body["email"]]
                continue
            made = self._call("communication", "POST", "/stakeholders", CORA, body)
            self.q.stakeholders[handle] = made["id"]
        self._call(
            "communication",
            "POST",
            f"/stakeholders/{self.q.stakeholders['ursula']}/engagement",
            CORA,
            {"current": "Resistant", "desired": "Supportive"},
        )

    def cmdb_estate(self) -> None:
        graph = self._call("cmdb", "GET", "/graph", MO)
        known = {node["key"] for node in graph["nodes"]}
        linked = {(e["source"], e["type"], e["target"]) for e in graph["edges"]}
        cis = [ci for ci in estate.cis() if ci["key"] not in known]
        edges = [
            e for e in estate.relationships() if (e["source"], e["type"], e["target"]) not in linked
        ]
        if not cis and not edges:
            self.say("The CMDB already holds the estate (from an earlier run)")
            return
        self.say(f"A CMDB of {len(estate.cis())} CIs, onboarded under a standard change")
        scope = sorted({ci["key"] for ci in cis} | {e["source"] for e in edges})
        onboarding = self._change(
            "onboard",
            "standard",
            "Onboard the estate into the CMDB",
            scope,
            None,
            schedule_days=1,
        )
        self._implement(onboarding)
        for ci in cis:
            self._call(
                "cmdb", "POST", "/cis", MO, {**ci, "change_id": onboarding, "lifecycle": "Active"}
            )
        for edge in edges:
            self._call("cmdb", "POST", "/relationships", MO, {**edge, "change_id": onboarding})
        self._finish(onboarding)

    def releases(self) -> None:
        self.say("Three releases planned months ahead")
        plans = [
            ("payments", "Payments 4.0", "high", 30, 75),
            ("portal", "Customer portal 2.0", "medium", 45, 90),
            ("warehouse", "Data warehouse refresh", "low", 60, 110),
        ]
        for name, title, priority, start, end in plans:
            release = self._call(
                "planning",
                "POST",
                "/releases",
                RITA,
                {
                    "name": title,
                    "owner": RITA.sub,
                    "priority": priority,
                    "target_start": self._day(start).isoformat(),
                    "target_end": self._day(end).isoformat(),
                },
            )
            self.q.releases[name] = release["id"]
        for name, release_id in self.q.releases.items():
            until(
                partial(self._risk_register_of, release_id),
                f"the risk service opened {name}'s register",
            )

    def _risk_register_of(self, release_id: str) -> str | None:
        register: str | None = self._release(release_id)["risk_register_id"]
        return register

    def _release(self, release_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._call("planning", "GET", f"/releases/{release_id}", RITA)
        return found

    def funding(self) -> None:
        self.say("Resources, budgets and benefits; the warehouse's benefits are rejected")
        funds = {"payments": 480_000, "portal": 260_000, "warehouse": 900_000}
        for name, release_id in self.q.releases.items():
            base = f"/releases/{release_id}"
            for person, role, days in (("ana", "developer", 30), ("raj", "tester", 15)):
                self._call(
                    "planning",
                    "POST",
                    f"{base}/allocations",
                    RITA,
                    {
                        "person": f"{person}-{name}",
                        "role": role,
                        "effort_days": days,
                        "period_start": self._day(5).isoformat(),
                        "period_end": self._day(75).isoformat(),
                    },
                )
            money = {"amount": funds[name], "currency": "EUR"}
            self._call("planning", "POST", f"{base}/budget/request", RITA, money)
            self._call(
                "planning",
                "POST",
                f"{base}/benefits",
                RITA,
                {
                    "measure": "cost per transaction",
                    "unit": "EUR",
                    "baseline": 0.42,
                    "target": 0.30,
                    "due": self._day(200).isoformat(),
                },
            )
            rejected = name == "warehouse"
            self._call(
                "planning",
                "POST",
                f"{base}/benefits/assess",
                FIONA,
                {
                    "outcome": "rejected" if rejected else "approved",
                    "reason": "no measurable gain for its cost" if rejected else "clear saving",
                },
            )
            if rejected:
                self._refused(
                    "budget for a release whose benefits were rejected",
                    "planning",
                    "POST",
                    f"{base}/budget/allocate",
                    RITA,
                    money,
                    409,
                )
            else:
                self._call("planning", "POST", f"{base}/budget/allocate", RITA, money)
            for title in ("Core changes", "Regression tests", "Runbook"):
                self._call("planning", "POST", f"{base}/work-items", RITA, {"title": title})

    def _change(
        self,
        name: str,
        type: str,
        title: str,
        cis: list[str],
        release: str | None,
        *,
        category: str = "technical",
        schedule_days: int | None = None,
        authorise_days: int | None = None,
        scope: list[str] | None = None,
    ) -> str:
        """Raise a change; a standard one is scheduled (pre-authorised), another is
        submitted, assessed (unless an emergency) and authorised by the change authority."""
        change = self._call(
            "planning",
            "POST",
            "/change-requests",
            ROB,
            {
                "type": type,
                "category": category,
                "title": title,
                "affected_cis": cis,
                "target_release_id": self.q.releases.get(release) if release else None,
                "impact": "medium",
                "urgency": "high" if type == "emergency" else "medium",
                "backout_plan": "redeploy the previous version",
                "reason": title,
            },
            correlation=name,
        )
        change_id: str = change["id"]
        self.q.changes[name] = change_id
        path = f"/change-requests/{change_id}"
        if type == "standard" and schedule_days is not None:
            self._call(
                "planning",
                "POST",
                f"{path}/schedule",
                ROB,
                {"window": self._window(schedule_days)},
                correlation=name,
            )
        elif authorise_days is not None:
            self._call("planning", "POST", f"{path}/submit", ROB, correlation=name)
            if type != "emergency":
                self._call(
                    "planning",
                    "POST",
                    f"{path}/assess",
                    CARL,
                    {"risk": "medium", "notes": "tested in staging"},
                    correlation=name,
                )
            self._call(
                "planning",
                "POST",
                f"{path}/authorise",
                CARL,
                {
                    "reason": "CAB approved",
                    "window": self._window(authorise_days, 48),
                    "ci_scope": scope,
                },
                correlation=name,
            )
        if schedule_days is not None or authorise_days is not None:
            until(
                lambda: (
                    self._call("cmdb", "GET", f"/changes/{change_id}", MO, expect=None)["status"]
                    in {"authorised", "scheduled"}
                ),
                f"the CMDB learned that {title!r} is authorised",
            )
        return change_id

    def _implement(self, change_id: str) -> None:
        self._call("planning", "POST", f"/change-requests/{change_id}/implement", ROB)

    def _finish(self, change_id: str) -> None:
        path = f"/change-requests/{change_id}"
        self._call("planning", "POST", f"{path}/complete", ROB, {"outcome": "successful"})
        self._call("planning", "POST", f"{path}/close", ROB)

    def release_changes(self) -> None:
        self.say("Changes for the payments and portal releases, authorised by the CAB")
        self._change(
            "pay-upgrade",
            "normal",
            "Upgrade the payments API and worker to 4.0",
            ["pay-api", "pay-worker"],
            "payments",
            authorise_days=34,
        )
        self._change(
            "pay-db-index",
            "normal",
            "Index the payments ledger",
            ["pay-db"],
            "payments",
            authorise_days=34,
        )
        self._change(
            "portal-web",
            "normal",
            "Portal front end 2.0",
            ["portal-web"],
            "portal",
            authorise_days=49,
        )
        self._change(
            "portal-oidc",
            "normal",
            "Move portal sign-in to OIDC",
            ["portal-auth"],
            "portal",
            authorise_days=49,
        )

    def freeze_and_schedules(self) -> None:
        self.say("A quarter-end freeze blocks a schedule")
        self._call(
            "planning",
            "POST",
            "/freeze-windows",
            CARL,
            {
                "name": "Quarter-end freeze",
                "reason": "financial close",
                "window": {"start": self._window(40)["start"], "end": self._window(47)["end"]},
            },
        )
        payments, portal = self.q.releases["payments"], self.q.releases["portal"]
        self._call(
            "planning", "POST", f"/releases/{payments}/schedule", RITA, {"window": self._window(35)}
        )
        self._refused(
            "a deployment scheduled in the freeze",
            "planning",
            "POST",
            f"/releases/{portal}/schedule",
            RITA,
            {"window": self._window(42)},
            409,
        )
        self._call(
            "planning", "POST", f"/releases/{portal}/schedule", RITA, {"window": self._window(50)}
        )

    def scope_enhancement(self) -> None:
        self.say("An enhancement to the business requirements changes a scheduled scope")
        payments = self.q.releases["payments"]
        item = {"title": "SEPA instant payments"}
        self._refused(
            "scope change of a scheduled release without a change",
            "planning",
            "POST",
            f"/releases/{payments}/work-items",
            RITA,
            item,
            409,
        )
        change = self._change(
            "sepa",
            "normal",
            "Add SEPA instant payments",
            ["pay-api"],
            "payments",
            category="business-requirement",
            authorise_days=34,
        )
        self._call(
            "planning",
            "POST",
            f"/releases/{payments}/work-items",
            RITA,
            {**item, "change_id": change},
        )

    def operational_changes(self) -> None:
        self.say("Emergency, standard, rejected and cancelled changes")
        patch = self._change(
            "openssl",
            "emergency",
            "Patch OpenSSL on the web servers",
            ["web-01", "web-02"],
            None,
            authorise_days=1,
        )
        self._implement(patch)
        for web in ("web-01", "web-02"):
            self._call(
                "cmdb",
                "PATCH",
                f"/cis/{web}",
                MO,
                {"change_id": patch, "attributes": {"openssl": "3.0.15"}},
            )
        self._finish(patch)
        block = self._change(
            "block-ips", "emergency", "Block an abusive IP range", ["fw-01"], None, authorise_days=1
        )
        self._implement(block)
        self._call(
            "cmdb",
            "PATCH",
            "/cis/fw-01",
            MO,
            {"change_id": block, "attributes": {"blocked": ["203.0.113.0/24"]}},
        )
        self._finish(block)
        for name, title, ci, attributes in (
            ("certs", "Rotate TLS certificates", "lb-01", {"certificate": "2027-01"}),
            ("storage", "Grow the payments database storage", "san-01", {"capacity_tb": 48}),
        ):
            change = self._change(name, "standard", title, [ci], None, schedule_days=2)
            self._implement(change)
            self._call(
                "cmdb", "PATCH", f"/cis/{ci}", MO, {"change_id": change, "attributes": attributes}
            )
            self._finish(change)
        vendor = self._change(
            "dw-vendor", "normal", "Move the warehouse to a new vendor", ["dw-db"], "warehouse"
        )
        path = f"/change-requests/{vendor}"
        self._call("planning", "POST", f"{path}/submit", ROB)
        self._call("planning", "POST", f"{path}/reject", CARL, {"reason": "no business case"})
        retire = self._change(
            "reporting", "normal", "Retire the old reporting server", ["reporting-01"], None
        )
        self._call(
            "planning",
            "POST",
            f"/change-requests/{retire}/cancel",
            ROB,
            {"reason": "still used by finance"},
        )
        etl = self._change(
            "etl", "normal", "Rewrite the warehouse loads", ["dw-worker"], "warehouse"
        )
        self._call("planning", "POST", f"/change-requests/{etl}/submit", ROB)

    def risks(self) -> None:
        self.say("Risks: one escalates to Critical and blocks the portal's deployment")
        for name, release, cause, score in (
            ("ledger", "payments", "the ledger index build is slow", (2, 3)),
            ("oidc", "portal", "the OIDC provider is new to us", (5, 5)),
            ("vendor", "warehouse", "the warehouse vendor's contract ends", (4, 4)),
        ):
            risk = self._call(
                "risk",
                "POST",
                "/risks",
                ROSE,
                {
                    "cause": cause,
                    "event": "the cut-over overruns",
                    "effect": "customers wait",
                    "category": "technical",
                    "owner": ROSE.sub,
                    "release_id": self.q.releases[release],
                },
            )
            self.q.risks[name] = risk["id"]
            self._call(
                "risk",
                "POST",
                f"/risks/{risk['id']}/assess",
                ROSE,
                {"inherent": {"likelihood": score[0], "impact": score[1]}},
            )
        self._call(
            "risk",
            "POST",
            f"/risks/{self.q.risks['ledger']}/mitigations",
            ROSE,
            {
                "action": "build the index online",
                "owner": "dba",
                "due": self._day(20).isoformat(),
            },
        )
        self._call(
            "risk",
            "POST",
            "/issues",
            ROSE,
            {
                "title": "Reconciliation mismatch in UAT",
                "severity": "high",
                "owner": ROSE.sub,
                "release_id": self.q.releases["payments"],
            },
        )

    def messages(self) -> None:
        self.say("Planned messages by e-mail and webhook, some needing acknowledgement")
        now = datetime.now(UTC).isoformat()
        payments, portal = self.q.releases["payments"], self.q.releases["portal"]
        for name, body in (
            (
                "cut-over",
                {
                    "release_id": payments,
                    "audience": {"quadrants": ["Manage closely"]},
                    "subject": "Payments 4.0: the cut-over plan",
                    "ack_required": True,
                    "ack_within_hours": 48,
                    "body": "Dear {stakeholder_name}, please confirm.",
                },
            ),
            (
                "portal-changes",
                {
                    "release_id": portal,
                    "audience": {"quadrants": ["Keep satisfied"]},
                    "subject": "Customer portal 2.0: what changes",
                    "ack_required": True,
                    "ack_within_hours": 0.005,
                    "body": "Please confirm you have read this.",
                },
            ),
            (
                "fyi",
                {
                    "release_id": payments,
                    "audience": {"quadrants": ["Keep informed", "Monitor"]},
                    "subject": "Payments 4.0 is coming",
                    "body": "For your information.",
                },
            ),
        ):
            made = self._call("communication", "POST", "/messages", CORA, {**body, "send_at": now})
            self.q.messages[name] = made["id"]

    def deployments(self) -> None:
        self.say("Deployments: the portal waits until its Critical risk is accepted")
        payments, portal = self.q.releases["payments"], self.q.releases["portal"]
        for release, ci, version in (
            (payments, "pay-api", "4.0.0"),
            (payments, "pay-worker", "4.0.0"),
            (portal, "portal-web", "2.0.0"),
        ):
            self._call(
                "planning",
                "PUT",
                f"/releases/{release}/ci-versions/{ci}",
                RITA,
                {"version": version},
            )
        for name in ("pay-upgrade", "pay-db-index", "sepa", "portal-web", "portal-oidc"):
            self._implement(self.q.changes[name])
        for release in (payments, portal):
            self._call("planning", "POST", f"/releases/{release}/start", RITA)
            self._call(
                "planning",
                "POST",
                f"/releases/{release}/spend",
                RITA,
                {
                    "amount": {"amount": 120_000, "currency": "EUR"},
                    "description": "sprint 1-6",
                },
            )
        self._call("planning", "POST", f"/releases/{payments}/deploy", RITA)
        until(
            lambda: self._release(portal)["risk_exposure"]["unaccepted_critical"],
            "planning learned of the portal's Critical risk",
        )
        self._refused(
            "deployment with an unaccepted Critical risk",
            "planning",
            "POST",
            f"/releases/{portal}/deploy",
            RITA,
            None,
            409,
        )
        self._refused(
            "a risk owner accepting her own Critical risk",
            "risk",
            "POST",
            f"/risks/{self.q.risks['oidc']}/response",
            ROSE,
            {"response": "accept", "reason": "fine"},
            403,
        )
        self._call(
            "risk",
            "POST",
            f"/risks/{self.q.risks['oidc']}/response",
            RAVI,
            {"response": "accept", "reason": "fallback to the old sign-in is ready"},
        )
        until(
            lambda: not self._release(portal)["risk_exposure"]["unaccepted_critical"],
            "planning learned the Critical risk was accepted",
        )
        self._call("planning", "POST", f"/releases/{portal}/deploy", RITA)
        until(
            lambda: self._call("cmdb", "GET", "/cis/portal-web", MO)["version"] == "2.0.0",
            "the CMDB applied the versions the portal release planned",
        )
        until(
            lambda: self._call("cmdb", "GET", "/cis/pay-api", MO)["version"] == "4.0.0",
            "the CMDB applied the versions the payments release planned",
        )
        for name in ("pay-upgrade", "pay-db-index", "sepa", "portal-web", "portal-oidc"):
            self._finish(self.q.changes[name])

    def cmdb_oversight(self) -> None:
        self.say("The CMDB refuses a write without a change, and reports drift")
        self._refused(
            "a CMDB write without a change",
            "cmdb",
            "PATCH",
            "/cis/pay-db",
            EVE,
            {"attributes": {"max_connections": 500}},
            403,
        )
        self._call(
            "cmdb",
            "POST",
            "/discovery",
            DISCOVERY,
            {
                "discovered_by": "nightly scan",
                "observed": [
                    {"key": "web-03", "version": "nginx-1.25", "attributes": {}},
                    {"key": "web-04", "version": "nginx-1.24", "attributes": {}},
                ],
            },
        )

    def acknowledgements(self) -> None:
        self.say("Messages are delivered; the cut-over plan is acknowledged, one is not")
        for name in ("cut-over", "portal-changes", "fyi"):
            until(partial(self._sent, name), f"the {name} message went out", timeout=90)
        cut_over = self._message("cut-over")
        recipients = len(cut_over["recipients"])
        until(
            lambda: self._ack_tokens("Payments 4.0: the cut-over plan", recipients),
            "every recipient of the cut-over plan received it",
        )
        for token in self._ack_tokens("Payments 4.0: the cut-over plan", recipients):
            response = self.api.public("communication", "POST", f"/acks/{token}")
            if not response.is_success:
                raise Unexpected(f"acknowledgement refused: {response.text[:300]}")
            self.q.acknowledged += 1
        until(
            lambda: self._message("portal-changes")["state"] in {"Overdue", "Escalated"},
            "the unacknowledged portal message became overdue",
            timeout=90,
        )

    def _sent(self, name: str) -> bool:
        return bool(self._message(name)["state"] != "Planned")

    def _message(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self._call(
            "communication", "GET", f"/messages/{self.q.messages[name]}", CORA
        )
        return found

    def _ack_tokens(self, subject: str, expected: int) -> list[str]:
        """The tokens of the acknowledgement links the recipients of `subject` received
        (empty until each of the `expected` recipients received one)."""
        texts = [
            str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            for mail in self.mail.mails
            if mail["Subject"] == subject
        ] + [hook["ack_link"] or "" for hook in self.hooks.received if hook["subject"] == subject]
        tokens = [found.group(1) for text in texts if (found := _ACK_TOKEN.search(text))]
        return tokens if len(tokens) >= expected else []

    def benefits_review(self) -> None:
        self.say("The payments release's benefits are measured and reviewed; it closes")
        payments = self.q.releases["payments"]
        release = self._release(payments)
        for benefit in release["benefits"]:
            self._call(
                "planning",
                "POST",
                f"/releases/{payments}/benefits/{benefit['id']}/actual",
                RITA,
                {"actual": 0.31, "measured_on": self.today.isoformat()},
            )
        self._call(
            "planning",
            "POST",
            f"/releases/{payments}/benefits/review",
            FIONA,
            {"summary": "cost per transaction down 26%, near target"},
        )
        self._call("planning", "POST", f"/releases/{payments}/close", RITA)

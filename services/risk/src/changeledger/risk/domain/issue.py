"""An issue: something that has happened and is being dealt with.

Open -> Investigating -> Resolved -> Closed
"""

from __future__ import annotations

from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from changeledger.runtime.domain import Aggregate, InvalidValue, RuleViolated


class Severity(Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IssueState(Enum):
    OPEN = "Open"
    INVESTIGATING = "Investigating"
    RESOLVED = "Resolved"
    CLOSED = "Closed"


I = IssueState  # noqa: E741 - as in the state diagram
NEXT = {I.OPEN: I.INVESTIGATING, I.INVESTIGATING: I.RESOLVED, I.RESOLVED: I.CLOSED}


class Issue(Aggregate):
    class Event(Aggregate.Event):
        release_id: UUID | None

    class Raised(Event, Aggregate.Created):
        title: str
        description: str
        severity: Severity
        owner: str
        change_id: UUID | None
        risk_id: UUID | None

    @event(Raised)
    def __init__(
        self,
        title: str,
        description: str,
        severity: Severity,
        owner: str,
        release_id: UUID | None,
        change_id: UUID | None,
        risk_id: UUID | None,
    ) -> None:
        self.title = title
        self.description = description
        self.severity = severity
        self.owner = owner
        self.release_id = release_id
        self.change_id = change_id
        self.risk_id = risk_id
        self.state = I.OPEN
        self.resolution: str | None = None

    @classmethod
    def raise_issue(
        cls,
        title: str,
        description: str,
        severity: Severity,
        owner: str,
        release_id: UUID | None,
        change_id: UUID | None,
        risk_id: UUID | None = None,
    ) -> Issue:
        if not title.strip():
            raise InvalidValue("an issue needs a title", rule="issue-title")
        return cls(
            title=title,
            description=description,
            severity=severity,
            owner=owner,
            release_id=release_id,
            change_id=change_id,
            risk_id=risk_id,
        )

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        kwargs.setdefault("release_id", self.release_id)
        super().trigger_event(event_class, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.state in (I.OPEN, I.INVESTIGATING)

    class StatusChanged(Event):
        state: IssueState
        note: str

    def advance(self, to: IssueState, note: str) -> None:
        """Investigate, resolve or close: one step along Open -> ... -> Closed."""
        if NEXT.get(self.state) is not to:
            raise RuleViolated(
                f"an issue that is {self.state.value} cannot become {to.value}",
                rule="issue-state",
                state=self.state.value,
            )
        if to is I.RESOLVED and not note.strip():
            raise InvalidValue("a resolution says how it was resolved", rule="resolution")
        self._status_changed(to, note)

    @event(StatusChanged)
    def _status_changed(self, state: IssueState, note: str) -> None:
        self.state = state
        if state is I.RESOLVED:
            self.resolution = note

    class SeverityChanged(Event):
        severity: Severity

    def change_severity(self, severity: Severity) -> None:
        if self.state is I.CLOSED:
            raise RuleViolated("a closed issue does not change", rule="issue-state")
        if severity is not self.severity:
            self._severity_changed(severity)

    @event(SeverityChanged)
    def _severity_changed(self, severity: Severity) -> None:
        self.severity = severity

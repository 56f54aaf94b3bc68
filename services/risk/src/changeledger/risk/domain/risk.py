"""A risk, managed actively: assessed, answered with a response, mitigated, escalated.

    Identified -> Assessed -> Mitigating or Accepted -> Closed

A risk is escalated, once for each reason, when its rating reaches High or Critical and
when one of its mitigation actions goes overdue. A risk that materialises is closed and
becomes an issue; each keeps a link to the other. Every event of a risk carries the
release it belongs to and the rating it has after the event, for subscribers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import Enum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from changeledger.risk.domain.scoring import Rating, Score
from changeledger.runtime.domain import (
    Aggregate,
    InvalidValue,
    NotFound,
    NotPermitted,
    RuleViolated,
    current_provenance,
)


class RiskState(Enum):
    IDENTIFIED = "Identified"
    ASSESSED = "Assessed"
    MITIGATING = "Mitigating"
    ACCEPTED = "Accepted"
    CLOSED = "Closed"


class Category(Enum):
    TECHNICAL = "technical"
    SCHEDULE = "schedule"
    COST = "cost"
    RESOURCE = "resource"
    SECURITY = "security"
    COMPLIANCE = "compliance"
    OPERATIONAL = "operational"
    BUSINESS = "business"
    CHANGE = "change"


class Response(Enum):
    AVOID = "avoid"
    REDUCE = "reduce"
    TRANSFER = "transfer"
    ACCEPT = "accept"
    SHARE = "share"


class ActionStatus(Enum):
    OPEN = "open"
    DONE = "done"


R = RiskState
OPEN = frozenset({R.IDENTIFIED, R.ASSESSED, R.MITIGATING, R.ACCEPTED})
RISK_MANAGER = frozenset({"risk-manager"})
_CHANGE_RISK = uuid5(NAMESPACE_URL, "urn:changeledger:risk:change-assessment")


def change_risk_id(change_id: UUID) -> UUID:
    """The one "change risk assessment" risk of a change."""
    return uuid5(_CHANGE_RISK, str(change_id))


@dataclass(frozen=True)
class Assessment:
    inherent: Score
    residual: Score | None
    assessed_by: str

    @property
    def current(self) -> Score:
        """The residual score once there is one: what is left after the response."""
        return self.residual or self.inherent


@dataclass(frozen=True)
class Mitigation:
    id: UUID
    action: str
    owner: str
    due: date
    status: ActionStatus = ActionStatus.OPEN
    completed_on: date | None = None

    def overdue(self, today: date) -> bool:
        return self.status is ActionStatus.OPEN and self.due < today


@dataclass(frozen=True)
class Escalation:
    reason: str
    cause: str  # what it was for, so the same cause never escalates twice


class Risk(Aggregate):
    class Event(Aggregate.Event):
        release_id: UUID | None
        rating: Rating | None

    class Identified(Event, Aggregate.Created):
        cause: str
        event: str
        effect: str
        category: Category
        owner: str
        change_id: UUID | None
        proximity: date | None

    @event(Identified)
    def __init__(
        self,
        cause: str,
        event: str,
        effect: str,
        category: Category,
        owner: str,
        release_id: UUID | None,
        change_id: UUID | None,
        proximity: date | None,
    ) -> None:
        self.cause = cause
        self.event = event
        self.effect = effect
        self.category = category
        self.owner = owner
        self.release_id = release_id
        self.change_id = change_id
        self.proximity = proximity
        self.state = R.IDENTIFIED
        self.assessments: list[Assessment] = []
        self.response: Response | None = None
        self.response_reason: str | None = None
        self.mitigations: list[Mitigation] = []
        self.escalations: list[Escalation] = []
        self.issue_id: UUID | None = None
        self.closed_reason: str | None = None

    @classmethod
    def identify(
        cls,
        cause: str,
        event: str,
        effect: str,
        category: Category,
        owner: str,
        release_id: UUID | None,
        change_id: UUID | None,
        proximity: date | None,
        risk_id: UUID | None = None,
    ) -> Risk:
        for name, text in (("cause", cause), ("event", event), ("effect", effect)):
            if not text.strip():
                raise InvalidValue(f"a risk states its {name}", rule="cause-event-effect")
        risk: Risk = cls._create(
            cls.Identified,
            id=risk_id,
            cause=cause,
            event=event,
            effect=effect,
            category=category,
            owner=owner,
            release_id=release_id,
            change_id=change_id,
            proximity=proximity,
            rating=None,
        )
        return risk

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        # Every event tells subscribers the release and the rating after it.
        kwargs.setdefault("release_id", self.release_id)
        kwargs.setdefault("rating", self.rating)
        super().trigger_event(event_class, **kwargs)

    @property
    def score(self) -> Score | None:
        return self.assessments[-1].current if self.assessments else None

    @property
    def rating(self) -> Rating | None:
        score = self.score
        return score.rating if score else None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN

    def _require(self, allowed: frozenset[RiskState] | set[RiskState], doing: str) -> None:
        if self.state not in allowed:
            names = ", ".join(sorted(s.value for s in allowed))
            raise RuleViolated(
                f"cannot {doing} a risk that is {self.state.value} (only when {names})",
                rule="risk-state",
                state=self.state.value,
            )

    # Assessment, response, mitigation

    class Assessed(Event):
        assessment: Assessment

    def assess(self, inherent: Score, residual: Score | None) -> None:
        """Assess or reassess; every assessment stays in the history."""
        self._require(OPEN, "assess")
        assessment = Assessment(inherent, residual, current_provenance().actor.sub)
        # The event carries the rating it brings, not the one before it.
        self.trigger_event(self.Assessed, assessment=assessment, rating=assessment.current.rating)
        self._escalate_for_rating()

    @event(Assessed)
    def _assessed(self, assessment: Assessment) -> None:
        self.assessments.append(assessment)
        if self.state is R.IDENTIFIED:
            self.state = R.ASSESSED

    class ResponseChosen(Event):
        response: Response
        reason: str

    class Accepted(Event):
        reason: str
        accepted_by: str

    def choose_response(self, response: Response, reason: str) -> None:
        self._require({R.ASSESSED, R.MITIGATING, R.ACCEPTED}, "choose a response for")
        if response is Response.ACCEPT:
            self._accept(reason)
        self._response_chosen(response, reason)

    def _accept(self, reason: str) -> None:
        actor = current_provenance().actor
        if not reason.strip():
            raise InvalidValue("accepting a risk needs a reason", rule="acceptance-reason")
        if not actor.has_any(RISK_MANAGER):
            raise NotPermitted("only a risk manager accepts a risk", rule="acceptance-role")
        if self.rating is Rating.CRITICAL and actor.sub == self.owner:
            raise NotPermitted(
                "a risk owner cannot accept their own Critical risk", rule="owner-accepts-critical"
            )
        self._accepted(reason, actor.sub)

    @event(Accepted)
    def _accepted(self, reason: str, accepted_by: str) -> None:
        self.response_reason = reason

    @event(ResponseChosen)
    def _response_chosen(self, response: Response, reason: str) -> None:
        self.response = response
        self.response_reason = reason
        self.state = R.ACCEPTED if response is Response.ACCEPT else R.MITIGATING

    class MitigationAdded(Event):
        mitigation: Mitigation

    def add_mitigation(self, mitigation: Mitigation) -> None:
        self._require(OPEN, "mitigate")
        if not mitigation.action.strip():
            raise InvalidValue("a mitigation states its action", rule="mitigation-action")
        if any(m.id == mitigation.id for m in self.mitigations):
            raise RuleViolated(f"mitigation {mitigation.id} exists", rule="duplicate-mitigation")
        self._mitigation_added(mitigation)

    @event(MitigationAdded)
    def _mitigation_added(self, mitigation: Mitigation) -> None:
        self.mitigations.append(mitigation)

    class MitigationCompleted(Event):
        mitigation_id: UUID
        completed_on: date

    def complete_mitigation(self, mitigation_id: UUID, today: date) -> None:
        self._require(OPEN, "complete a mitigation of")
        mitigation = self._mitigation(mitigation_id)
        if mitigation.status is ActionStatus.DONE:
            raise RuleViolated("this mitigation is already done", rule="mitigation-done")
        self._mitigation_completed(mitigation_id, today)

    @event(MitigationCompleted)
    def _mitigation_completed(self, mitigation_id: UUID, completed_on: date) -> None:
        self.mitigations = [
            replace(m, status=ActionStatus.DONE, completed_on=completed_on)
            if m.id == mitigation_id
            else m
            for m in self.mitigations
        ]

    def _mitigation(self, mitigation_id: UUID) -> Mitigation:
        for mitigation in self.mitigations:
            if mitigation.id == mitigation_id:
                return mitigation
        raise NotFound(f"mitigation {mitigation_id} is not one of this risk's")

    # Escalation

    class Escalated(Event):
        escalation: Escalation

    def _escalate_for_rating(self) -> None:
        rating = self.rating
        if rating is not None and rating.escalates:
            self._escalate(f"rating:{rating.value}", f"its rating reached {rating.value}")

    def escalate_overdue(self, today: date) -> bool:
        """Escalate for each mitigation past its due date, once each; True if it did."""
        if not self.is_open:
            return False
        escalated = False
        for mitigation in self.mitigations:
            if mitigation.overdue(today):
                escalated |= self._escalate(
                    f"overdue:{mitigation.id}",
                    f"the mitigation {mitigation.action!r} was due on {mitigation.due}",
                )
        return escalated

    def _escalate(self, cause: str, reason: str) -> bool:
        if any(e.cause == cause for e in self.escalations):
            return False
        self._escalated(Escalation(reason, cause))
        return True

    @event(Escalated)
    def _escalated(self, escalation: Escalation) -> None:
        self.escalations.append(escalation)

    # The end of a risk

    class Closed(Event):
        reason: str

    def close(self, reason: str) -> None:
        self._require(OPEN, "close")
        if not reason.strip():
            raise InvalidValue("closing a risk needs a reason", rule="close-reason")
        self._closed(reason)

    @event(Closed)
    def _closed(self, reason: str) -> None:
        self.state = R.CLOSED
        self.closed_reason = reason

    class Materialised(Event):
        issue_id: UUID

    def materialise(self, issue_id: UUID) -> None:
        """The risk happened: it is closed, and lives on as the issue `issue_id`."""
        self._require(OPEN, "convert")
        self._materialised(issue_id)

    @event(Materialised)
    def _materialised(self, issue_id: UUID) -> None:
        self.issue_id = issue_id
        self.state = R.CLOSED
        self.closed_reason = f"materialised as issue {issue_id}"

    def proximity_passed(self, on: date) -> bool:
        return self.proximity is not None and self.proximity <= on

"""Change requests (RFCs), including enhancements to business requirements.

    normal:    New -> Assess -> Authorize -> Scheduled -> Implement -> Review -> Closed
    emergency: New ---------> Authorize -> Scheduled -> ...   (skips Assess, never Authorize)
    standard:  New ----------------------> Scheduled -> ...   (pre-authorised by its model)
    Assess and Authorize can end in Rejected; anything before Implement can be Cancelled.

Only the change authority authorises, and never the person who raised the change. The
authorisation records who decided, when and why, the CIs it covers and its window: only
what it covers may be written to the CMDB.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from uuid import UUID

from eventsourcing.domain import event

from changeledger.planning.domain.values import Level, Window
from changeledger.runtime.domain import (
    Aggregate,
    InvalidValue,
    NotPermitted,
    RuleViolated,
    current_provenance,
    now,
)


class ChangeType(Enum):
    STANDARD = "standard"
    NORMAL = "normal"
    EMERGENCY = "emergency"


class ChangeCategory(Enum):
    TECHNICAL = "technical"
    BUSINESS_REQUIREMENT = "business-requirement"


class ChangeState(Enum):
    NEW = "New"
    ASSESS = "Assess"
    AUTHORIZE = "Authorize"
    SCHEDULED = "Scheduled"
    IMPLEMENT = "Implement"
    REVIEW = "Review"
    CLOSED = "Closed"
    REJECTED = "Rejected"
    CANCELLED = "Cancelled"


class ReviewOutcome(Enum):
    SUCCESSFUL = "successful"
    FAILED = "failed"
    BACKED_OUT = "backed-out"


C = ChangeState
#: States in which the change has been authorised and may still be carried out.
AUTHORISED = frozenset({C.SCHEDULED, C.IMPLEMENT, C.REVIEW})
STANDARD_MODEL = "standard-change-model"
CHANGE_AUTHORITY = frozenset({"change-authority"})
CHANGE_MANAGEMENT = frozenset({"change-authority", "release-manager"})

#: ITIL's priority matrix: impact x urgency -> P1 (highest) .. P4.
_PRIORITY = {
    (Level.HIGH, Level.HIGH): 1,
    (Level.HIGH, Level.MEDIUM): 2,
    (Level.MEDIUM, Level.HIGH): 2,
    (Level.HIGH, Level.LOW): 3,
    (Level.MEDIUM, Level.MEDIUM): 3,
    (Level.LOW, Level.HIGH): 3,
}


@dataclass(frozen=True)
class Decision:
    decided_by: str
    decided_at: datetime
    reason: str


@dataclass(frozen=True)
class ChangeAssessment:
    assessor: str
    risk: Level
    notes: str


class ChangeRequest(Aggregate):
    class Raised(Aggregate.Created):
        type: ChangeType
        category: ChangeCategory
        title: str
        description: str
        affected_cis: tuple[str, ...]
        target_release_id: UUID | None
        impact: Level
        urgency: Level
        backout_plan: str
        reason: str
        requested_by: str

    @event(Raised)
    def __init__(
        self,
        type: ChangeType,
        category: ChangeCategory,
        title: str,
        description: str,
        affected_cis: tuple[str, ...],
        target_release_id: UUID | None,
        impact: Level,
        urgency: Level,
        backout_plan: str,
        reason: str,
        requested_by: str,
    ) -> None:
        self.type = type
        self.category = category
        self.title = title
        self.description = description
        self.affected_cis = affected_cis
        self.target_release_id = target_release_id
        self.impact = impact
        self.urgency = urgency
        self.backout_plan = backout_plan
        self.reason = reason
        self.requested_by = requested_by
        self.state = C.NEW
        self.assessment: ChangeAssessment | None = None
        self.decision: Decision | None = None
        self.ci_scope: tuple[str, ...] = ()
        self.window: Window | None = None
        self.authorised_window: Window | None = None
        self.review: ReviewOutcome | None = None

    @staticmethod
    def raise_change(
        type: ChangeType,
        category: ChangeCategory,
        title: str,
        description: str,
        affected_cis: Iterable[str],
        target_release_id: UUID | None,
        impact: Level,
        urgency: Level,
        backout_plan: str,
        reason: str,
    ) -> ChangeRequest:
        cis = tuple(dict.fromkeys(affected_cis))
        if not cis:
            raise InvalidValue("a change names the CIs it affects", rule="no-affected-cis")
        if not backout_plan.strip():
            raise InvalidValue("a change needs a backout plan", rule="no-backout-plan")
        return ChangeRequest(
            type=type,
            category=category,
            title=title,
            description=description,
            affected_cis=cis,
            target_release_id=target_release_id,
            impact=impact,
            urgency=urgency,
            backout_plan=backout_plan,
            reason=reason,
            requested_by=current_provenance().actor.sub,
        )

    @property
    def priority(self) -> int:
        return _PRIORITY.get((self.impact, self.urgency), 4)

    @property
    def authorised(self) -> bool:
        return self.state in AUTHORISED

    def authorises_scope_of(self, release_id: UUID) -> bool:
        return self.authorised and self.target_release_id == release_id

    def _require(self, allowed: set[ChangeState], doing: str) -> None:
        if self.state not in allowed:
            names = ", ".join(sorted(s.value for s in allowed))
            raise RuleViolated(
                f"cannot {doing} a {self.type.value} change that is {self.state.value} "
                f"(only when {names})",
                rule="change-state",
                state=self.state.value,
            )

    class Submitted(Aggregate.Event):
        to: ChangeState

    def submit(self) -> None:
        """Normal changes go to assessment; emergency changes straight to authorisation."""
        self._require({C.NEW}, "submit")
        if self.type is ChangeType.STANDARD:
            raise RuleViolated(
                "a standard change is pre-authorised: schedule it instead",
                rule="standard-change-is-pre-authorised",
            )
        self._submitted(C.AUTHORIZE if self.type is ChangeType.EMERGENCY else C.ASSESS)

    @event(Submitted)
    def _submitted(self, to: ChangeState) -> None:
        self.state = to

    class Assessed(Aggregate.Event):
        assessment: ChangeAssessment

    def assess(self, risk: Level, notes: str) -> None:
        self._require({C.ASSESS}, "assess")
        self._assessed(ChangeAssessment(current_provenance().actor.sub, risk, notes))

    @event(Assessed)
    def _assessed(self, assessment: ChangeAssessment) -> None:
        self.assessment = assessment
        self.state = C.AUTHORIZE

    class Authorised(Aggregate.Event):
        decision: Decision
        ci_scope: tuple[str, ...]
        window: Window

    class Scheduled(Aggregate.Event):
        window: Window

    def authorise(self, reason: str, window: Window, ci_scope: Iterable[str] | None) -> None:
        """The change authority's approval: who, when, why, which CIs, and when."""
        self._require({C.AUTHORIZE}, "authorise")
        decided_by = current_provenance().actor.sub
        if decided_by == self.requested_by:
            raise NotPermitted(
                "the person who raised a change cannot authorise it",
                rule="raiser-cannot-authorise",
            )
        if not reason.strip():
            raise InvalidValue("an authorisation needs a reason", rule="decision-reason")
        window.require_ahead()
        scope = self._scope(ci_scope)
        decided_at = now()
        self._authorised(Decision(decided_by, decided_at, reason), scope, window)
        self._scheduled(window)

    def _scope(self, ci_scope: Iterable[str] | None) -> tuple[str, ...]:
        scope = self.affected_cis if ci_scope is None else tuple(dict.fromkeys(ci_scope))
        outside = sorted(set(scope) - set(self.affected_cis))
        if outside:
            raise InvalidValue(
                f"the CI scope can only cover CIs the change affects: {', '.join(outside)}",
                rule="scope-beyond-affected-cis",
            )
        if not scope:
            raise InvalidValue("an authorisation covers at least one CI", rule="empty-scope")
        return scope

    @event(Authorised)
    def _authorised(self, decision: Decision, ci_scope: tuple[str, ...], window: Window) -> None:
        self.decision = decision
        self.ci_scope = ci_scope
        self.authorised_window = window

    @event(Scheduled)
    def _scheduled(self, window: Window) -> None:
        self.window = window
        self.state = C.SCHEDULED

    def schedule(self, window: Window) -> None:
        """Schedule a standard change (pre-authorised by its model), or move an authorised
        change within the window it was authorised for."""
        if self.type is ChangeType.STANDARD:
            self._require({C.NEW, C.SCHEDULED}, "schedule")
            window.require_ahead()
            decision = Decision(STANDARD_MODEL, now(), "pre-authorised standard change")
            self._authorised(decision, self.affected_cis, window)
        else:
            self._require({C.SCHEDULED}, "schedule")
            window.require_ahead()
            if self.authorised_window is None or not self.authorised_window.contains(window):
                raise RuleViolated(
                    f"the change was authorised for {self.authorised_window}; moving it "
                    "outside that window needs a new authorisation",
                    rule="outside-authorised-window",
                )
        self._scheduled(window)

    class Rejected(Aggregate.Event):
        decision: Decision

    def reject(self, reason: str) -> None:
        self._require({C.ASSESS, C.AUTHORIZE}, "reject")
        if not reason.strip():
            raise InvalidValue("a rejection needs a reason", rule="decision-reason")
        decided_by = current_provenance().actor.sub
        self._rejected(Decision(decided_by, now(), reason))

    @event(Rejected)
    def _rejected(self, decision: Decision) -> None:
        self.decision = decision
        self.state = C.REJECTED

    class ImplementationStarted(Aggregate.Event):
        pass

    def start_implementation(self) -> None:
        self._require({C.SCHEDULED}, "implement")
        self._implementation_started()

    @event(ImplementationStarted)
    def _implementation_started(self) -> None:
        self.state = C.IMPLEMENT

    class Reviewed(Aggregate.Event):
        outcome: ReviewOutcome
        notes: str

    def complete(self, outcome: ReviewOutcome, notes: str) -> None:
        """Implementation is over: record how it went, for the post-implementation review."""
        self._require({C.IMPLEMENT}, "review")
        self._reviewed(outcome, notes)

    @event(Reviewed)
    def _reviewed(self, outcome: ReviewOutcome, notes: str) -> None:
        self.review = outcome
        self.state = C.REVIEW

    class Closed(Aggregate.Event):
        pass

    def close(self) -> None:
        self._require({C.REVIEW}, "close")
        self._closed()

    @event(Closed)
    def _closed(self) -> None:
        self.state = C.CLOSED

    class Cancelled(Aggregate.Event):
        reason: str

    def cancel(self, reason: str) -> None:
        """Withdrawn by its requester or change management; once authorised, only the
        change authority may call it off."""
        self._require({C.NEW, C.ASSESS, C.AUTHORIZE, C.SCHEDULED}, "cancel")
        actor = current_provenance().actor
        if self.state is C.SCHEDULED:
            if not actor.has_any(CHANGE_AUTHORITY):
                raise NotPermitted(
                    "an authorised change is called off only by the change authority",
                    rule="authorised-change-cancel",
                )
        elif actor.sub != self.requested_by and not actor.has_any(CHANGE_MANAGEMENT):
            raise NotPermitted(
                "a change is withdrawn by its requester or by change management",
                rule="not-your-change",
            )
        self._cancelled(reason)

    @event(Cancelled)
    def _cancelled(self, reason: str) -> None:
        self.state = C.CANCELLED
